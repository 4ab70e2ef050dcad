// Keyed fingerprints of card numbers: the audit trail can show that two exchanges saw the same
// card without anyone, the gateway's own operators included, reading the number back.

import { createHmac } from 'node:crypto';
import { ProxyError } from '../errors/proxy-error';
import { decodeCodePoint, digitValue } from './digit-characters';
import type { Finding } from './findings';

/** The shortest key accepted: HMAC-SHA-256 keys shorter than the hash weaken it (RFC 2104 §3). */
export const MIN_FINGERPRINT_KEY_BYTES = 32;

/**
 * Computes HMAC-SHA-256 of a card number's digits, as ASCII, under a secret key. A plain hash
 * would not do: card numbers have so little entropy (a known prefix, a check digit) that a
 * dictionary of every number of a BIN reverses a SHA-256 in minutes; without the key, an
 * HMAC cannot be reversed that way.
 */
export class CardFingerprinter {
  private readonly key: Buffer;

  /** Throws ProxyError `ERR_CONFIG_INVALID` for a key shorter than MIN_FINGERPRINT_KEY_BYTES. */
  constructor(key: Buffer) {
    if (key.length < MIN_FINGERPRINT_KEY_BYTES) {
      throw new ProxyError(
        'ERR_CONFIG_INVALID',
        `a fingerprint key needs at least ${MIN_FINGERPRINT_KEY_BYTES} bytes, not ${key.length}`,
      );
    }
    this.key = Buffer.from(key);
  }

  /**
   * The fingerprint, in lowercase hex, of the card number `finding` reports in `text`, read
   * before it is masked. Digits of any script count by value, so `４１１１…` and `4111…` give
   * the same fingerprint. Undefined for a finding that lists no digits (a code, an expiry).
   */
  fingerprint(text: Uint8Array, finding: Finding): string | undefined {
    const { digitStarts, digitEnds } = finding;
    if (digitStarts.length === 0) return undefined;
    const digits = Buffer.allocUnsafe(digitStarts.length);
    for (let i = 0; i < digitStarts.length; i++) {
      const packed = decodeCodePoint(text, digitStarts[i]!, digitEnds[i]!);
      digits[i] = 0x30 + digitValue(packed >> 3);
    }
    return createHmac('sha256', this.key).update(digits).digest('hex');
  }
}
