// Unit tests of the streaming masker: what it holds and releases, and numbers split across
// chunks, inside characters, and at the end of the stream.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { maskCardData } from '../../src/masking/card-masker';
import { MAX_PENDING_BYTES, StreamMasker } from '../../src/masking/stream-masker';
import { inScript } from './card-fixtures';

const VISA = '4111111111111111';

test('releases a chunk with no digits at once, as the same buffer', () => {
  const masker = new StreamMasker();
  const chunk = Buffer.from('hello world, ');
  const released = masker.push(chunk);
  assert.equal(released.length, 1);
  assert.equal(released[0], chunk);
  assert.equal(masker.heldBytes, 0);
});

test('holds a number split across chunks and masks both parts', () => {
  const masker = new StreamMasker();
  const first = Buffer.from('card 4111 1111');
  const second = Buffer.from(' 1111 1111 ok');
  assert.deepEqual(masker.push(first), []);
  assert.equal(masker.heldBytes, first.length);
  const released = masker.push(second);
  assert.equal(released.length, 2);
  assert.equal(released[0], first);
  assert.equal(released[1], second);
  assert.equal(Buffer.concat(released).toString(), 'card **** **** **** 1111 ok');
  assert.equal(masker.counts.pan, 1);
});

test('releases held chunks at the end of the stream, masked', () => {
  const masker = new StreamMasker();
  assert.deepEqual(masker.push(Buffer.from(`PAN:${VISA.slice(0, 10)}`)), []);
  assert.deepEqual(masker.push(Buffer.from(VISA.slice(10))), []);
  assert.equal(Buffer.concat(masker.end()).toString(), 'PAN:************1111');
  assert.equal(masker.heldBytes, 0);
});

/**
 * Cuts `text` in two at every byte and checks that the masker's output equals the one-shot
 * output; `check` sees the masker after each cut.
 */
function forEveryCut(text: Buffer, check: (masker: StreamMasker) => void = () => undefined) {
  const expected = Buffer.from(text);
  maskCardData(expected);
  for (let cut = 1; cut < text.length; cut++) {
    const masker = new StreamMasker();
    const chunks = [Buffer.from(text.subarray(0, cut)), Buffer.from(text.subarray(cut))];
    const out = [...masker.push(chunks[0]!), ...masker.push(chunks[1]!), ...masker.end()];
    assert.deepEqual(Buffer.concat(out), expected, `cut at ${cut}`);
    check(masker);
  }
}

test('decides a number whose digit is cut inside its UTF-8 bytes', () => {
  forEveryCut(Buffer.from(`x ${inScript(VISA, 0xff10)} y`));
});

test('holds a long run only while a card number may still include it', () => {
  const masker = new StreamMasker();
  let released = 0;
  for (let i = 0; i < 200; i++) {
    released += masker.push(Buffer.from('1234 ')).length;
    assert.ok(masker.pendingBytes <= MAX_PENDING_BYTES);
  }
  assert.ok(released > 150);
  assert.ok(masker.heldBytes <= 30);
});

test('a chunk without digits ends a run that an earlier chunk left open', () => {
  // Runs glued to a word, and groups longer than a card number, are followed to their end
  // across chunks; a chunk that ends one must leave the next card number to be found.
  const texts = [
    ['ref42', ' and ', VISA],
    ['ref42', ' ', VISA],
    ['1'.repeat(25), ' or ', VISA],
    ['1'.repeat(25), ' ', VISA],
  ];
  for (const chunks of texts) {
    const expected = Buffer.from(chunks.join(''));
    maskCardData(expected);
    const masker = new StreamMasker();
    const out = chunks.flatMap((chunk) => masker.push(Buffer.from(chunk)));
    out.push(...masker.end());
    assert.equal(Buffer.concat(out).toString(), expected.toString(), chunks.join('|'));
  }
});

test('passes an empty chunk through when nothing is held', () => {
  const masker = new StreamMasker();
  const empty = Buffer.alloc(0);
  assert.deepEqual(masker.push(empty), [empty]);
});

test('starts a new text after end', () => {
  const masker = new StreamMasker();
  masker.push(Buffer.from('411111'));
  masker.end();
  const released = masker.push(Buffer.from('abc'));
  assert.equal(Buffer.concat(released).toString(), 'abc');
});

test('decides a keyword and its code cut anywhere, and counts by kind', () => {
  const text = Buffer.from('Card 4111 1111 1111 1111, Expiry: 12/30, "cvv":"123"; x');
  forEveryCut(text, (masker) => {
    assert.deepEqual(masker.counts, { pan: 1, cvv: 1, expiry: 1, track1: 0, track2: 0 });
  });
});

test('keeps the holdback bounded over a long line of card numbers', () => {
  const masker = new StreamMasker();
  const row = Buffer.from('4111 1111 1111 1111 ');
  let released = 0;
  for (let i = 0; i < 500; i++) {
    released += masker.push(Buffer.from(row)).length;
    assert.ok(masker.pendingBytes <= MAX_PENDING_BYTES);
  }
  masker.end();
  assert.ok(released > 490);
  assert.equal(masker.counts.pan, 500);
});
