// Writes one HTTP/1.1 response onto a client socket: status line, headers, framed body.

import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

/** How the body is delimited (RFC 9112 §6.3). */
export type BodyFraming = 'length' | 'chunked' | 'close';

/** One header line to send; values are already validated by whoever produced them. */
export type HeaderLine = readonly [name: string, value: string];

const CRLF = '\r\n';
const LAST_CHUNK = Buffer.from('0\r\n\r\n');

/**
 * A response in progress. Body chunks are written as they come, in chunked framing unless a
 * length was declared; `write` returns false when the socket's buffer is full, and the caller
 * waits for the socket's 'drain' before writing more.
 */
export class HttpResponseWriter {
  private framing: BodyFraming = 'length';
  private corked = false;
  /** Body bytes written in this tick, not yet handed to the socket. */
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  /**
   * The last views written in this tick that lie next to each other in memory: the first of
   * them, and the length of them all. They become one buffer when the run ends, not one per
   * view.
   */
  private runFirst: Buffer | undefined;
  private runLength = 0;
  /** The body length the head declared, and the body bytes written so far. */
  private declaredLength: number | undefined;
  private bodyBytes = 0;
  headSent = false;
  ended = false;

  constructor(private readonly socket: Socket) {}

  /**
   * Sends the status line and headers; `framing` decides how the body follows, and
   * `declaredLength` is the `content-length` among `headers` when the framing is `length`.
   */
  writeHead(
    status: number,
    headers: readonly HeaderLine[],
    framing: BodyFraming,
    declaredLength?: number,
  ): boolean {
    this.headSent = true;
    this.framing = framing;
    this.declaredLength = framing === 'length' ? declaredLength : undefined;
    this.corkForTick();
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}${CRLF}`;
    for (const [name, value] of headers) head += `${name}: ${value}${CRLF}`;
    if (framing === 'chunked') head += `transfer-encoding: chunked${CRLF}`;
    return this.socket.write(head + CRLF, 'latin1');
  }

  /**
   * Writes body bytes; returns false when the socket's buffer is full. Bytes written in the same
   * tick (several SSE events from one upstream read) leave together at the end of the tick, in
   * one chunk of chunked framing and one system call, and views that lie next to each other in
   * memory (events cut from one upstream read and passed on unchanged) as one buffer.
   */
  write(chunk: Buffer): boolean {
    if (chunk.length === 0) return true;
    this.corkForTick();
    const first = this.runFirst;
    if (first !== undefined && continues(first, this.runLength, chunk)) {
      this.runLength += chunk.length;
    } else {
      this.endRun();
      this.runFirst = chunk;
      this.runLength = chunk.length;
    }
    this.pendingBytes += chunk.length;
    this.bodyBytes += chunk.length;
    return this.socket.writableLength + this.pendingBytes < this.socket.writableHighWaterMark;
  }

  /** Moves the run of adjoining views into `pending` as one buffer. */
  private endRun(): void {
    const first = this.runFirst;
    if (first === undefined) return;
    const length = this.runLength;
    this.pending.push(
      length === first.length ? first : Buffer.from(first.buffer, first.byteOffset, length),
    );
    this.runFirst = undefined;
    this.runLength = 0;
  }

  /** Writes what this tick gathered, framed as one chunk when the framing is chunked. */
  private flush(): void {
    if (this.pendingBytes === 0) return;
    this.endRun();
    if (this.socket.destroyed) {
      // The client went away during the tick: nobody will read these bytes.
      this.pending.length = 0;
      this.pendingBytes = 0;
      return;
    }
    const chunked = this.framing === 'chunked';
    if (chunked) this.socket.write(`${this.pendingBytes.toString(16)}${CRLF}`, 'latin1');
    for (const chunk of this.pending) this.socket.write(chunk);
    if (chunked) this.socket.write(CRLF, 'latin1');
    this.pending.length = 0;
    this.pendingBytes = 0;
  }

  private corkForTick(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    process.nextTick(() => {
      this.flush();
      this.corked = false;
      this.socket.uncork();
    });
  }

  /**
   * True once the client has been sent the whole response: it ended, or every byte of a
   * declared length is written. A client may close as soon as it has those, before `end`.
   */
  get complete(): boolean {
    return (
      this.ended || (this.declaredLength !== undefined && this.bodyBytes >= this.declaredLength)
    );
  }

  /** Ends the body: the last chunk for chunked framing, nothing for a declared length. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.flush();
    if (this.framing === 'chunked') this.socket.write(LAST_CHUNK);
  }

  /** Sends a whole response with a known body in one write. */
  writeComplete(status: number, headers: readonly HeaderLine[], body: Buffer): void {
    const lines: HeaderLine[] = [...headers, ['content-length', String(body.length)]];
    this.socket.cork();
    this.writeHead(status, lines, 'length', body.length);
    this.socket.write(body);
    this.socket.uncork();
    this.ended = true;
  }
}

/** Whether `next` starts in memory where the `length` bytes from `first` end. */
function continues(first: Buffer, length: number, next: Buffer): boolean {
  return first.buffer === next.buffer && first.byteOffset + length === next.byteOffset;
}
