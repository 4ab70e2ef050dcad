// Unit tests of the one-shot masker: what a mask keeps, byte lengths, options, and that a
// buffer with nothing to mask is never written to.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { maskCardData } from '../../src/masking/card-masker';
import { resolveMaskOptions } from '../../src/masking/mask-options';
import { grouped, inScript } from './card-fixtures';

const VISA = '4111111111111111';

function masked(text: string, options = {}): string {
  const bytes = Buffer.from(text);
  maskCardData(bytes, options);
  return bytes.toString();
}

test('keeps the last four digits by default', () => {
  assert.equal(masked(`PAN:${VISA}`), 'PAN:************1111');
});

test('keeps up to the first six and last four when asked', () => {
  assert.equal(masked(VISA, { keepFirst: 6 }), '411111******1111');
  assert.equal(masked(VISA, { keepFirst: 6, keepLast: 0 }), '411111**********');
  assert.equal(masked(VISA, { keepLast: 0 }), '****************');
});

test('writes the mask byte chosen', () => {
  assert.equal(masked(VISA, { maskByte: 0x23 }), '############1111');
});

test('keeps separators and invisible characters, masking only digits', () => {
  assert.equal(masked(grouped(VISA, [4, 4, 4, 4], '-')), '****-****-****-1111');
  assert.equal(masked([...VISA].join('\u200b')), [...'************1111'].join('\u200b'));
});

test('masks a wide digit with as many mask bytes as it has bytes', () => {
  const card = inScript(VISA, 0xff10);
  const bytes = Buffer.from(`x ${card}`);
  const length = bytes.length;
  maskCardData(bytes);
  assert.equal(bytes.length, length);
  assert.equal(bytes.toString(), 'x ' + '*'.repeat(36) + inScript('1111', 0xff10));
});

test('counts and reports findings without their digits', () => {
  const bytes = Buffer.from(`${VISA} and 378282246310005`);
  const result = maskCardData(bytes);
  assert.deepEqual(result.counts, { pan: 2, cvv: 0, expiry: 0, track1: 0, track2: 0 });
  assert.deepEqual(
    result.findings.map(({ brand, start, end }) => ({ brand, start, end })),
    [
      { brand: 'visa', start: 0, end: 16 },
      { brand: 'amex', start: 21, end: 36 },
    ],
  );
  assert.ok(!JSON.stringify(result).includes('1111'));
});

test('rejects options past the PCI limits or a mask byte that would change lengths', () => {
  for (const options of [{ keepFirst: 7 }, { keepLast: 5 }, { keepLast: -1 }, { keepFirst: 1.5 }]) {
    assert.throws(() => resolveMaskOptions(options), { code: 'ERR_CONFIG_INVALID' });
  }
  for (const maskByte of [0x30, 0x20, 0x80, 0x2a2a]) {
    assert.throws(() => resolveMaskOptions({ maskByte }), { code: 'ERR_CONFIG_INVALID' });
  }
});

/** A buffer that fails the test on any store, through an index or a mutating method. */
function writeGuarded(bytes: Buffer): Buffer {
  const mutators = new Set(['fill', 'set', 'write', 'copyWithin', 'reverse', 'sort', 'swap16']);
  return new Proxy(bytes, {
    set: () => assert.fail('the masker stored a byte'),
    get(target, key) {
      if (typeof key === 'string' && mutators.has(key)) assert.fail(`the masker called ${key}`);
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

test('does not write to a buffer with nothing to mask', () => {
  const texts = [
    'plain prose',
    `${VISA}2`,
    '4111111111111112',
    'order 1234567890123456',
    'v 1.2.3',
    '',
  ];
  for (const text of texts) {
    const bytes = Buffer.from(text);
    const copy = Buffer.from(bytes);
    const result = maskCardData(writeGuarded(bytes));
    assert.deepEqual(result.counts, { pan: 0, cvv: 0, expiry: 0, track1: 0, track2: 0 });
    assert.deepEqual(bytes, copy);
  }
});

test('the write guard catches a write', () => {
  assert.throws(() => maskCardData(writeGuarded(Buffer.from(VISA))), /masker stored a byte/);
});
