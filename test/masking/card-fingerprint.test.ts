// Unit tests of keyed card fingerprints: the HMAC they are, the spellings of one number that share
// one, the keys they refuse, and the findings that have none.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';

import { CardFingerprinter, MIN_FINGERPRINT_KEY_BYTES } from '../../src/masking/card-fingerprint';
import { maskCardData } from '../../src/masking/card-masker';
import type { FindingKind } from '../../src/masking/findings';
import { StreamMasker } from '../../src/masking/stream-masker';
import { assertProxyError } from '../fixtures/proxy-errors';
import { grouped, inScript } from './card-fixtures';

const VISA = '4111111111111111';
const AMEX = '378282246310005';

/** A test-only key of `length` bytes, each `fill`. */
function keyOf(fill: number, length = MIN_FINGERPRINT_KEY_BYTES): Buffer {
  return Buffer.alloc(length, fill);
}

/** The expected fingerprint: HMAC-SHA-256 of the ASCII digits, in lowercase hex. */
function hmacOf(key: Buffer, digits: string): string {
  return createHmac('sha256', key).update(digits, 'ascii').digest('hex');
}

/**
 * Each finding the one-shot masker reports in `text` and its fingerprint, taken by the observer
 * at the one moment the digits are still there.
 */
function fingerprintsIn(
  text: string,
  fingerprinter: CardFingerprinter,
): { kind: FindingKind; fingerprint: string | undefined }[] {
  const seen: { kind: FindingKind; fingerprint: string | undefined }[] = [];
  maskCardData(Buffer.from(text), {}, (bytes, finding) => {
    seen.push({ kind: finding.kind, fingerprint: fingerprinter.fingerprint(bytes, finding) });
  });
  return seen;
}

/** The fingerprint of the one card number in `text`. */
function panFingerprint(text: string, fingerprinter: CardFingerprinter): string | undefined {
  const pans = fingerprintsIn(text, fingerprinter).filter(({ kind }) => kind === 'pan');
  assert.equal(pans.length, 1, text);
  return pans[0]!.fingerprint;
}

test('is the HMAC-SHA-256 of the ASCII digits under the key, in lowercase hex', () => {
  const key = Buffer.from('test-only fingerprint key, 32 by');
  const fingerprinter = new CardFingerprinter(key);

  const found = fingerprintsIn(`card ${VISA} and ${AMEX}.`, fingerprinter);

  assert.deepEqual(found, [
    { kind: 'pan', fingerprint: hmacOf(key, VISA) },
    { kind: 'pan', fingerprint: hmacOf(key, AMEX) },
  ]);
  assert.match(found[0]!.fingerprint!, /^[0-9a-f]{64}$/);
});

test('gives one fingerprint for the number however it is written', () => {
  const key = keyOf(0x5a);
  const fingerprinter = new CardFingerprinter(key);
  const spellings = [
    VISA,
    grouped(VISA, [4, 4, 4, 4], '-'),
    grouped(VISA, [4, 4, 4, 4], ' '),
    grouped(VISA, [4, 4, 4, 4], '\u00a0'),
    inScript(VISA, 0xff10),
    grouped(inScript(VISA, 0xff10), [4, 4, 4, 4], ' '),
    inScript(VISA, 0x660),
    [...VISA].join('\u200b'),
    `"card":"${VISA}"`,
  ];

  for (const text of spellings) {
    assert.equal(panFingerprint(text, fingerprinter), hmacOf(key, VISA), text);
  }
});

test('gives different fingerprints under different keys and for different numbers', () => {
  const first = new CardFingerprinter(keyOf(1));
  const second = new CardFingerprinter(keyOf(2));

  const underFirst = panFingerprint(VISA, first);
  const underSecond = panFingerprint(VISA, second);

  assert.notEqual(underFirst, underSecond);
  assert.notEqual(panFingerprint(AMEX, first), underFirst);
});

test('refuses a key shorter than 32 bytes and accepts one of 32', () => {
  assert.equal(MIN_FINGERPRINT_KEY_BYTES, 32);

  assertProxyError(() => new CardFingerprinter(keyOf(7, 31)), 'ERR_CONFIG_INVALID', /\b31\b/);
  assertProxyError(() => new CardFingerprinter(Buffer.alloc(0)), 'ERR_CONFIG_INVALID', /\b0\b/);

  assert.ok(new CardFingerprinter(keyOf(7, 32)) instanceof CardFingerprinter);
});

test('keeps its own copy of the key, so a caller reusing the buffer changes nothing', () => {
  const key = keyOf(9);
  const fingerprinter = new CardFingerprinter(key);

  key.fill(0);

  assert.equal(panFingerprint(VISA, fingerprinter), hmacOf(keyOf(9), VISA));
});

test('gives undefined for a finding without digits: a security code or an expiry date', () => {
  const fingerprinter = new CardFingerprinter(keyOf(3));

  const found = fingerprintsIn('CVV: 123, exp 12/25', fingerprinter);

  assert.deepEqual(found, [
    { kind: 'cvv', fingerprint: undefined },
    { kind: 'expiry', fingerprint: undefined },
  ]);
});

test('fingerprints the card number in track data as the number itself', () => {
  const key = keyOf(4);
  const fingerprinter = new CardFingerprinter(key);

  const found = fingerprintsIn(`;${VISA}=25121010000012300000?`, fingerprinter);

  assert.deepEqual(found, [
    { kind: 'pan', fingerprint: hmacOf(key, VISA) },
    { kind: 'track2', fingerprint: hmacOf(key, VISA) },
  ]);
});

test('fingerprints a number split across stream chunks as the whole number', () => {
  const key = keyOf(6);
  const fingerprinter = new CardFingerprinter(key);
  const seen: (string | undefined)[] = [];
  const masker = new StreamMasker({}, (text, finding) => {
    seen.push(fingerprinter.fingerprint(text, finding));
  });
  const text = Buffer.from(`PAN ${grouped(inScript(VISA, 0xff10), [4, 4, 4, 4], '-')} ok`);

  for (let i = 0; i < text.length; i += 5) masker.push(Buffer.from(text.subarray(i, i + 5)));
  masker.end();

  assert.deepEqual(seen, [hmacOf(key, VISA)]);
});
