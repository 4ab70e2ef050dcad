// Reads the head of an HTTP/1.x request (RFC 9112 §2-§5) from chunks, within the listener limits.

import { ProxyError } from '../errors/proxy-error';
import { type FieldLineBounds, scanFieldLine } from './http1-field-line';
import { Http1LineSplitter } from './http1-line-splitter';
import { readFraming } from './http1-message-framing';
import { type Http1RequestLine, parseRequestLine } from './http1-request-line';
import { hasUpperCase } from './http1-syntax';

/** What one HTTP/1.1 listener accepts; all counts are positive integers. */
export interface Http1Limits {
  /** Bytes of request line, header fields and line ends; also the bound of a trailer section. */
  readonly maxHeaderBytes: number;
  /** Header fields in a head, and trailer fields in a trailer section. */
  readonly maxHeaderCount: number;
  /** Bytes of the body after de-chunking. */
  readonly maxBodyBytes: number;
}

/** A header or trailer field: name in lower case, value trimmed of OWS and read as latin1. */
export type Http1Field = readonly [name: string, value: string];

/** A parsed and checked request head; its framing is unambiguous by construction. */
export interface Http1RequestHead {
  /** As sent: methods are case-sensitive (RFC 9110 §9.1). Never CONNECT. */
  readonly method: string;
  /** The request-target: origin-form, absolute-form (http, https) or `*` for OPTIONS. */
  readonly target: string;
  /** The target's path without the query; `*` for asterisk-form. */
  readonly path: string;
  readonly version: '1.0' | '1.1';
  /** In arrival order, duplicates kept. */
  readonly headers: readonly Http1Field[];
  /** Set when the body is delimited by Content-Length; never together with `chunked`. */
  readonly contentLength: number | undefined;
  readonly chunked: boolean;
  /** Whether the connection may carry another request after this one (RFC 9112 §9.3). */
  readonly keepAlive: boolean;
  /** An HTTP/1.1 `Expect: 100-continue` (RFC 9110 §10.1.1). */
  readonly expectContinue: boolean;
  /** Bytes consumed before the body: empty lines ignored before the request line included. */
  readonly headBytes: number;
}

/** The value of the first field named `name` (lower case), or undefined. */
export function findHeader(head: Http1RequestHead, name: string): string | undefined {
  for (const field of head.headers) if (field[0] === name) return field[1];
  return undefined;
}

/**
 * Reads one request head line by line as chunks arrive, holding only a line split across
 * chunks. Throws ERR_HEADERS_TOO_LARGE as soon as the head passes `maxHeaderBytes` or
 * `maxHeaderCount`, and whatever `parseRequestLine`, `scanFieldLine` and `readFraming` raise.
 */
export class Http1HeadReader {
  private readonly lines: Http1LineSplitter;
  private readonly bounds: FieldLineBounds = { nameEnd: 0, valueStart: 0, valueEnd: 0 };
  private requestLine: Http1RequestLine | undefined;
  private headers: Http1Field[] = [];

  constructor(private readonly limits: Http1Limits) {
    this.lines = new Http1LineSplitter(limits.maxHeaderBytes, 'request head');
  }

  /** Forgets the head read so far, to read the next request's. */
  reset(): void {
    this.lines.reset();
    this.requestLine = undefined;
    this.headers = [];
  }

  /**
   * Reads from `chunk` at `offset`. Returns the offset just past the empty line that ends the
   * head, after which `head()` may be called; or -1 when the chunk ended first and was taken.
   */
  read(chunk: Buffer, offset: number): number {
    for (;;) {
      const next = this.lines.next(chunk, offset);
      if (next === -1) return -1;
      offset = next;
      if (this.takeLine()) return offset;
    }
  }

  /** The head just read, framing checked; call once per successful `read`. */
  head(): Http1RequestHead {
    const { method, target, path, version } = this.requestLine!;
    const framing = readFraming(this.headers, version, this.limits.maxBodyBytes);
    return {
      method,
      target,
      path,
      version,
      headers: this.headers,
      contentLength: framing.contentLength,
      chunked: framing.chunked,
      keepAlive: framing.keepAlive,
      expectContinue: framing.expectContinue,
      headBytes: this.lines.consumed,
    };
  }

  /** Takes the line the splitter found; returns true for the empty line that ends the head. */
  private takeLine(): boolean {
    const { line, lineStart, lineEnd } = this.lines;
    if (this.requestLine === undefined) {
      // RFC 9112 §2.2: empty lines before the request line are ignored (the head limit bounds
      // how many).
      if (lineStart !== lineEnd) this.requestLine = parseRequestLine(line, lineStart, lineEnd);
      return false;
    }
    if (lineStart === lineEnd) return true;
    this.addField(line, lineStart, lineEnd);
    return false;
  }

  private addField(line: Buffer, start: number, end: number): void {
    const index = this.headers.length + 1;
    if (index > this.limits.maxHeaderCount) {
      throw new ProxyError(
        'ERR_HEADERS_TOO_LARGE',
        `request head has more than ${this.limits.maxHeaderCount} header fields`,
      );
    }
    const bounds = this.bounds;
    scanFieldLine(line, start, end, 'header', index, bounds);

    const raw = line.toString('latin1', start, bounds.nameEnd);
    const name = hasUpperCase(line, start, bounds.nameEnd) ? raw.toLowerCase() : raw;
    this.headers.push([name, line.toString('latin1', bounds.valueStart, bounds.valueEnd)]);
  }
}
