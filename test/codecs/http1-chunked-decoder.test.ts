// Chunked request bodies (RFC 9112 §7.1): sizes, extensions, line ends, trailers and limits.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Http1RequestParser } from '../../src/codecs/http1-request-parser';
import type { ErrorCode } from '../../src/errors/error-codes';
import { assertProxyError } from '../fixtures/proxy-errors';
import { parseChunks, parseText, request, TEST_LIMITS } from './http1-request-fixtures';

const HEAD = request(['POST /v2/models/m/infer HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked']);

/** Parses a chunked POST whose encoded body is `encoded`. */
function chunked(encoded: string) {
  return parseText(HEAD + encoded);
}

/** Asserts that a chunked POST whose encoded body is `encoded` fails with `code`. */
function assertRefused(encoded: string, code: ErrorCode, pattern: RegExp) {
  assertProxyError(() => chunked(encoded), code, pattern);
}

test('joins the data of every chunk and ends after the last chunk', () => {
  const encoded = '5\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\n\r\n';
  const { head, body, ends, consumed } = chunked(encoded + 'GET / HTTP/1.1\r\n');

  assert.equal(head?.chunked, true);
  assert.equal(body.toString(), 'hello 0123456789');
  assert.equal(ends, 1);
  assert.equal(consumed, HEAD.length + encoded.length);
});

test('hands on chunk data as views of the pushed chunk', () => {
  const chunk = Buffer.from(HEAD + '3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n');
  const { bodyChunks } = parseChunks([chunk]);

  assert.deepEqual(
    bodyChunks.map((view) => [view.buffer === chunk.buffer, view.toString()]),
    [
      [true, 'abc'],
      [true, 'de'],
    ],
  );
});

test('reads upper- and lower-case hex sizes with leading zeros', () => {
  const data = 'x'.repeat(0x1f);
  assert.equal(chunked(`001F\r\n${data}\r\n0\r\n\r\n`).body.toString(), data);
  assert.equal(chunked(`1f\r\n${data}\r\n000\r\n\r\n`).ends, 1);
});

test('ignores chunk extensions, whitespace before them included', () => {
  const encoded = '3;name=value;flag\r\nabc\r\n2 \t; q="a b"\r\nde\r\n0;last\r\n\r\n';
  assert.equal(chunked(encoded).body.toString(), 'abcde');
});

test('accepts bare LF wherever CRLF is expected, as in the head', () => {
  const { body, ends } = chunked('3\nabc\n2;x\nde\r\n0\nX-T: 1\n\n');

  assert.equal(body.toString(), 'abcde');
  assert.equal(ends, 1);
});

test('refuses a bare CR in the chunk framing', () => {
  assertRefused('3\rabc\r\n0\r\n\r\n', 'ERR_HTTP_MALFORMED', /chunk size line holds a bare CR/);
  assertRefused('3;x\rabc\r\n0\r\n\r\n', 'ERR_HTTP_MALFORMED', /bare CR/);
  assertRefused('3\r\nabc\rx', 'ERR_HTTP_MALFORMED', /chunk data is followed by a bare CR/);
});

test('refuses chunk data not followed by a line end', () => {
  assertRefused('3\r\nabcd\r\n0\r\n\r\n', 'ERR_HTTP_MALFORMED', /not followed by a line end/);
});

test('refuses chunk sizes that are missing, not hex or followed by junk', () => {
  assertRefused('\r\nabc\r\n', 'ERR_HTTP_MALFORMED', /chunk size is not hexadecimal/);
  assertRefused('-3\r\nabc\r\n', 'ERR_HTTP_MALFORMED', /not hexadecimal/);
  assertRefused('3x\r\nabc\r\n', 'ERR_HTTP_MALFORMED', /not a hex digit/);
  assertRefused('3 \r\nabc\r\n', 'ERR_HTTP_MALFORMED', /whitespace without extension/);
  assertRefused('3;a\x00\r\nabc\r\n', 'ERR_HTTP_MALFORMED', /extension holds a control byte/);
});

test('refuses chunk sizes with more than 16 hex digits', () => {
  assertRefused(`${'0'.repeat(17)}\r\n\r\n`, 'ERR_HTTP_MALFORMED', /more than 16 hex digits/);
});

test('refuses a chunk that would take the body past maxBodyBytes, before its data', () => {
  const pattern = /chunked body exceeds the limit of 4096 bytes/;
  assertRefused('1001\r\n', 'ERR_BODY_TOO_LARGE', pattern);
  assertRefused('ffffffffffffffff', 'ERR_BODY_TOO_LARGE', pattern);
  const full = 'x'.repeat(4000);
  assert.equal(chunked(`fa0\r\n${full}\r\n60\r\n${'y'.repeat(96)}\r\n0\r\n\r\n`).ends, 1);
  assertRefused(`fa0\r\n${full}\r\n61\r\n`, 'ERR_BODY_TOO_LARGE', pattern);
});

test('bounds the chunk extensions of one body by maxHeaderBytes', () => {
  const extension = `;${'e'.repeat(99)}`;
  const chunks = Array.from({ length: 11 }, () => `1${extension}\r\nx\r\n`).join('');

  assertRefused(chunks, 'ERR_BODY_TOO_LARGE', /chunk extensions exceed the limit of 1024 bytes/);
  assert.equal(chunked(`${chunks.slice(0, 10 * 106)}0\r\n\r\n`).body.length, 10);
});

test('reads and discards a trailer section', () => {
  const { head, body, ends } = chunked('3\r\nabc\r\n0\r\nX-Checksum: 1\r\nX-B: 2\r\n\r\n');

  assert.equal(body.toString(), 'abc');
  assert.equal(ends, 1);
  assert.equal(head?.headers.length, 2);
});

test('refuses malformed trailer fields', () => {
  assertRefused('0\r\nX-A : 1\r\n\r\n', 'ERR_HTTP_MALFORMED', /trailer field 1 has whitespace/);
  assertRefused('0\r\n folded\r\n\r\n', 'ERR_HTTP_MALFORMED', /trailer field 1 starts with/);
  assertRefused('0\r\nX-A: 1\r\nX-B: \x00\r\n\r\n', 'ERR_HTTP_MALFORMED', /trailer field 2 value/);
});

test('bounds the trailer section by maxHeaderBytes and maxHeaderCount', () => {
  const long = `0\r\nX-Pad: ${'p'.repeat(1024)}\r\n\r\n`;
  assertRefused(long, 'ERR_HEADERS_TOO_LARGE', /trailer section is longer than the limit/);
  const many = `0\r\n${'X-T: 1\r\n'.repeat(17)}\r\n`;
  assertRefused(many, 'ERR_HEADERS_TOO_LARGE', /trailer section has more than 16 fields/);
});

test('decodes the next chunked request the same after reset', () => {
  const parser = new Http1RequestParser(TEST_LIMITS);
  const text = HEAD + '3;a\r\nabc\r\n0\r\nX-T: 1\r\n\r\n';
  const first = parseText(text, parser);

  parser.reset();
  const second = parseText(text, parser);

  assert.deepEqual(second, first);
});
