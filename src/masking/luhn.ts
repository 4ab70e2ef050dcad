// The Luhn (mod 10) check digit of ISO/IEC 7812-1 Annex B, which every card number carries.

/**
 * Whether `digits` (ASCII digits, separators already removed) passes the Luhn check: from the
 * rightmost digit, double every second digit, subtract 9 from doubles above 9, and the sum of
 * all digits is a multiple of 10. An empty string passes; callers check the length first.
 */
export function passesLuhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let value = digits.charCodeAt(i) - 0x30;
    if (double) value = value > 4 ? value * 2 - 9 : value * 2;
    sum += value;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * The check digit that makes `payload` (ASCII digits) followed by it pass the Luhn check. Tests
 * use it to build valid numbers for every brand instead of pasting real-looking ones.
 */
export function luhnCheckDigit(payload: string): number {
  let sum = 0;
  let double = true;
  for (let i = payload.length - 1; i >= 0; i--) {
    let value = payload.charCodeAt(i) - 0x30;
    if (double) value = value > 4 ? value * 2 - 9 : value * 2;
    sum += value;
    double = !double;
  }
  return (10 - (sum % 10)) % 10;
}

/** `passesLuhn` over digit values [start, end) of `values`, so a scan need build no string. */
export function passesLuhnDigits(values: Uint8Array, start: number, end: number): boolean {
  let sum = 0;
  let double = false;
  for (let i = end - 1; i >= start; i--) {
    let value = values[i]!;
    if (double) value = value > 4 ? value * 2 - 9 : value * 2;
    sum += value;
    double = !double;
  }
  return sum % 10 === 0;
}
