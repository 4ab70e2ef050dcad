// Decoding JSON strings, numbers and literals from their wire bytes.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { decodeJsonScalar, decodeJsonString } from '../../src/codecs/json-scalar-decoder';
import { assertProxyError } from '../fixtures/proxy-errors';

/** Decodes the whole of `wire` as the inside of a JSON string. */
function decode(wire: string): string {
  const buf = Buffer.from(wire);
  return decodeJsonString(buf, 0, buf.length);
}

test('decodes every two-byte escape of RFC 8259 §7', () => {
  assert.equal(decode('\\"\\\\\\/\\b\\f\\n\\r\\t'), '"\\/\b\f\n\r\t');
});

test('decodes \\u escapes in either case, surrogate pairs into one character', () => {
  assert.equal(decode('\\u0034\\u0031\\u00E9\\u00e9'), '41éé');
  assert.equal(decode('\\ud83d\\ude00'), '😀');
  assert.equal(decode('a\\uD83D\\uDE00b'), 'a😀b');
});

test('keeps a lone escaped surrogate as one code unit, as JSON.parse does', () => {
  const text = decode('x\\ud800y');
  assert.equal(text, JSON.parse('"x\\ud800y"'));
  assert.equal(text.length, 3);
});

test('decodes UTF-8 between escapes and returns plain text without copying escapes', () => {
  assert.equal(decode('€\\n😀\\tü'), '€\n😀\tü');
  assert.equal(decode('plain text ü'), 'plain text ü');
  assert.equal(decode(''), '');
});

test('decodes a range inside a larger buffer', () => {
  const buf = Buffer.from('{"a":"x\\ny","b":"zz"}');
  assert.equal(decodeJsonString(buf, 6, 10), 'x\ny');
  assert.equal(decodeJsonString(buf, 17, 19), 'zz');
});

test('rejects a broken escape with ERR_JSON_MALFORMED naming the byte', () => {
  assertProxyError(() => decode('ab\\q'), 'ERR_JSON_MALFORMED', /malformed escape at byte 2$/);
  assertProxyError(() => decode('\\u12'), 'ERR_JSON_MALFORMED', /at byte 0$/);
  assertProxyError(() => decode('\\u12x4'), 'ERR_JSON_MALFORMED', /at byte 0$/);
  assertProxyError(() => decode('end\\'), 'ERR_JSON_MALFORMED', /at byte 3$/);
});

test('stops a \\u escape at the end of the range, not the end of the buffer', () => {
  const buf = Buffer.from('"\\u0041"');
  assertProxyError(() => decodeJsonString(buf, 1, 5), 'ERR_JSON_MALFORMED', /at byte 1$/);
});

test('decodes numbers, booleans and null', () => {
  const buf = Buffer.from('-12.5e1 true false null 9007199254740993 1e400');
  assert.equal(decodeJsonScalar(buf, 'number', 0, 7), -125);
  assert.equal(decodeJsonScalar(buf, 'boolean', 8, 12), true);
  assert.equal(decodeJsonScalar(buf, 'boolean', 13, 18), false);
  assert.equal(decodeJsonScalar(buf, 'null', 19, 23), null);
  assert.equal(decodeJsonScalar(buf, 'number', 24, 40), 9007199254740992);
  assert.equal(decodeJsonScalar(buf, 'number', 41, 46), Infinity);
});
