// Request lines (RFC 9112 §2.2, §3): method, target forms, version and line ends.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertProxyError } from '../fixtures/proxy-errors';
import { parseText, request } from './http1-request-fixtures';

/** Parses a request with `requestLine` and a Host field, and returns its head. */
function headOf(requestLine: string) {
  const { head } = parseText(request([requestLine, 'Host: a']));
  assert.ok(head !== undefined);
  return head;
}

/** Asserts that a request with `requestLine` fails with `code`. */
function assertRefused(requestLine: string, code: Parameters<typeof assertProxyError>[1]) {
  assertProxyError(() => parseText(request([requestLine, 'Host: a'])), code, /./);
}

test('keeps the method as sent, since methods are case-sensitive', () => {
  assert.equal(headOf('get / HTTP/1.1').method, 'get');
  assert.equal(headOf("M-SEARCH!#$%&'*+.^_`|~ / HTTP/1.1").method, "M-SEARCH!#$%&'*+.^_`|~");
});

test('refuses a method that is not a token', () => {
  assertRefused('GE(T / HTTP/1.1', 'ERR_HTTP_MALFORMED');
  assertRefused(' GET / HTTP/1.1', 'ERR_HTTP_MALFORMED');
});

test('refuses CONNECT: infergate is not a forward proxy', () => {
  assertProxyError(
    () => parseText(request(['CONNECT upstream:443 HTTP/1.1', 'Host: upstream:443'])),
    'ERR_HTTP_METHOD',
    /method CONNECT is not supported/,
  );
});

test('accepts bare LF line ends and ignores empty lines before the request line', () => {
  const text = '\r\n\n\r\nGET /a HTTP/1.1\nHost: a\nX-B: c\r\n\n';
  const { head, consumed } = parseText(text);

  assert.equal(head?.path, '/a');
  assert.deepEqual(head?.headers, [
    ['host', 'a'],
    ['x-b', 'c'],
  ]);
  assert.equal(head?.headBytes, text.length);
  assert.equal(consumed, text.length);
});

test('refuses a bare CR in the request line', () => {
  assertRefused('GET /\r HTTP/1.1', 'ERR_HTTP_MALFORMED');
  assertRefused('GET / HTTP/1.1\r', 'ERR_HTTP_MALFORMED');
  assertProxyError(() => parseText('GET / HTTP/1.1\rHost: a\r\n\r\n'), 'ERR_HTTP_MALFORMED', /./);
});

test('refuses the HTTP/2 preface and versions other than 1.0 and 1.1 with ERR_HTTP_VERSION', () => {
  assertProxyError(
    () => parseText('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
    'ERR_HTTP_VERSION',
    /HTTP version 2.0 is not supported/,
  );
  assertRefused('GET / HTTP/1.2', 'ERR_HTTP_VERSION');
  assertRefused('GET / HTTP/0.9', 'ERR_HTTP_VERSION');
  assertRefused('GET / HTTP/3.0', 'ERR_HTTP_VERSION');
});

test('refuses request lines that are not method SP target SP version', () => {
  assertRefused('GET /', 'ERR_HTTP_MALFORMED');
  assertRefused('GET  / HTTP/1.1', 'ERR_HTTP_MALFORMED');
  assertRefused('GET / HTTP/1.1 ', 'ERR_HTTP_MALFORMED');
  assertRefused('GET / http/1.1', 'ERR_HTTP_MALFORMED');
  assertRefused('GET / HTTP/11', 'ERR_HTTP_MALFORMED');
  assertRefused('GET\t/ HTTP/1.1', 'ERR_HTTP_MALFORMED');
});

test('splits an origin-form target into path and query', () => {
  const head = headOf('GET /v2/models/m/infer?a=1&b=/x HTTP/1.1');

  assert.equal(head.target, '/v2/models/m/infer?a=1&b=/x');
  assert.equal(head.path, '/v2/models/m/infer');
  assert.equal(head.version, '1.1');
});

test('accepts an absolute-form target and takes the path from it', () => {
  assert.equal(headOf('GET http://gw.example/v1/models?x=1 HTTP/1.1').path, '/v1/models');
  assert.equal(headOf('GET HTTPS://gw.example:8443 HTTP/1.1').path, '/');
  assert.equal(headOf('GET http://gw.example?x HTTP/1.1').path, '/');
});

test('refuses absolute-form targets with userinfo, an empty authority or another scheme', () => {
  assertRefused('GET http://user:pw@gw.example/ HTTP/1.1', 'ERR_HTTP_MALFORMED');
  assertRefused('GET http:///v1/models HTTP/1.1', 'ERR_HTTP_MALFORMED');
  assertRefused('GET ftp://gw.example/ HTTP/1.1', 'ERR_HTTP_MALFORMED');
});

test('refuses authority-form for methods other than CONNECT', () => {
  assertRefused('GET gw.example:443 HTTP/1.1', 'ERR_HTTP_MALFORMED');
});

test('accepts asterisk-form only with OPTIONS', () => {
  const head = headOf('OPTIONS * HTTP/1.1');

  assert.equal(head.target, '*');
  assert.equal(head.path, '*');
  assertRefused('GET * HTTP/1.1', 'ERR_HTTP_MALFORMED');
});

test('refuses targets with a fragment, control bytes or non-ASCII bytes', () => {
  assertRefused('GET /a#frag HTTP/1.1', 'ERR_HTTP_MALFORMED');
  assertRefused('GET /a\x00 HTTP/1.1', 'ERR_HTTP_MALFORMED');
  assertRefused('GET /\xe9 HTTP/1.1', 'ERR_HTTP_MALFORMED');
});

test('reads HTTP/1.0 requests, which need no Host', () => {
  const { head } = parseText(request(['GET /v1/models HTTP/1.0']));

  assert.equal(head?.version, '1.0');
  assert.equal(head?.keepAlive, false);
});
