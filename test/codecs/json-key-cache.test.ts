// Unit tests of the JSON key cache: a key read from bytes is always exactly those bytes' text,
// whether it came from the cache or not.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { readPlainKey } from '../../src/codecs/json-key-cache';

/** `key` in a buffer with bytes around it, so offsets other than 0 are read. */
function framed(key: string): { buf: Buffer; start: number; end: number } {
  const buf = Buffer.from(`{"${key}":1}`);
  return { buf, start: 2, end: 2 + Buffer.byteLength(key) };
}

function read(key: string): string {
  const { buf, start, end } = framed(key);
  return readPlainKey(buf, start, end);
}

test('a key read twice is the same text, the second time from the cache', () => {
  assert.equal(read('choices'), 'choices');
  assert.equal(read('choices'), 'choices');
});

test('many more keys than slots, read in two orders, each come back as their own text', () => {
  // Five thousand keys in a thousand slots: keys share slots, and the cache must tell them apart.
  const keys = Array.from({ length: 5000 }, (_, i) => `k${i.toString(36)}`);

  const forwards = keys.map(read);
  const backwards = [...keys].reverse().map(read).reverse();

  assert.deepEqual(forwards, keys);
  assert.deepEqual(backwards, keys);
});

test('keys of the same length and bytes in another order are told apart', () => {
  for (const [a, b] of [
    ['ab', 'ba'],
    ['index', 'xedni'],
    ['a\u0000', '\u0000a'],
  ]) {
    assert.equal(read(a!), a);
    assert.equal(read(b!), b);
    assert.equal(read(a!), a);
  }
});

test('non-ASCII and long keys are decoded as UTF-8', () => {
  const long = 'k'.repeat(40);

  assert.equal(read('clé'), 'clé');
  assert.equal(read('名前'), '名前');
  assert.equal(read(long), long);
  assert.equal(read(long), long);
});

test('an empty key is the empty string', () => {
  assert.equal(read(''), '');
});
