// Incremental HTTP/1.x request parser for the HTTP/1.1 listener: one request at a time, any split.

import { type Http1BodySink, Http1ChunkedDecoder } from './http1-chunked-decoder';
import { Http1HeadReader, type Http1Limits, type Http1RequestHead } from './http1-request-head';

export { findHeader } from './http1-request-head';
export type { Http1Field, Http1Limits, Http1RequestHead } from './http1-request-head';

/** Receives one request as the parser reads it, in the order onHead, onBody*, onEnd. */
export interface Http1RequestSink extends Http1BodySink {
  /** Called once, when the head is complete and its framing checked. */
  onHead(head: Http1RequestHead): void;
  /**
   * Called for each run of body bytes, de-chunked; never with an empty buffer. Each is a view of
   * the chunk passed to `push`, never a copy: keep it only as long as that chunk may be kept.
   */
  onBody(chunk: Buffer): void;
  /** Called once, when the request is complete: body and trailers read, or no body at all. */
  onEnd(): void;
}

/** Where the parser is in the current request. */
export type Http1ParserState = 'head' | 'body' | 'done';

/**
 * Parses the requests of one connection, one at a time: `push` reads at most one request and
 * leaves the bytes after it to the caller (the listener refuses pipelining), `reset` readies
 * the parser for the next request on a kept-alive connection.
 *
 * Splitting the input differently changes only where body bytes are cut between `onBody` calls,
 * never the head, the bytes, the bytes consumed or the error raised. Bad input throws a
 * ProxyError (see `Http1HeadReader`, `readFraming` and `Http1ChunkedDecoder` for the codes),
 * after which the connection cannot be resynchronised: every later `push` throws the same error,
 * and `reset` does not clear it.
 */
export class Http1RequestParser {
  private phase: Http1ParserState = 'head';
  private failure: unknown;
  private readonly headReader: Http1HeadReader;
  private readonly chunkedDecoder: Http1ChunkedDecoder;
  private chunked = false;
  /** Content-Length bytes still to read. */
  private remaining = 0;

  constructor(limits: Http1Limits) {
    this.headReader = new Http1HeadReader(limits);
    this.chunkedDecoder = new Http1ChunkedDecoder(limits);
  }

  /** Where the current request stands; `done` once `onEnd` has been called. */
  get state(): Http1ParserState {
    return this.phase;
  }

  /**
   * Reads bytes of the current request from `chunk`, calling `sink` as parts complete. Returns
   * how many bytes were consumed: all of `chunk` unless the request ended inside it; 0 once
   * `state` is `done`.
   */
  push(chunk: Buffer, sink: Http1RequestSink): number {
    if (this.failure !== undefined) throw this.failure;
    try {
      return this.consume(chunk, sink);
    } catch (err) {
      this.failure = err;
      throw err;
    }
  }

  /** Discards the current request, finished or not, to read the next one. */
  reset(): void {
    this.phase = 'head';
    this.chunked = false;
    this.remaining = 0;
    this.headReader.reset();
    this.chunkedDecoder.reset();
  }

  private consume(chunk: Buffer, sink: Http1RequestSink): number {
    let offset = 0;
    if (this.phase === 'head') {
      offset = this.headReader.read(chunk, 0);
      if (offset === -1) return chunk.length;
      this.startBody(this.headReader.head(), sink);
    }
    if (this.phase === 'body') offset = this.readBody(chunk, offset, sink);
    return offset;
  }

  /** RFC 9112 §6.3: a request has no body unless it is chunked or has a Content-Length. */
  private startBody(head: Http1RequestHead, sink: Http1RequestSink): void {
    this.chunked = head.chunked;
    this.remaining = head.contentLength ?? 0;
    this.phase = 'body';
    sink.onHead(head);
    if (!this.chunked && this.remaining === 0) this.finish(sink);
  }

  private readBody(chunk: Buffer, offset: number, sink: Http1RequestSink): number {
    if (this.chunked) {
      offset = this.chunkedDecoder.push(chunk, offset, sink);
      if (this.chunkedDecoder.done) this.finish(sink);
      return offset;
    }

    const end = Math.min(chunk.length, offset + this.remaining);
    if (end > offset) sink.onBody(chunk.subarray(offset, end));
    this.remaining -= end - offset;
    if (this.remaining === 0) this.finish(sink);
    return end;
  }

  private finish(sink: Http1RequestSink): void {
    this.phase = 'done';
    sink.onEnd();
  }
}
