// Card numbers for the masking tests, built with a correct Luhn digit rather than pasted, and
// helpers to split texts into chunks.

import { luhnCheckDigit } from '../../src/masking/luhn';

/** A number of `length` digits starting with `prefix`, filled with `fill`, Luhn-valid. */
export function cardNumber(prefix: string, length: number, fill = '0123456789'): string {
  let payload = prefix;
  while (payload.length < length - 1) payload += fill[payload.length % fill.length];
  return payload + luhnCheckDigit(payload);
}

/** The same number with its last digit changed, so it fails the Luhn check. */
export function luhnInvalid(card: string): string {
  const last = Number(card[card.length - 1]);
  return card.slice(0, -1) + String((last + 1) % 10);
}

/** One valid number per brand, prefix and length the table lists. */
export const BRAND_SAMPLES: readonly { brand: string; card: string }[] = [
  { brand: 'visa', card: cardNumber('4', 13) },
  { brand: 'visa', card: cardNumber('4', 16) },
  { brand: 'visa', card: cardNumber('4', 19) },
  { brand: 'mastercard', card: cardNumber('51', 16) },
  { brand: 'mastercard', card: cardNumber('55', 16) },
  { brand: 'mastercard', card: cardNumber('2221', 16) },
  { brand: 'mastercard', card: cardNumber('2720', 16) },
  { brand: 'amex', card: cardNumber('34', 15) },
  { brand: 'amex', card: cardNumber('37', 15) },
  { brand: 'discover', card: cardNumber('6011', 16) },
  { brand: 'discover', card: cardNumber('644', 19) },
  { brand: 'discover', card: cardNumber('65', 16) },
  { brand: 'discover', card: cardNumber('622126', 16) },
  { brand: 'jcb', card: cardNumber('3528', 16) },
  { brand: 'jcb', card: cardNumber('3589', 19) },
  { brand: 'unionpay', card: cardNumber('620', 16) },
  { brand: 'unionpay', card: cardNumber('6270', 19) },
  { brand: 'diners', card: cardNumber('300', 14) },
  { brand: 'diners', card: cardNumber('36', 14) },
  { brand: 'diners', card: cardNumber('39', 16) },
  { brand: 'maestro', card: cardNumber('6759', 13) },
  { brand: 'maestro', card: cardNumber('5018', 19) },
  { brand: 'mir', card: cardNumber('2200', 16) },
  { brand: 'mir', card: cardNumber('2204', 19) },
  { brand: 'rupay', card: cardNumber('60', 16) },
  { brand: 'rupay', card: cardNumber('508', 16) },
  { brand: 'troy', card: cardNumber('9792', 16) },
];

/** Splits `text` at the sorted cut points (taken modulo its length plus one). */
export function chunksOf(text: Buffer, cuts: readonly number[]): Buffer[] {
  const points = cuts.map((cut) => cut % (text.length + 1)).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, text.length]) {
    chunks.push(Buffer.from(text.subarray(start, point)));
    start = point;
  }
  return chunks;
}

/** Writes the digits of `card` in the decimal digits of the script whose zero is `zero`. */
export function inScript(card: string, zero: number): string {
  return [...card].map((digit) => String.fromCodePoint(zero + Number(digit))).join('');
}

/** Groups `card` as `sizes` (e.g. [4, 4, 4, 4]) joined by `separator`. */
export function grouped(card: string, sizes: readonly number[], separator: string): string {
  const groups: string[] = [];
  let start = 0;
  for (const size of sizes) {
    groups.push(card.slice(start, start + size));
    start += size;
  }
  return groups.join(separator);
}
