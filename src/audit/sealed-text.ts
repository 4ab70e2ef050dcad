// Sealed originals: a text encrypted to the security team's X25519 key, so the gateway that
// writes it into a frame can never read it back.

import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { ProxyError } from '../errors/proxy-error';
import type { SealedRecord } from './audit-events';
import { rawSealingPublicKey, sealingKeyIdOf, sealingPublicKeyFromRaw } from './sealing-key';

/** HKDF `info`: a key derived for sealing is never the key of anything else (RFC 5869 §3.2). */
const SEAL_INFO = Buffer.from('infergate.audit.seal.v1');

const CIPHER = 'aes-256-gcm';
const KEY_BYTES = 32;
/** The 96-bit nonce GCM is defined for (NIST SP 800-38D §5.2.1.1). */
const NONCE_BYTES = 12;
/** A full 128-bit tag: shorter tags make forgeries cheaper (NIST SP 800-38D Appendix C). */
const TAG_BYTES = 16;

/**
 * Encrypts `plaintext` to `recipientPublicKey` (X25519) under a fresh ephemeral key pair, so
 * each record has its own AES-256-GCM key and nothing sealed earlier can be opened with what
 * the gateway holds. `additionalData` is authenticated, not stored: the same bytes must be
 * given to unseal, which binds the record to where it was written (log id, exchange id).
 * Rejects a recipient key that is not X25519 with ERR_AUDIT_KEY_INVALID.
 */
export function sealText(
  recipientPublicKey: KeyObject,
  plaintext: Buffer,
  additionalData: Buffer,
): SealedRecord {
  const recipientRaw = rawSealingPublicKey(recipientPublicKey);
  const ephemeral = generateKeyPairSync('x25519');
  const ephemeralRaw = rawSealingPublicKey(ephemeral.publicKey);
  const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipientPublicKey });
  const key = sealingKey(shared, ephemeralRaw, recipientRaw);

  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv(CIPHER, key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(additionalData);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);

  return {
    recipientKeyId: sealingKeyIdOf(recipientPublicKey),
    ephemeralPublicKey: ephemeralRaw,
    nonce,
    ciphertext,
    tag: cipher.getAuthTag(),
  };
}

/**
 * Decrypts `sealed` with the recipient's X25519 private key and the `additionalData` it was
 * sealed with. Rejects with ERR_AUDIT_KEY_INVALID a record sealed to another key id, and one
 * that fails authentication: a wrong key, or a record or additional data altered since.
 */
export function unsealText(
  recipientPrivateKey: KeyObject,
  sealed: SealedRecord,
  additionalData: Buffer,
): Buffer {
  const recipientPublicKey = createPublicKey(recipientPrivateKey);
  const keyId = sealingKeyIdOf(recipientPublicKey);
  if (sealed.recipientKeyId !== keyId) {
    throw sealError(`sealed text is for key ${sealed.recipientKeyId}, not key ${keyId}`);
  }

  const key = openingKey(recipientPrivateKey, recipientPublicKey, sealed);
  return decrypt(key, sealed, additionalData);
}

function openingKey(privateKey: KeyObject, publicKey: KeyObject, sealed: SealedRecord): Buffer {
  try {
    const ephemeralPublicKey = sealingPublicKeyFromRaw(sealed.ephemeralPublicKey);
    // OpenSSL refuses an all-zero shared secret (a low-order ephemeral key, RFC 7748 §6.1).
    const shared = diffieHellman({ privateKey, publicKey: ephemeralPublicKey });
    return sealingKey(shared, sealed.ephemeralPublicKey, rawSealingPublicKey(publicKey));
  } catch (err) {
    throw notAuthentic(err);
  }
}

function decrypt(key: Buffer, sealed: SealedRecord, additionalData: Buffer): Buffer {
  // A short tag would be accepted by `setAuthTag` and checked on fewer bits; refuse it first.
  if (sealed.nonce.length !== NONCE_BYTES || sealed.tag.length !== TAG_BYTES) {
    throw notAuthentic();
  }
  try {
    const decipher = createDecipheriv(CIPHER, key, sealed.nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(additionalData);
    decipher.setAuthTag(sealed.tag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  } catch (err) {
    throw notAuthentic(err);
  }
}

/**
 * The AES key of one record. The salt holds both public keys, so the key is bound to this
 * exchange of keys and a record cannot be re-addressed to another recipient.
 */
function sealingKey(shared: Buffer, ephemeralRaw: Buffer, recipientRaw: Buffer): Buffer {
  const salt = Buffer.concat([ephemeralRaw, recipientRaw]);
  return Buffer.from(hkdfSync('sha256', shared, salt, SEAL_INFO, KEY_BYTES));
}

function notAuthentic(cause?: unknown): ProxyError {
  return sealError(
    'sealed text failed authentication: wrong key, or the record or its additional data changed',
    cause,
  );
}

function sealError(message: string, cause?: unknown): ProxyError {
  return new ProxyError('ERR_AUDIT_KEY_INVALID', message, { cause });
}
