// Serial numbers of issued certificates: random, positive, 16 bytes.

import { randomBytes } from 'node:crypto';

/** Length of every serial number the engine assigns; RFC 5280 §4.1.2.2 allows up to 20. */
export const SERIAL_NUMBER_BYTES = 16;

/**
 * A new serial number in lower-case hex, 32 digits. Random rather than counted, so a forger
 * cannot predict the serial of the next certificate (the chosen-prefix collision of the 2008
 * rogue CA); at least 64 random bits are what CA/Browser Forum Baseline Requirements §7.1 ask.
 */
export function randomSerialNumber(): string {
  const bytes = randomBytes(SERIAL_NUMBER_BYTES);
  // Clearing the top bit keeps the DER INTEGER positive (RFC 5280 §4.1.2.2); setting the next one
  // keeps the first byte non-zero, so the encoding is minimal and exactly 16 bytes long, which
  // OpenSSL demands (it refuses a padded INTEGER). 126 random bits remain.
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes.toString('hex');
}
