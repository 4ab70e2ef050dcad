// Corpus tests of the card-number detector: every brand in the contexts text travels in, Unicode
// digits, separators and invisible characters, and each kind of number that is not card data.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import fc from 'fast-check';

import { findCardNumbers } from '../../src/masking/card-detector';
import { BRAND_SAMPLES, cardNumber, grouped, inScript, luhnInvalid } from './card-fixtures';

const VISA = '4111111111111111';
const AMEX = '378282246310005';

/** The code points from ASCII digits' to full-width digits', U+FF10-FF19. */
const FULL_WIDTH_SHIFT = 0xff10 - 0x30;

/** Each finding's first and last digit as digit ordinals of `text`: one numbering for any script. */
function digitSpans(text: string): string[] {
  const bytes = Buffer.from(text);
  const ordinals = new Map<number, number>();
  let offset = 0;
  let ordinal = 0;
  for (const character of text) {
    if (/\p{Nd}/u.test(character)) ordinals.set(offset, ordinal++);
    offset += Buffer.byteLength(character);
  }
  return findCardNumbers(bytes).map((finding) => {
    const first = ordinals.get(finding.digitStarts[0]!);
    const last = ordinals.get(finding.digitStarts.at(-1)!);
    return `${first}-${last}`;
  });
}

/** The texts of each finding in `text`, digits only (as the finding's digit spans read). */
function found(text: string): string[] {
  const bytes = Buffer.from(text);
  return findCardNumbers(bytes).map((finding) =>
    finding.digitStarts
      .map((start, i) => bytes.toString('utf8', start, finding.digitEnds[i]))
      .join(''),
  );
}

const CONTEXTS: readonly ((card: string) => string)[] = [
  (card) => card,
  (card) => `PAN:${card}`,
  (card) => `Card number ${card}.`,
  (card) => `{"pan":"${card}","exp":"12/30"}`,
  (card) => `{"arguments":"{\\"card\\":\\"${card}\\"}"}`,
  (card) => `| name | pan |\n| --- | --- |\n| Ann | ${card} |`,
  (card) => `const pan = '${card}';`,
  (card) => `\`${card}\` and **${card}**`,
  (card) => `line one\\n${card}\\nline two`,
  (card) => `卡号${card}，请核对`,
  (card) => `(${card})`,
];

test('finds a number of every brand in every context', () => {
  for (const { brand, card } of BRAND_SAMPLES) {
    for (const context of CONTEXTS) {
      const text = context(card);
      const expected = text.split(card).length - 1;
      assert.deepEqual(found(text), Array(expected).fill(card), `${brand} ${card.length}`);
    }
  }
});

test('reports kind, brand and byte offsets', () => {
  const [finding] = findCardNumbers(Buffer.from(`é ${AMEX}`));
  assert.equal(finding?.kind, 'pan');
  assert.equal(finding?.brand, 'amex');
  assert.equal(finding?.start, 3);
  assert.equal(finding?.end, 3 + AMEX.length);
  assert.equal(finding?.digitStarts.length, 15);
});

test('finds grouped numbers with every separator', () => {
  for (const separator of [' ', '-', '.', '\t', '\u00a0', '\u2009', '\u202f', '\u3000', '\u2013']) {
    const text = grouped(VISA, [4, 4, 4, 4], separator);
    assert.equal(found(`pay ${text} now`).length, 1, escape(separator));
  }
  assert.equal(found(grouped(AMEX, [4, 6, 5], ' ')).length, 1);
  assert.equal(found(grouped('30569309025904', [4, 6, 4], '-')).length, 1);
  assert.equal(found(grouped(cardNumber('4', 19), [4, 4, 4, 4, 3], ' ')).length, 1);
  assert.equal(found(grouped(cardNumber('4', 13), [4, 3, 3, 3], ' ')).length, 1);
});

test('finds numbers in the digits of other scripts', () => {
  for (const zero of [0xff10, 0x660, 0x6f0, 0x966, 0x9e6, 0xe50, 0x1d7ce]) {
    const card = inScript(VISA, zero);
    assert.deepEqual(found(`n ${card} n`), [card], zero.toString(16));
  }
  const mixed = inScript('4111', 0xff10) + '111111111111';
  assert.deepEqual(found(mixed), [mixed]);
});

