// Decodes the chunked transfer coding of an HTTP/1.1 request body (RFC 9112 §7.1).

import { ProxyError } from '../errors/proxy-error';
import { type FieldLineBounds, scanFieldLine } from './http1-field-line';
import { Http1LineSplitter } from './http1-line-splitter';
import type { Http1Limits } from './http1-request-head';
import { CR, FIELD_VALUE_BYTES, isOws, LF } from './http1-syntax';

/** Receives body bytes as views of the chunks they arrived in. */
export interface Http1BodySink {
  onBody(chunk: Buffer): void;
}

/**
 * Where the decoder is: in a chunk-size line (`size`, then `size-ows` for whitespace before an
 * extension, `extension`, `size-lf` after its CR), in chunk data, after it (`data-cr`,
 * `data-lf`), in the trailer section, or past the end of the body.
 */
type ChunkedState =
  | 'size'
  | 'size-ows'
  | 'extension'
  | 'size-lf'
  | 'data'
  | 'data-cr'
  | 'data-lf'
  | 'trailers'
  | 'done';

/** Hex digits allowed in a chunk size, leading zeros included: 16 cover any safe integer. */
const MAX_CHUNK_SIZE_DIGITS = 16;
const SEMICOLON = 0x3b;

/**
 * Turns a chunked body back into its data, handed on as views of the input. Bare LF is accepted
 * wherever CRLF is expected, as in the head (RFC 9112 §2.2); a bare CR is refused.
 *
 * Limits: the body never exceeds `maxBodyBytes` (ERR_BODY_TOO_LARGE, raised from the chunk size
 * before its data arrives); chunk extensions, which are ignored, may total `maxHeaderBytes` per
 * body (ERR_BODY_TOO_LARGE), so tiny chunks with long extensions cannot stretch a body without
 * bound; the trailer section is checked like a header section, bounded by `maxHeaderBytes` and
 * `maxHeaderCount` (ERR_HEADERS_TOO_LARGE), then discarded. Syntax errors: ERR_HTTP_MALFORMED.
 */
export class Http1ChunkedDecoder {
  private state: ChunkedState = 'size';
  private sizeDigits = 0;
  /** The size of the current chunk while reading its size line, then the data bytes left. */
  private size = 0;
  private bodyBytes = 0;
  private extensionBytes = 0;
  private trailerCount = 0;
  private readonly trailers: Http1LineSplitter;
  private readonly bounds: FieldLineBounds = { nameEnd: 0, valueStart: 0, valueEnd: 0 };

  constructor(private readonly limits: Http1Limits) {
    this.trailers = new Http1LineSplitter(limits.maxHeaderBytes, 'trailer section');
  }

  /** True once the last chunk and the trailer section have been read. */
  get done(): boolean {
    return this.state === 'done';
  }

  /** Forgets the body decoded so far, to decode the next request's. */
  reset(): void {
    this.state = 'size';
    this.sizeDigits = 0;
    this.size = 0;
    this.bodyBytes = 0;
    this.extensionBytes = 0;
    this.trailerCount = 0;
    this.trailers.reset();
  }

  /** Decodes `chunk` from `offset`; returns the offset just past the last byte of the body read. */
  push(chunk: Buffer, offset: number, sink: Http1BodySink): number {
    while (offset < chunk.length && this.state !== 'done') {
      if (this.state === 'data') offset = this.readData(chunk, offset, sink);
      else if (this.state === 'trailers') offset = this.readTrailer(chunk, offset);
      else this.step(chunk[offset++]!);
    }
    return offset;
  }

  private readData(chunk: Buffer, offset: number, sink: Http1BodySink): number {
    const end = Math.min(chunk.length, offset + this.size);
    sink.onBody(chunk.subarray(offset, end));
    this.size -= end - offset;
    if (this.size === 0) this.state = 'data-cr';
    return end;
  }

  /** Takes one byte of the framing around chunk data. */
  private step(byte: number): void {
    switch (this.state) {
      case 'size':
        return this.stepSize(byte);
      case 'size-ows':
        if (byte === SEMICOLON) this.state = 'extension';
        else if (!isOws(byte)) malformed('chunk size is followed by whitespace without extension');
        return this.countExtension();
      case 'extension':
        return this.stepExtension(byte);
      case 'size-lf':
        if (byte !== LF) malformed('chunk size line holds a bare CR');
        return this.endSizeLine();
      case 'data-cr':
        if (byte === LF) this.state = 'size';
        else if (byte === CR) this.state = 'data-lf';
        else malformed('chunk data is not followed by a line end');
        return;
      case 'data-lf':
        if (byte !== LF) malformed('chunk data is followed by a bare CR');
        this.state = 'size';
    }
  }

  private stepSize(byte: number): void {
    const digit = hexValue(byte);
    if (digit !== -1) return this.addDigit(digit);
    if (this.sizeDigits === 0) malformed('chunk size is not hexadecimal');

    if (byte === CR) this.state = 'size-lf';
    else if (byte === LF) this.endSizeLine();
    else if (byte === SEMICOLON || isOws(byte)) this.enterExtension(byte);
    else malformed('chunk size is followed by a byte that is not a hex digit');
  }

  private addDigit(digit: number): void {
    if (++this.sizeDigits > MAX_CHUNK_SIZE_DIGITS) {
      malformed(`chunk size has more than ${MAX_CHUNK_SIZE_DIGITS} hex digits`);
    }
    this.size = this.size * 16 + digit;
    // Checked digit by digit, so the size stays small and exact (below 16 × maxBodyBytes).
    if (this.bodyBytes + this.size > this.limits.maxBodyBytes) {
      throw new ProxyError(
        'ERR_BODY_TOO_LARGE',
        `chunked body exceeds the limit of ${this.limits.maxBodyBytes} bytes`,
      );
    }
  }

  /** RFC 9112 §7.1.1: `chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )`. */
  private enterExtension(byte: number): void {
    this.state = byte === SEMICOLON ? 'extension' : 'size-ows';
    this.countExtension();
  }

  private stepExtension(byte: number): void {
    if (byte === CR) this.state = 'size-lf';
    else if (byte === LF) this.endSizeLine();
    else if (FIELD_VALUE_BYTES[byte] === 0) malformed('chunk extension holds a control byte');
    else this.countExtension();
  }

  private countExtension(): void {
    if (++this.extensionBytes > this.limits.maxHeaderBytes) {
      throw new ProxyError(
        'ERR_BODY_TOO_LARGE',
        `chunk extensions exceed the limit of ${this.limits.maxHeaderBytes} bytes`,
      );
    }
  }

  private endSizeLine(): void {
    this.sizeDigits = 0;
    if (this.size === 0) {
      this.state = 'trailers';
      return;
    }
    this.bodyBytes += this.size;
    this.state = 'data';
  }

  /** Checks one trailer line (RFC 9112 §7.1.2); the empty line ends the body. */
  private readTrailer(chunk: Buffer, offset: number): number {
    const next = this.trailers.next(chunk, offset);
    if (next === -1) return chunk.length;
    const { line, lineStart, lineEnd } = this.trailers;
    if (lineStart === lineEnd) {
      this.state = 'done';
      return next;
    }

    if (++this.trailerCount > this.limits.maxHeaderCount) {
      throw new ProxyError(
        'ERR_HEADERS_TOO_LARGE',
        `trailer section has more than ${this.limits.maxHeaderCount} fields`,
      );
    }
    scanFieldLine(line, lineStart, lineEnd, 'trailer', this.trailerCount, this.bounds);
    return next;
  }
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

function malformed(message: string): never {
  throw new ProxyError('ERR_HTTP_MALFORMED', message);
}
