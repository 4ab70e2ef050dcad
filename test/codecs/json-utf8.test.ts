// UTF-8 well-formedness checked against the WHATWG decoder in fatal mode.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import fc from 'fast-check';

import { utf8SequenceEnd } from '../../src/codecs/json-utf8';

const RUNS = { seed: 20250611, numRuns: 2000 };

/** True when every byte of `bytes` is ASCII or part of a sequence `utf8SequenceEnd` accepts. */
function wellFormed(bytes: Buffer): boolean {
  let pos = 0;
  while (pos < bytes.length) {
    if (bytes[pos]! < 0x80) pos++;
    else pos = utf8SequenceEnd(bytes, pos, bytes.length);
    if (pos < 0) return false;
  }
  return true;
}

function decodesStrictly(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    // A TypeError here is the answer sought: the bytes are not UTF-8.
    return false;
  }
}

test('accepts the boundary code points of each sequence length', () => {
  const text = '\u0080\u07ff\u0800\ud7ff\ue000\uffff\u{10000}\u{10ffff}';
  assert.equal(wellFormed(Buffer.from(text)), true);
});

test('returns the offset past a sequence, bounded by the limit', () => {
  const euro = Buffer.from('a€b');
  assert.equal(utf8SequenceEnd(euro, 1, euro.length), 4);
  assert.equal(utf8SequenceEnd(euro, 1, 3), -1);
  assert.equal(utf8SequenceEnd(euro, 2, euro.length), -1);
});

test('agrees with the fatal WHATWG decoder on random bytes', () => {
  const highBytes = fc.uint8Array({ maxLength: 12 }).map((bytes) => Buffer.from(bytes));
  const nearValid = fc
    .tuple(fc.string({ unit: 'binary', maxLength: 6 }), fc.nat(), fc.nat(255))
    .map(([text, at, byte]) => {
      const bytes = Buffer.from(text);
      if (bytes.length > 0) bytes[at % bytes.length] = byte;
      return bytes;
    });

  fc.assert(
    fc.property(fc.oneof(highBytes, nearValid), (bytes) => {
      assert.equal(wellFormed(bytes), decodesStrictly(bytes));
    }),
    RUNS,
  );
});