test('finds numbers with invisible characters between the digits', () => {
  for (const invisible of ['\u200b', '\u200c', '\u200d', '\u2060', '\u00ad', '\ufeff']) {
    const card = [...VISA].join(invisible);
    assert.equal(found(`x ${card} x`).length, 1, escape(invisible));
  }
  assert.equal(found(grouped(VISA, [4, 4, 4, 4], ' \u200b')).length, 1);
});

test('finds a number after a short count or before a short number', () => {
  assert.equal(found(`qty 1 ${grouped(VISA, [4, 4, 4, 4], ' ')}`).length, 1);
  assert.equal(found(`on 2024 ${VISA} 2025`).length, 1);
  assert.equal(found(`${VISA} ${AMEX}`).length, 2);
  assert.equal(found(`${grouped(VISA, [4, 4, 4, 4], ' ')} ${VISA}`).length, 2);
});

test('leaves Luhn-invalid numbers alone', () => {
  for (const { card } of BRAND_SAMPLES) assert.deepEqual(found(`n ${luhnInvalid(card)} n`), []);
  assert.deepEqual(found(grouped(luhnInvalid(VISA), [4, 4, 4, 4], ' ')), []);
});

test('leaves contiguous digit runs longer than a card number alone', () => {
  assert.deepEqual(found(`${VISA}0000`), []);
  assert.deepEqual(found(`1${VISA}`), []);
  assert.deepEqual(found(`${'9'.repeat(500)} ${VISA}0`), []);
});

test('finds every card number of a dense line, a table row or a CSV line', () => {
  const mastercard = '5500000000000004';
  const spaced = [VISA, mastercard, VISA, mastercard].map((card) =>
    grouped(card, [4, 4, 4, 4], ' '),
  );
  assert.deepEqual(
    found(spaced.join(' ')),
    [VISA, mastercard, VISA, mastercard].map((card) => grouped(card, [4, 4, 4, 4], '')),
  );
  assert.deepEqual(found(Array(5).fill(VISA).join(' ')), Array(5).fill(VISA));
  assert.equal(
    found(
      Array(40)
        .fill(grouped(AMEX, [4, 6, 5], ' '))
        .join(' '),
    ).length,
    40,
  );
  assert.equal(found(`1, ${Array(30).fill(VISA).join(', ')}, 2`).length, 30);
  assert.equal(found(`| ${Array(12).fill(spaced[0]).join(' | ')} |`).length, 12);
});

test('finds a card number whose chain runs on into more groups', () => {
  assert.deepEqual(found(grouped(VISA + '1111', [4, 4, 4, 4, 4], ' ')), [VISA]);
  assert.deepEqual(found(`${grouped(VISA, [4, 4, 4, 4], '-')}-2024 5678`), [VISA]);
  assert.deepEqual(found(`7 12 ${grouped(VISA, [4, 4, 4, 4], ' ')} 12 9`), [VISA]);
  assert.deepEqual(found(`${'1234 '.repeat(40)}${grouped(VISA, [4, 4, 4, 4], ' ')}`), [VISA]);
});

test('leaves long digit tables that hold no card number alone', () => {
  assert.deepEqual(found(Array(70).fill('4111').join(' ')), []);
  assert.deepEqual(found(Array(90).fill('1234').join(' ')), []);
  assert.deepEqual(found(Array(50).fill('70 123 456').join(' ')), []);
  assert.deepEqual(found(Array(60).fill(luhnInvalid(VISA)).join(' ')), []);
});

test('leaves phone numbers alone', () => {
  for (const phone of [
    '+1 415 555 2671',
    '+44 20 7946 0958',
    '+49 1512 3456 7890',
    '0044 20 7946 0958 12',
  ]) {
    assert.deepEqual(found(`call ${phone}`), [], phone);
  }
  assert.deepEqual(found('+62 812 3456 7890 1'), []);
  assert.deepEqual(found('1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6'), []);
  assert.deepEqual(found('41 11 11 11 11 11 11 11'), []);
});

