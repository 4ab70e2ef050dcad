// Message framing (RFC 9112 §6, §9.3): smuggling defences, Host, keep-alive and Expect.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ErrorCode } from '../../src/errors/error-codes';
import { assertProxyError } from '../fixtures/proxy-errors';
import { parseText, request } from './http1-request-fixtures';

/** Parses a 1.1 POST with a Host and `fields`, then `body`; returns what the sink saw. */
function post(fields: readonly string[], body = '') {
  return parseText(request(['POST / HTTP/1.1', 'Host: a', ...fields], body));
}

/** Asserts that a 1.1 POST with a Host and `fields` fails with `code`. */
function assertRefused(code: ErrorCode, pattern: RegExp, ...fields: string[]) {
  assertProxyError(() => post(fields), code, pattern);
}

test('refuses Transfer-Encoding together with Content-Length, whatever the length', () => {
  const pattern = /transfer-encoding sent with content-length/;
  assertRefused('ERR_HTTP_FRAMING', pattern, 'Transfer-Encoding: chunked', 'Content-Length: 5000');
  assertRefused('ERR_HTTP_FRAMING', pattern, 'Content-Length: 5', 'Transfer-Encoding: chunked');
  assertRefused('ERR_HTTP_FRAMING', pattern, 'Transfer-Encoding: chunked', 'Content-Length: 0');
});

test('refuses Transfer-Encoding whose final coding is not chunked', () => {
  const pattern = /transfer-encoding does not end in chunked/;
  assertRefused('ERR_HTTP_FRAMING', pattern, 'Transfer-Encoding: gzip');
  assertRefused('ERR_HTTP_FRAMING', pattern, 'Transfer-Encoding: chunked, gzip');
  assertRefused('ERR_HTTP_FRAMING', pattern, 'Transfer-Encoding: chunked', 'Transfer-Encoding: x');
  assertRefused('ERR_HTTP_FRAMING', pattern, 'Transfer-Encoding: ,');
  assertRefused('ERR_HTTP_FRAMING', pattern, 'Transfer-Encoding: chunked;ext=1');
});

test('refuses transfer codings other than chunked with ERR_TRANSFER_ENCODING', () => {
  const pattern = /transfer codings other than chunked are not supported/;
  assertRefused('ERR_TRANSFER_ENCODING', pattern, 'Transfer-Encoding: gzip, chunked');
  assertRefused(
    'ERR_TRANSFER_ENCODING',
    pattern,
    'Transfer-Encoding: identity',
    'Transfer-Encoding: chunked',
  );
});

test('refuses chunked applied twice', () => {
  const pattern = /applies chunked more than once/;
  assertRefused('ERR_HTTP_FRAMING', pattern, 'Transfer-Encoding: chunked, chunked');
  assertRefused(
    'ERR_HTTP_FRAMING',
    pattern,
    'Transfer-Encoding: chunked',
    'Transfer-Encoding: chunked',
  );
});

test('reads chunked case-insensitively and ignores empty list members', () => {
  const { head, body } = post(['Transfer-Encoding: , Chunked'], '3\r\nabc\r\n0\r\n\r\n');

  assert.equal(head?.chunked, true);
  assert.equal(head?.contentLength, undefined);
  assert.equal(body.toString(), 'abc');
});

test('refuses Transfer-Encoding in an HTTP/1.0 request', () => {
  assertProxyError(
    () => parseText(request(['POST / HTTP/1.0', 'Transfer-Encoding: chunked'], '0\r\n\r\n')),
    'ERR_HTTP_FRAMING',
    /not allowed in an HTTP\/1.0 request/,
  );
});

test('accepts repeated or listed Content-Length values only when all are identical', () => {
  assert.equal(post(['Content-Length: 3, 3', 'Content-Length: 3'], 'abc').head?.contentLength, 3);
  const disagree = /content-length values disagree/;
  assertRefused('ERR_HTTP_FRAMING', disagree, 'Content-Length: 3', 'Content-Length: 4');
  assertRefused('ERR_HTTP_FRAMING', disagree, 'Content-Length: 3, 4');
  assertRefused('ERR_HTTP_FRAMING', disagree, 'Content-Length: 3', 'Content-Length: 03');
});

test('refuses a Content-Length that is not all digits', () => {
  const pattern = /content-length is not a decimal number/;
  for (const value of ['', '+3', '-1', '0x3', '3 3', '3.0', '3,', '1e3', '\xb3']) {
    assertRefused('ERR_HTTP_FRAMING', pattern, `Content-Length: ${value}`);
  }
});

test('refuses a Content-Length too large to represent exactly', () => {
  const pattern = /content-length of 17 digits is too large to represent/;
  assertRefused('ERR_HTTP_FRAMING', pattern, 'Content-Length: 00000000000000003');
  assertRefused('ERR_HTTP_FRAMING', /too large/, 'Content-Length: 9007199254740993');
});

test('reads a body of exactly Content-Length bytes', () => {
  const { head, body, consumed } = post(['Content-Length: 3'], 'abcdef');

  assert.equal(head?.contentLength, 3);
  assert.equal(body.toString(), 'abc');
  assert.equal(consumed, head!.headBytes + 3);
});

test('requires exactly one valid Host in HTTP/1.1', () => {
  assertProxyError(
    () => parseText(request(['GET / HTTP/1.1'])),
    'ERR_HTTP_FRAMING',
    /host header is missing/,
  );
  assertRefused('ERR_HTTP_FRAMING', /host header appears 2 times/, 'Host: b');
  for (const host of ['a b', 'a/b', 'a@b', '[::1', 'a:8x', '\xe9']) {
    assertProxyError(
      () => parseText(request(['GET / HTTP/1.1', `Host: ${host}`])),
      'ERR_HTTP_FRAMING',
      /host header is not a valid host/,
    );
  }
});

test('accepts names, IP literals, ports and an empty Host', () => {
  for (const host of ['gw.example:8080', '[::1]:443', '10.0.0.1', 'a:', '']) {
    assert.equal(parseText(request(['GET / HTTP/1.1', `Host: ${host}`])).ends, 1, host);
  }
  assertProxyError(
    () => parseText(request(['GET / HTTP/1.0', 'Host: a', 'Host: b'])),
    'ERR_HTTP_FRAMING',
    /appears 2 times/,
  );
});

test('keeps 1.1 connections alive unless closed, and 1.0 ones only when asked', () => {
  const keepAlive = (version: string, ...fields: string[]) =>
    parseText(request([`GET / HTTP/${version}`, 'Host: a', ...fields])).head?.keepAlive;

  assert.equal(keepAlive('1.1'), true);
  assert.equal(keepAlive('1.1', 'Connection: Upgrade, CLOSE'), false);
  assert.equal(keepAlive('1.1', 'Connection: keep-alive', 'Connection: close'), false);
  assert.equal(keepAlive('1.0'), false);
  assert.equal(keepAlive('1.0', 'Connection: Keep-Alive'), true);
  assert.equal(keepAlive('1.0', 'Connection: keep-alive, close'), false);
  assert.equal(keepAlive('1.1', 'Connection: closed'), true);
});

test('reports Expect: 100-continue in HTTP/1.1 only', () => {
  const expects = (version: string, ...fields: string[]) =>
    parseText(request([`POST / HTTP/${version}`, 'Host: a', ...fields])).head?.expectContinue;

  assert.equal(expects('1.1', 'Expect: 100-Continue'), true);
  assert.equal(expects('1.1'), false);
  assert.equal(expects('1.1', 'Expect: 200-ok'), false);
  assert.equal(expects('1.0', 'Expect: 100-continue'), false);
});
