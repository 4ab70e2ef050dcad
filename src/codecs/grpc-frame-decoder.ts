// Splits an HTTP/2 DATA byte stream into gRPC length-prefixed messages (gRPC over HTTP/2,
// "Length-Prefixed-Message": 1 flag byte, 4-byte big-endian length, then the message).

import { ProxyError } from '../errors/proxy-error';

/** Bytes before each message: the compressed flag and the length. */
export const GRPC_PREFIX_BYTES = 5;

/** Called once per complete message; `frame` includes the 5-byte prefix. */
export type FrameSink = (frame: Buffer, compressed: boolean) => void;

/**
 * Reassembles messages across DATA frames. A message that arrives inside one chunk is handed
 * on as a view of that chunk, so bytes travel as they arrived without a copy; only a message
 * split across chunks is copied once into a buffer of its exact size.
 */
export class GrpcFrameDecoder {
  /** Holds a prefix split across chunks; allocated the first time one is. */
  private header: Buffer | undefined;
  private headerFill = 0;
  private partial: Buffer | undefined;
  private partialFill = 0;

  constructor(private readonly maxMessageBytes: number) {}

  /** True while a message has started but not finished: the stream must not end here. */
  get midMessage(): boolean {
    return this.headerFill > 0 || this.partial !== undefined;
  }

  /**
   * Feeds one chunk. Throws ProxyError ERR_MESSAGE_TOO_LARGE for a length above the limit and
   * ERR_MALFORMED_MESSAGE for a flag byte other than 0 or 1; the stream is unusable after.
   */
  push(chunk: Buffer, sink: FrameSink): void {
    let offset = 0;
    if (this.midMessage) offset = this.continuePartial(chunk, sink);
    while (offset < chunk.length) {
      const remaining = chunk.length - offset;
      if (remaining < GRPC_PREFIX_BYTES) return this.startHeader(chunk, offset);
      const length = this.checkPrefix(chunk, offset);
      const end = offset + GRPC_PREFIX_BYTES + length;
      if (end > chunk.length) return this.startPartial(chunk, offset, end - offset);
      sink(chunk.subarray(offset, end), chunk[offset] === 1);
      offset = end;
    }
  }

  private checkPrefix(bytes: Buffer, offset: number): number {
    const flag = bytes[offset]!;
    if (flag > 1) {
      throw new ProxyError('ERR_MALFORMED_MESSAGE', `gRPC message flag ${flag} is neither 0 nor 1`);
    }
    const length = bytes.readUInt32BE(offset + 1);
    if (length > this.maxMessageBytes) {
      throw new ProxyError(
        'ERR_MESSAGE_TOO_LARGE',
        `message of ${length} bytes exceeds the limit of ${this.maxMessageBytes} bytes`,
      );
    }
    return length;
  }

  private startHeader(chunk: Buffer, offset: number): void {
    this.header ??= Buffer.allocUnsafe(GRPC_PREFIX_BYTES);
    this.headerFill = chunk.copy(this.header, 0, offset);
  }

  private startPartial(chunk: Buffer, offset: number, frameLength: number): void {
    this.partial = Buffer.allocUnsafe(frameLength);
    this.partialFill = chunk.copy(this.partial, 0, offset);
  }

  /** Completes a header or message begun in earlier chunks; returns the offset consumed. */
  private continuePartial(chunk: Buffer, sink: FrameSink): number {
    let offset = 0;
    if (this.partial === undefined) {
      const header = this.header!;
      offset = chunk.copy(header, this.headerFill, 0, GRPC_PREFIX_BYTES - this.headerFill);
      this.headerFill += offset;
      if (this.headerFill < GRPC_PREFIX_BYTES) return offset;
      const length = this.checkPrefix(header, 0);
      this.headerFill = 0;
      this.partial = Buffer.allocUnsafe(GRPC_PREFIX_BYTES + length);
      this.partialFill = header.copy(this.partial);
    }

    const copied = chunk.copy(this.partial, this.partialFill, offset);
    this.partialFill += copied;
    if (this.partialFill < this.partial.length) return chunk.length;
    const frame = this.partial;
    this.partial = undefined;
    sink(frame, frame[0] === 1);
    return offset + copied;
  }
}

/** Frames one message: prefix plus payload, in a new buffer. */
export function encodeGrpcFrame(payload: Buffer, compressed = false): Buffer {
  const frame = Buffer.allocUnsafe(GRPC_PREFIX_BYTES + payload.length);
  frame[0] = compressed ? 1 : 0;
  frame.writeUInt32BE(payload.length, 1);
  payload.copy(frame, GRPC_PREFIX_BYTES);
  return frame;
}
