// Unit tests of character classes: the digit table against the runtime's Unicode data, UTF-8
// decoding, separators and invisible characters.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  decodeCodePoint,
  DECIMAL_DIGIT_ZEROS,
  digitValue,
  DIGIT_LEAD_BYTES,
  isGroupSeparator,
  isInvisible,
  UTF8_CUT,
  UTF8_INVALID,
} from '../../src/masking/digit-characters';

const ND = /^\p{Nd}$/u;

test('knows every decimal digit the runtime knows, with its value', () => {
  for (let codePoint = 0; codePoint <= 0x10ffff; codePoint++) {
    if (codePoint >= 0xd800 && codePoint <= 0xdfff) continue;
    const value = digitValue(codePoint);
    const isNd = ND.test(String.fromCodePoint(codePoint));
    if (isNd) assert.ok(value >= 0, `U+${codePoint.toString(16)} is Nd`);
    else assert.equal(value, -1, `U+${codePoint.toString(16)} is not Nd`);
  }
});

test('lists each zero once, sorted, each starting ten digits', () => {
  for (let i = 0; i < DECIMAL_DIGIT_ZEROS.length; i++) {
    const zero = DECIMAL_DIGIT_ZEROS[i]!;
    if (i > 0) assert.ok(zero >= DECIMAL_DIGIT_ZEROS[i - 1]! + 10);
    assert.equal(digitValue(zero), 0);
    assert.equal(digitValue(zero + 9), 9);
  }
});

test('marks the lead byte of every digit', () => {
  for (const zero of [0x30, 0x660, 0x6f0, 0x966, 0x9e6, 0xff10, 0x1d7ce]) {
    const lead = Buffer.from(String.fromCodePoint(zero + 5))[0]!;
    assert.equal(DIGIT_LEAD_BYTES[lead], 1, zero.toString(16));
  }
  assert.equal(DIGIT_LEAD_BYTES[0x61], 0);
  assert.equal(DIGIT_LEAD_BYTES[0xc3], 0);
});

test('decodes UTF-8 and tells a cut sequence from a malformed one', () => {
  const fullWidthFive = Buffer.from('\uff15');
  assert.equal(decodeCodePoint(fullWidthFive, 0, 3), 0xff15 * 8 + 3);
  assert.equal(decodeCodePoint(fullWidthFive, 0, 2), UTF8_CUT);
  assert.equal(decodeCodePoint(Buffer.from([0xc0, 0xb0]), 0, 2), UTF8_INVALID);
  assert.equal(decodeCodePoint(Buffer.from([0xe0, 0x80, 0xb0]), 0, 3), UTF8_INVALID);
  assert.equal(decodeCodePoint(Buffer.from([0xed, 0xa0, 0x80]), 0, 3), UTF8_INVALID);
  assert.equal(decodeCodePoint(Buffer.from('😀'), 0, 4), 0x1f600 * 8 + 4);
});

test('classifies separators and invisible characters', () => {
  for (const separator of [' ', '\t', '-', '.', '\u00a0', '\u2009', '\u202f', '\u3000', '\u2013']) {
    assert.equal(isGroupSeparator(separator.codePointAt(0)!), true, escape(separator));
  }
  for (const other of ['\n', '\r', ',', '/', ':', '_', 'a']) {
    assert.equal(isGroupSeparator(other.codePointAt(0)!), false, escape(other));
  }
  for (const invisible of ['\u200b', '\u200c', '\u200d', '\u2060', '\u00ad', '\ufeff']) {
    assert.equal(isInvisible(invisible.codePointAt(0)!), true, escape(invisible));
  }
  assert.equal(isInvisible(0x20), false);
});
