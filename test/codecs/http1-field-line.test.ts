// Header field lines (RFC 9112 §5, RFC 9110 §5.5): names, values, folding and bad bytes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertProxyError } from '../fixtures/proxy-errors';
import { parseText, request } from './http1-request-fixtures';

/** Parses a GET with `fields` after its Host field; returns its header fields. */
function fieldsOf(...fields: string[]) {
  const { head } = parseText(request(['GET / HTTP/1.1', 'Host: a', ...fields]));
  assert.ok(head !== undefined);
  return head.headers.slice(1);
}

/** Asserts that a GET with `fields` fails with ERR_HTTP_MALFORMED and a message like `pattern`. */
function assertMalformed(pattern: RegExp, ...fields: string[]) {
  assertProxyError(
    () => parseText(request(['GET / HTTP/1.1', 'Host: a', ...fields])),
    'ERR_HTTP_MALFORMED',
    pattern,
  );
}

test('lower-cases names and trims OWS from values, keeping order and duplicates', () => {
  assert.deepEqual(fieldsOf('X-Trace-ID:\t abc def \t', 'x-trace-id:2', 'Accept:'), [
    ['x-trace-id', 'abc def'],
    ['x-trace-id', '2'],
    ['accept', ''],
  ]);
});

test('keeps colons inside a value', () => {
  assert.deepEqual(fieldsOf('Referer: http://a:80/b'), [['referer', 'http://a:80/b']]);
});

test('decodes obs-text bytes of a value as latin1', () => {
  assert.deepEqual(fieldsOf('X-Name: caf\xe9 \xff'), [['x-name', 'caf\u00e9 \u00ff']]);
});

test('refuses whitespace between a field name and its colon', () => {
  assertMalformed(/header field 2 has whitespace between its name and colon/, 'X-A : 1');
  assertMalformed(/header field 2 has whitespace/, 'X-A\t: 1');
});

test('refuses obs-fold continuation lines', () => {
  assertMalformed(/header field 3 starts with whitespace \(obs-fold\)/, 'X-A: 1', ' folded');
  assertMalformed(/header field 3 starts with whitespace/, 'X-A: 1', '\tfolded');
});

test('refuses whitespace between the request line and the first field', () => {
  assertProxyError(
    () => parseText(request(['GET / HTTP/1.1', ' Host: a'])),
    'ERR_HTTP_MALFORMED',
    /header field 1 starts with whitespace/,
  );
});

test('refuses NUL, bare CR and other control bytes in a value, without echoing it', () => {
  assertMalformed(/header field 2 value holds byte 0x00$/, 'Authorization: Bearer se\x00cret');
  assertMalformed(/header field 2 value holds byte 0x0d$/, 'Authorization: Bearer se\rcret');
  assertMalformed(/header field 2 value holds byte 0x0b$/, 'X-A: a\x0bb');
  assertMalformed(/header field 2 value holds byte 0x7f$/, 'X-A: a\x7fb');
});

test('reads a bare LF inside a value as the end of the line', () => {
  assertMalformed(/header field 3 has no colon/, 'X-A: one\ntwo');
});

test('refuses names that are empty, missing their colon or not tokens', () => {
  assertMalformed(/header field 2 has an empty name/, ': v');
  assertMalformed(/header field 2 has no colon/, 'X-A');
  assertMalformed(/header field 2 name holds byte 0x40, not a token character/, 'X@A: v');
  assertMalformed(/header field 2 name holds byte 0xe9/, 'X\xe9: v');
});
