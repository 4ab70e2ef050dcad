// Drives an Http1RequestParser over chunks and records what its sink saw, in order.

import assert from 'node:assert/strict';
import {
  type Http1Limits,
  Http1RequestParser,
  type Http1RequestHead,
} from '../../src/codecs/http1-request-parser';

/** Small limits, so tests can cross them with short inputs. */
export const TEST_LIMITS: Http1Limits = {
  maxHeaderBytes: 1024,
  maxHeaderCount: 16,
  maxBodyBytes: 4096,
};

/** What the sink saw for one request, and how many bytes the parser consumed in all. */
export interface ParsedRequest {
  readonly head: Http1RequestHead | undefined;
  readonly bodyChunks: readonly Buffer[];
  readonly body: Buffer;
  readonly ends: number;
  readonly consumed: number;
}

/**
 * Pushes `chunks` in order into `parser` and records the sink calls, asserting their order
 * (onHead, onBody*, onEnd, nothing after) and that no body chunk is empty.
 */
export function parseChunks(
  chunks: readonly Buffer[],
  parser = new Http1RequestParser(TEST_LIMITS),
): ParsedRequest {
  let head: Http1RequestHead | undefined;
  const bodyChunks: Buffer[] = [];
  let ends = 0;
  const sink = {
    onHead: (value: Http1RequestHead) => {
      assert.equal(head, undefined, 'onHead called twice');
      head = value;
    },
    onBody: (chunk: Buffer) => {
      assert.ok(head !== undefined && ends === 0 && chunk.length > 0, 'onBody out of order');
      bodyChunks.push(chunk);
    },
    onEnd: () => {
      assert.ok(head !== undefined && ends === 0, 'onEnd out of order');
      ends++;
    },
  };
  let consumed = 0;
  for (const chunk of chunks) consumed += parser.push(chunk, sink);
  return { head, bodyChunks, body: Buffer.concat(bodyChunks), ends, consumed };
}

/** Parses `text` (read as latin1) pushed whole. */
export function parseText(text: string, parser?: Http1RequestParser): ParsedRequest {
  return parseChunks([Buffer.from(text, 'latin1')], parser);
}

/** A request from its head lines, joined with CRLF and ended by an empty line, then `body`. */
export function request(lines: readonly string[], body = ''): string {
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** `bytes` cut into pieces of `size` bytes (the last may be shorter), each a fresh copy. */
export function splitEvery(bytes: Buffer, size: number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) {
    pieces.push(Buffer.from(bytes.subarray(at, at + size)));
  }
  return pieces;
}
