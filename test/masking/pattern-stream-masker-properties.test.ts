// Property tests: for any text and any split of it into chunks, the operator's patterns mask a
// stream exactly as they mask the whole text, alone and after card data.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import fc from 'fast-check';

import { DEFAULT_MASK_OPTIONS } from '../../src/masking/mask-options';
import { compileMaskPattern, maskPatterns } from '../../src/masking/pattern-masker';
import { PatternStreamMasker } from '../../src/masking/pattern-stream-masker';
import {
  emptyTextMaskCounts,
  maskText,
  StreamTextMasker,
  type TextMaskPolicy,
} from '../../src/masking/text-masker';
import { chunksOf } from './card-fixtures';

const RUNS = { seed: 20261204, numRuns: 300 };
const STAR = 0x2a;

/** Patterns that use what a stream must get right: bounds, `\b`, `^`, `$`, any byte. */
const PATTERNS = [
  compileMaskPattern('employee-id', 'EMP-\\d{6}'),
  compileMaskPattern('account', '\\bacct ?\\d{4,8}\\b', true),
  compileMaskPattern('opening', '^ID\\d{2}'),
  compileMaskPattern('closing', 'end\\d$'),
  compileMaskPattern('any', 'x.{0,5}y'),
];

/** Texts made of the patterns' pieces, near misses and multi-byte characters. */
const textArb = fc
  .array(
    fc.constantFrom(
      'EMP-',
      '123456',
      '12345',
      'acct',
      'ACCT ',
      ' ',
      'x',
      'y',
      'xx',
      'ID',
      '42',
      'end',
      '7',
      'é',
      '€',
      '😀',
      '4111 1111 1111 1111',
      'CVV 123',
      '\n',
    ),
    { maxLength: 40 },
  )
  .map((parts) => Buffer.from(parts.join('')));

const cutsArb = fc.array(fc.nat(), { maxLength: 12 });

function streamed(chunks: Buffer[], push: (chunk: Buffer) => Buffer[], end: () => Buffer[]) {
  const out: Buffer[] = [];
  for (const chunk of chunks) out.push(...push(chunk));
  out.push(...end());
  return out;
}

test('streamed pattern masking equals one-shot masking for every split', () => {
  fc.assert(
    fc.property(textArb, cutsArb, (text, cuts) => {
      const whole = Buffer.from(text);
      const expected = maskPatterns(whole, PATTERNS, STAR);
      const chunks = chunksOf(text, cuts);
      const masker = new PatternStreamMasker(PATTERNS, STAR);

      const out = streamed(
        chunks,
        (chunk) => masker.push(chunk),
        () => masker.end(),
      );

      assert.equal(out.length, chunks.length);
      out.forEach((chunk, i) => assert.equal(chunk, chunks[i], 'the same Buffer objects'));
      assert.equal(Buffer.concat(out).toString(), whole.toString());
      assert.deepEqual(masker.counts, expected);
    }),
    RUNS,
  );
});

test('a chunk is held only while a match may still start in it', () => {
  fc.assert(
    fc.property(textArb, cutsArb, (text, cuts) => {
      const masker = new PatternStreamMasker(PATTERNS, STAR);
      const longest = Math.max(...PATTERNS.map((pattern) => pattern.maxLength));
      const held: Buffer[] = [];
      for (const chunk of chunksOf(text, cuts)) {
        held.push(chunk);
        held.splice(0, masker.push(chunk).length);
        // Past the first held chunk, which may start in decided text, only undecided bytes.
        const undecided = held.slice(1).reduce((sum, part) => sum + part.length, 0);
        assert.ok(undecided <= longest, `${undecided} bytes held`);
      }
    }),
    RUNS,
  );
});

test('card data and patterns together mask a stream as they mask the whole text', () => {
  const policy: TextMaskPolicy = { options: DEFAULT_MASK_OPTIONS, patterns: PATTERNS };
  fc.assert(
    fc.property(textArb, cutsArb, (text, cuts) => {
      const whole = Buffer.from(text);
      const counts = emptyTextMaskCounts();
      maskText(whole, policy, counts);
      const masker = new StreamTextMasker(policy);

      const out = streamed(
        chunksOf(text, cuts),
        (chunk) => masker.push(chunk),
        () => masker.end(),
      );

      assert.equal(Buffer.concat(out).toString(), whole.toString());
      assert.deepEqual(masker.counts, counts);
    }),
    RUNS,
  );
});
