// Reads compressed gRPC messages (grpc-encoding) so the codec can inspect them; the frame
// itself is forwarded compressed, exactly as it arrived.

import { gunzipSync, inflateSync } from 'node:zlib';
import { ProxyError } from '../errors/proxy-error';

/** The message encodings infergate can read (gRPC over HTTP/2, "Message-Encoding"). */
const READABLE_ENCODINGS = new Set(['identity', 'gzip', 'deflate']);

/** Throws ERR_UNSUPPORTED_ENCODING for an encoding infergate cannot inspect. */
export function checkEncoding(encoding: string | undefined): void {
  if (encoding !== undefined && !READABLE_ENCODINGS.has(encoding)) {
    throw new ProxyError(
      'ERR_UNSUPPORTED_ENCODING',
      `grpc-encoding "${encoding}" is not supported`,
    );
  }
}

/**
 * Returns the plain payload of a frame's message. A compressed flag without a grpc-encoding is
 * a protocol error; decompression is bounded by `maxMessageBytes` so a small compressed message
 * cannot expand into an unbounded buffer.
 */
export function readPayload(
  frame: Buffer,
  compressed: boolean,
  encoding: string | undefined,
  maxMessageBytes: number,
): Buffer {
  const payload = frame.subarray(5);
  if (!compressed) return payload;
  if (encoding === undefined || encoding === 'identity') {
    throw new ProxyError('ERR_MALFORMED_MESSAGE', 'compressed message without a grpc-encoding');
  }
  checkEncoding(encoding);

  const options = { maxOutputLength: maxMessageBytes };
  try {
    return encoding === 'gzip' ? gunzipSync(payload, options) : inflateSync(payload, options);
  } catch (err) {
    const tooLarge = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    throw tooLarge
      ? new ProxyError(
          'ERR_MESSAGE_TOO_LARGE',
          `decompressed message exceeds ${maxMessageBytes} bytes`,
        )
      : new ProxyError('ERR_MALFORMED_MESSAGE', `message is not valid ${encoding} data`, {
          cause: err,
        });
  }
}
