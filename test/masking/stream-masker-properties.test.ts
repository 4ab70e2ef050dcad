// Property tests: for any text and any split of it into chunks, the streaming masker's output
// equals the one-shot masker's; held text stays bounded; clean text is never held; masking keeps
// byte lengths and leaves no card number behind.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import fc from 'fast-check';

import { findCardNumbers } from '../../src/masking/card-detector';
import { maskCardData } from '../../src/masking/card-masker';
import { MAX_PENDING_BYTES, StreamMasker } from '../../src/masking/stream-masker';
import { BRAND_SAMPLES, chunksOf, grouped, inScript } from './card-fixtures';

const RUNS = { seed: 20250612, numRuns: 300 };

/** A card number written some way: script, grouping, separator, invisible characters. */
const cardArb = fc
  .tuple(
    fc.constantFrom(...BRAND_SAMPLES.map(({ card }) => card), '4111111111111111'),
    fc.constantFrom(0x30, 0x30, 0xff10, 0x660, 0x1d7ce),
    fc.constantFrom('', ' ', '-', '\u00a0', ' \u200b'),
    fc.constantFrom('', '', '\u200b', '\u00ad', '\ufeff'),
  )
  .map(([card, zero, separator, invisible]) => {
    const digits = [...inScript(card, zero)].join(invisible);
    if (separator === '') return digits;
    return grouped(inScript(card, zero), [4, 4, 4, card.length - 12], separator);
  });

/** Card numbers one after another on a line, as a table row or a CSV line writes them. */
const denseArb = fc
  .tuple(fc.array(cardArb, { minLength: 2, maxLength: 6 }), fc.constantFrom(' ', ', ', ' | '))
  .map(([cards, separator]) => cards.join(separator));

/** Keywords, codes and track data, and the pieces they are made of. */
const cardDataArb = fc.constantFrom(
  'CVV: ',
  'cvc2=',
  ' is ',
  'Exp ',
  'valid thru ',
  '"cvv":"',
  'security code ',
  '123',
  '1234',
  '12/25',
  '2027-09',
  '12-2030',
  '=',
  ';',
  '%B',
  '^DOE/J^',
  '?',
  '|',
  ';4111111111111111=25121010000012300000?',
  '4111111111111111=2512101123',
  '%B4111111111111111^DOE/JOHN^2512101000000000000123000?',
);

/** Pieces of text: prose, digits, separators, invisible characters, card numbers, card data. */
const pieceArb = fc.oneof(
  fc.constantFrom('a', 'PAN:', ' ', '\n', '"', '\\n', 'é', '😀', '卡号', '-', '.', '_', 'x'),
  fc.constantFrom('0', '4', '9', '12', '2024', '\uff14', '\u0664', '\u200b', '\u00a0', '\u2009'),
  cardArb,
  denseArb,
  cardDataArb,
);

const textArb = fc.array(pieceArb, { maxLength: 24 }).map((pieces) => Buffer.from(pieces.join('')));

const cutsArb = fc.array(fc.nat(), { maxLength: 10 });

const optionsArb = fc.record({
  keepFirst: fc.integer({ min: 0, max: 6 }),
  keepLast: fc.integer({ min: 0, max: 4 }),
});

function streamMask(chunks: readonly Buffer[], options = {}, onPush?: (m: StreamMasker) => void) {
  const masker = new StreamMasker(options);
  const out: Buffer[] = [];
  for (const chunk of chunks) {
    out.push(...masker.push(chunk));
    onPush?.(masker);
  }
  out.push(...masker.end());
  return { out, masker };
}

test('any split masks exactly as the one-shot masker does the whole text', () => {
  // Cuts fall anywhere: inside UTF-8 characters, keywords, codes, track data and long runs.
  fc.assert(
    fc.property(textArb, cutsArb, optionsArb, (text, cuts, options) => {
      const expected = Buffer.from(text);
      maskCardData(expected, options);
      const chunks = chunksOf(text, cuts);

      const { out } = streamMask(chunks, options);

      assert.equal(out.length, chunks.length);
      out.forEach((chunk, i) => assert.equal(chunk, chunks[i]));
      assert.deepEqual(Buffer.concat(out), expected);
    }),
    RUNS,
  );
});

test('the undecided text never passes the bound, and held chunks overlap it', () => {
  fc.assert(
    fc.property(textArb, cutsArb, (text, cuts) => {
      streamMask(chunksOf(text, cuts), {}, (masker) => {
        assert.ok(masker.pendingBytes <= MAX_PENDING_BYTES);
        assert.ok(MAX_PENDING_BYTES < 1024);
        assert.ok(masker.heldBytes <= masker.pendingBytes + text.length);
      });
    }),
    RUNS,
  );
});

test('text without digits is released chunk for chunk as it arrives', () => {
  // Cut anywhere, even inside a character, as long as no cut character could begin a digit: an
  // emoji cut after its F0 lead byte could still be U+1FBF0, a digit, and waits for its next byte.
  const cleanArb = fc
    .array(fc.constantFrom('a', ' ', 'é', '中', '\u{e0041}', '\u200b', '-', 'PAN:', '\n'), {
      maxLength: 30,
    })
    .map((pieces) => Buffer.from(pieces.join('')));
  fc.assert(
    fc.property(cleanArb, cutsArb, (text, cuts) => {
      const masker = new StreamMasker();
      for (const chunk of chunksOf(text, cuts)) {
        const released = masker.push(chunk);
        assert.equal(released.length, 1);
        assert.equal(released[0], chunk);
        assert.equal(masker.heldBytes, 0);
      }
    }),
    RUNS,
  );
});

test('masking keeps the byte length and leaves no card number to find', () => {
  // Card numbers stand between prose pieces here: next to other digit groups, the kept last
  // digits may join a neighbour into a new run (see the Limitation in card-detector.ts).
  const islandArb = fc
    .array(fc.tuple(cardArb, fc.constantFrom(' a ', '\n', ', ', ' PAN:', ' 12 b ')), {
      maxLength: 6,
    })
    .map((pairs) => Buffer.from(pairs.map(([card, prose]) => card + prose).join('')));
  fc.assert(
    fc.property(islandArb, optionsArb, (text, options) => {
      const bytes = Buffer.from(text);
      const result = maskCardData(bytes, options);

      assert.equal(bytes.length, text.length);
      const total = Object.values(result.counts).reduce((sum, count) => sum + count, 0);
      assert.equal(total, result.findings.length);
      assert.deepEqual(findCardNumbers(bytes), []);
    }),
    RUNS,
  );
});
