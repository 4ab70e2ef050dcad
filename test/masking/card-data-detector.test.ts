// Corpus tests of the card-data detector: security codes and expiry dates by keyword or after a
// card number, track 1 and track 2 data, and the numbers that are none of these.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { maskCardData } from '../../src/masking/card-masker';

const VISA = '4111111111111111';
const AMEX = '378282246310005';
const TRACK2 = `;${VISA}=25121010000012300000?`;
const TRACK1 = `%B${VISA}^DOE/JOHN^2512101000000000000123000?`;

/** The text masked with the defaults, and the kinds found in order. */
function masked(text: string): { text: string; kinds: string[] } {
  const bytes = Buffer.from(text);
  const result = maskCardData(bytes);
  return { text: bytes.toString(), kinds: result.findings.map((finding) => finding.kind) };
}

test('masks a security code next to its keyword, in any case and spacing', () => {
  const texts = [
    'CVV: 123',
    'cvv2=123',
    'CVC 1234',
    'Cid:1234',
    'CAV2 is 123',
    'security code 123',
    'Card Verification: 123.',
    '{"cvv":"123"}',
    "{'cvc2': '123'}",
  ];
  for (const text of texts) {
    const result = masked(text);
    assert.deepEqual(result.kinds, ['cvv'], text);
    assert.ok(!/\d{3}/.test(result.text), text);
  }
});

test('masks an expiry date next to its keyword', () => {
  const texts = [
    'exp 12/25',
    'Expiry: 12/2025',
    'expires 01-27',
    'valid thru 09/28',
    'EXPIRATION DATE 2027-09',
    '"exp":"12/30"',
  ];
  for (const text of texts) assert.deepEqual(masked(text).kinds, ['expiry'], text);
  assert.equal(masked('exp 12/25').text, 'exp *****');
});

test('masks a security code and an expiry date right after a card number', () => {
  assert.equal(masked(`${VISA} 123`).text, '************1111 ***');
  assert.deepEqual(masked(`4111 1111 1111 1111 123`).kinds, ['pan', 'cvv']);
  assert.deepEqual(masked(`${VISA} 12/30 123`).kinds, ['pan', 'expiry', 'cvv']);
  assert.deepEqual(masked(`${VISA}|12/30|123`).kinds, ['pan', 'expiry', 'cvv']);
  assert.deepEqual(masked(`${AMEX} 1234`).kinds, ['pan', 'cvv']);
});

test('leaves numbers that no keyword or card number vouches for alone', () => {
  const texts = [
    'version 1.2.3',
    'call me at 555-0123',
    'order 123 shipped',
    'valid 12/25 hours',
    'exponent 123',
    'xcvv 123',
    'cvv 12345',
    'exp 13/25',
    'exp 123',
    'cvv 12/25',
    `${VISA} 1234`,
    `${AMEX} 123`,
    `${VISA} 123 456`,
    `${VISA}, and 123 more`,
  ];
  for (const text of texts) {
    const kinds = masked(text).kinds.filter((kind) => kind !== 'pan');
    assert.deepEqual(kinds, [], text);
  }
});

test('masks track 2 data with and without sentinels, keeping the last four of the PAN', () => {
  assert.equal(masked(TRACK2).text, ';************1111=********************?');
  assert.deepEqual(masked(TRACK2).kinds, ['pan', 'track2']);
  const bare = masked(`data ${VISA}=2512101123 end`);
  assert.equal(bare.text, 'data ************1111=********** end');
  assert.ok(masked(`x ${VISA}=2512101`).kinds.includes('track2'));
});

test('masks track 1 data: the PAN and everything after its separator', () => {
  const result = masked(`swipe ${TRACK1} ok`);
  assert.deepEqual(result.kinds, ['track1']);
  assert.ok(!result.text.includes('DOE'));
  assert.ok(!result.text.includes('2512'));
  assert.ok(result.text.startsWith('swipe %B************1111^'));
  assert.ok(result.text.endsWith('? ok'));
});

test('leaves look-alikes of track data alone', () => {
  const texts = [
    `;${VISA.slice(0, -1)}2=2512101?`,
    `;${VISA}=2513101?`,
    `;${VISA}=25?`,
    `a=${VISA}`,
    `key${VISA}=2512101`,
    `%B${VISA}^^2512101?`,
  ];
  for (const text of texts) {
    const kinds = masked(text).kinds.filter((kind) => kind !== 'pan');
    assert.deepEqual(kinds, [], text);
  }
});
