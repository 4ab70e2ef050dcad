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
  headSent = false;
  ended = false;

  constructor(private readonly socket: Socket) {}

  /** Sends the status line and headers; `framing` decides how the body follows. */
  writeHead(status: number, headers: readonly HeaderLine[], framing: BodyFraming): boolean {
    this.headSent = true;
    this.framing = framing;
    this.corkForTick();
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}${CRLF}`;
    for (const [name, value] of headers) head += `${name}: ${value}${CRLF}`;
    if (framing === 'chunked') head += `transfer-encoding: chunked${CRLF}`;
    return this.socket.write(head + CRLF, 'latin1');
  }

  /**
   * Writes body bytes; chunked framing wraps each write in one chunk. Writes made in the same
   * tick (several SSE events from one upstream read) leave in one system call: the socket is
   * corked until the tick ends.
   */
  write(chunk: Buffer): boolean {
    if (chunk.length === 0) return true;
    this.corkForTick();
    if (this.framing !== 'chunked') return this.socket.write(chunk);
    this.socket.write(`${chunk.length.toString(16)}${CRLF}`, 'latin1');
    this.socket.write(chunk);
    return this.socket.write(CRLF, 'latin1');
  }

  private corkForTick(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    process.nextTick(() => {
      this.corked = false;
      this.socket.uncork();
    });
  }

  /** Ends the body: the last chunk for chunked framing, nothing for a declared length. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.framing === 'chunked') this.socket.write(LAST_CHUNK);
  }

  /** Sends a whole response with a known body in one write. */
  writeComplete(status: number, headers: readonly HeaderLine[], body: Buffer): void {
    const lines: HeaderLine[] = [...headers, ['content-length', String(body.length)]];
    this.socket.cork();
    this.writeHead(status, lines, 'length');
    this.socket.write(body);
    this.socket.uncork();
    this.ended = true;
  }
}