test('leaves timestamps and dates alone', () => {
  for (const stamp of [
    '20240101123045',
    '1704067200000',
    '1704067200000000',
    '2024-01-01 12:30:45',
    '2024-01-01T12:30:45.123456Z',
  ]) {
    assert.deepEqual(found(`at ${stamp}`), [], stamp);
  }
});

test('leaves identifiers glued to letters alone', () => {
  const texts = [
    '123e4567-e89b-12d3-a456-426614174000',
    '12345678-1234-1234-1234-123456789012',
    'DE89370400440532013000',
    'DE89 3704 0044 0532 0130 00',
    'GB29 NWBK 6016 1331 9268 19',
    `0x${VISA}`,
    `${VISA}abc`,
    `id_${VISA}`,
    `sha:d41d8cd98f00b204e9800998ecf8427e${VISA}`,
    `v${VISA}`,
  ];
  for (const text of texts) assert.deepEqual(found(text), [], text);
});

test('leaves amounts, addresses, versions and ISBNs alone', () => {
  const texts = [
    '1234567890.12',
    '$12,345,678,901,234.56',
    '1 234 567 890 123',
    '192.168.100.200',
    '2001:db8::1',
    '10.0.0.1.2.3.4.5',
    'v1.22.333.4444',
    '978-3-16-148410-0',
    '9783161484100',
    '9791234567896',
  ];
  for (const text of texts) assert.deepEqual(found(text), [], text);
});

test('leaves order and tracking numbers that fit no brand alone', () => {
  const texts = [
    cardNumber('1', 16),
    cardNumber('7', 16),
    cardNumber('99', 18),
    '1Z999AA10123456784',
    cardNumber('0', 15),
  ];
  for (const text of texts) assert.deepEqual(found(`order ${text}`), [], text);
});

test('does not join groups with mixed separators or doubled gaps', () => {
  assert.deepEqual(found('4111 1111-1111 1111'), []);
  assert.deepEqual(found('4111  1111  1111  1111'), []);
  assert.deepEqual(found('4111\n1111\n1111\n1111'), []);
  assert.deepEqual(found([...VISA].join('\u200b'.repeat(5))), []);
});

test('ASCII digits and their full-width forms make the same card numbers', () => {
  // Runs of ASCII digits and separators take a read of their own; full-width digits take the
  // general one, so this holds the two to the same decisions on any mix of cards and numbers.
  // A card's digits in groups of four, each gap any of the bytes that may or may not join them.
  const gap = fc.constantFrom(' ', '-', '.', '\t', '\n', ':', '  ', '/');
  const split = fc
    .tuple(
      fc.constantFrom(VISA, AMEX, luhnInvalid(VISA)),
      fc.array(gap, { minLength: 4, maxLength: 4 }),
    )
    .map(([card, gaps]) =>
      card.replace(/\d{4}(?=\d)/g, (group, at: number) => group + gaps[at / 4]),
    );
  const constant = fc.constantFrom(
    ...BRAND_SAMPLES.map(({ card }) => card),
    grouped(VISA, [4, 4, 4, 4], ' '),
    grouped(AMEX, [4, 6, 5], '-'),
    grouped(VISA, [4, 4, 4, 4], '.'),
    luhnInvalid(VISA),
    '2024-01-01 12:30:45',
    '19.99',
    '1704067200000',
    '12',
    '1234 5678',
    '0'.repeat(25),
    ' ',
    '  ',
    '-',
    '.',
    '\t',
    ', ',
    'ab',
    '_',
    'x',
    '\n',
  );
  const piece = fc.oneof(constant, split);
  const text = fc.array(piece, { maxLength: 12 }).map((pieces) => pieces.join(''));
  fc.assert(
    fc.property(text, (ascii) => {
      const fullWidth = ascii.replace(/[0-9]/g, (digit) =>
        String.fromCodePoint(digit.charCodeAt(0) + FULL_WIDTH_SHIFT),
      );
      assert.deepEqual(digitSpans(ascii), digitSpans(fullWidth));
    }),
    { seed: 20261204, numRuns: 2000 },
  );
});
