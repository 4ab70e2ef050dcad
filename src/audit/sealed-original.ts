// The unmasked texts of an exchange, sealed to the security team's key inside its audit frames.

import type { KeyObject } from 'node:crypto';
import type { MaskedTextRecord, SealedRecord } from './audit-events';
import { sealText, unsealText } from './sealed-text';

/** Which texts of an exchange a sealed record holds. */
export type SealedDirection = 'prompt' | 'response';

const DOMAIN = Buffer.from('infergate.audit.sealed-original.v1\n');

/**
 * What a sealed original is bound to: its log, its exchange and its direction, each length-
 * prefixed so no two different triples give the same bytes. A sealed record copied into
 * another exchange's frame, or from the prompt to the response, no longer opens.
 */
export function sealedAdditionalData(
  logId: string,
  exchangeId: string,
  direction: SealedDirection,
): Buffer {
  const parts = [logId, exchangeId, direction].map((part) => {
    const bytes = Buffer.from(part, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
  });
  return Buffer.concat([DOMAIN, ...parts]);
}

/** Seals `texts` (unmasked) to `recipient`; only the holder of its private key can open them. */
export function sealOriginal(
  recipient: KeyObject,
  logId: string,
  exchangeId: string,
  direction: SealedDirection,
  texts: readonly MaskedTextRecord[],
): SealedRecord {
  const plaintext = Buffer.from(JSON.stringify(texts), 'utf8');
  return sealText(recipient, plaintext, sealedAdditionalData(logId, exchangeId, direction));
}

/**
 * Opens a sealed original with the recipient's private key. Throws ProxyError
 * ERR_AUDIT_KEY_INVALID for another key or a record that was changed or moved.
 */
export function unsealOriginal(
  privateKey: KeyObject,
  sealed: SealedRecord,
  logId: string,
  exchangeId: string,
  direction: SealedDirection,
): MaskedTextRecord[] {
  const additionalData = sealedAdditionalData(logId, exchangeId, direction);
  const plaintext = unsealText(privateKey, sealed, additionalData);
  return JSON.parse(plaintext.toString('utf8')) as MaskedTextRecord[];
}
