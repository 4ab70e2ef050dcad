// The issuer identification (IIN) prefixes and lengths of the card brands the masker knows, and
// `brandOf`, which tells whether a digit string fits one of them.

/** The card brands recognised; a detector finding names one. */
export type CardBrand =
  | 'visa'
  | 'mastercard'
  | 'amex'
  | 'discover'
  | 'jcb'
  | 'unionpay'
  | 'diners'
  | 'maestro'
  | 'mir'
  | 'rupay'
  | 'troy';

/** One row of the table: prefixes as inclusive ranges of equal-length digit strings. */
interface BrandRow {
  readonly brand: CardBrand;
  readonly prefixes: readonly (readonly [string, string])[];
  readonly lengths: readonly number[];
}

const SIXTEEN_TO_NINETEEN = [16, 17, 18, 19];

/**
 * The table, first match wins, so narrower ranges that overlap a wider one come first (Discover's
 * 622126-622925 inside UnionPay's 62, RuPay's 6521-6522 inside Discover's 65). Sources:
 * braintree/credit-card-type src/lib/card-types.ts (reproduced in protocols.md §7.6) and the
 * public IIN table of ISO/IEC 7812 registrations as listed on Wikipedia "Payment card number".
 * Only well-known rows are kept: each extra row is another way for an order number or an
 * identifier to be mistaken for a card, and a false positive destroys a user's data.
 */
const BRAND_TABLE: readonly BrandRow[] = [
  // Visa: 13 is historic, 18 appears in Braintree's table, 19 for some debit programs.
  { brand: 'visa', prefixes: [['4', '4']], lengths: [13, 16, 18, 19] },
  // Mir sits just below Mastercard's 2-series; the ranges do not overlap.
  { brand: 'mir', prefixes: [['2200', '2204']], lengths: SIXTEEN_TO_NINETEEN },
  {
    brand: 'mastercard',
    prefixes: [
      ['51', '55'],
      ['2221', '2720'],
    ],
    lengths: [16],
  },
  {
    brand: 'amex',
    prefixes: [
      ['34', '34'],
      ['37', '37'],
    ],
    lengths: [15],
  },
  {
    brand: 'maestro',
    prefixes: [
      ['5018', '5018'],
      ['5020', '5020'],
      ['5038', '5038'],
      ['5893', '5893'],
      ['6304', '6304'],
      ['6759', '6759'],
      ['6761', '6763'],
    ],
    // Maestro allows 12; a 12-digit run is below the detector's 13-digit floor anyway.
    lengths: [13, 14, 15, ...SIXTEEN_TO_NINETEEN],
  },
  { brand: 'rupay', prefixes: [['6521', '6522']], lengths: [16] },
  {
    brand: 'discover',
    prefixes: [
      ['6011', '6011'],
      ['644', '649'],
      ['65', '65'],
      ['622126', '622925'],
    ],
    lengths: SIXTEEN_TO_NINETEEN,
  },
  // UnionPay's 14 and 15 are left out: +62 (Indonesia) phone numbers reach 14 digits.
  {
    brand: 'unionpay',
    prefixes: [
      ['62', '62'],
      ['8100', '8171'],
    ],
    lengths: SIXTEEN_TO_NINETEEN,
  },
  // JCB's legacy 15-digit 1800 and 2131 ranges are retired and left out for the same reason.
  { brand: 'jcb', prefixes: [['3528', '3589']], lengths: SIXTEEN_TO_NINETEEN },
  {
    brand: 'diners',
    prefixes: [
      ['300', '305'],
      ['36', '36'],
      ['38', '39'],
    ],
    lengths: [14, 15, ...SIXTEEN_TO_NINETEEN],
  },
  {
    brand: 'rupay',
    prefixes: [
      ['60', '60'],
      ['81', '82'],
      ['508', '508'],
    ],
    lengths: [16],
  },
  { brand: 'troy', prefixes: [['9792', '9792']], lengths: [16] },
];
// Limitation: Elo, Hipercard, Verve, UATP and other regional brands with long lists of 6-digit
// ranges are not in the table; their numbers are masked only where they fall in a row above.

/** Shortest card number the detector considers (ISO/IEC 7812 allows 8 to 19 digits). */
export const MIN_CARD_DIGITS = 13;

/** Longest card number (ISO/IEC 7812-1: at most 19 digits). */
export const MAX_CARD_DIGITS = 19;

/**
 * The brand whose prefix and length fit `digits` (a string of ASCII digits), or undefined. It
 * does not check the Luhn digit: see `passesLuhn`.
 */
export function brandOf(digits: string): CardBrand | undefined {
  for (const row of BRAND_TABLE) {
    if (
      row.lengths.includes(digits.length) &&
      row.prefixes.some(([low, high]) => fits(digits, low, high))
    ) {
      return row.brand;
    }
  }
  return undefined;
}

/** Whether the leading digits of `digits` lie in [low, high]; equal lengths compare as numbers. */
function fits(digits: string, low: string, high: string): boolean {
  const prefix = digits.slice(0, low.length);
  return prefix >= low && prefix <= high;
}
