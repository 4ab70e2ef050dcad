// Ed25519 signatures over audit checkpoints and key rotations, under key ids.

import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { AUDIT_TYPES, encodeStatement } from './audit-frame-codec';
import type { CheckpointEvent, KeyRotatedEvent } from './audit-events';

/**
 * Statements are signed under their own domain, so a checkpoint signature can never be
 * presented as a rotation signature or as anything else the same key might sign.
 */
const CHECKPOINT_DOMAIN = Buffer.from('infergate.audit.checkpoint.v1\n');
const ROTATION_DOMAIN = Buffer.from('infergate.audit.key-rotation.v1\n');

/** The raw public key's last 32 bytes of its SPKI form (RFC 8410 §4). */
const ED25519_RAW_BYTES = 32;

/** A key that signs checkpoints. */
export interface AuditSigningKey {
  readonly keyId: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** A key a verifier trusts, by id. */
export interface AuditVerifyingKey {
  readonly keyId: string;
  readonly publicKey: KeyObject;
}

/** The raw 32-byte Ed25519 public key. */
export function rawPublicKey(publicKey: KeyObject): Buffer {
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  return spki.subarray(spki.length - ED25519_RAW_BYTES);
}

/** A key's id: the first 16 hex digits of the SHA-256 of its raw public key. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(rawPublicKey(publicKey)).digest('hex').slice(0, 16);
}

/** Makes a new Ed25519 signing key. */
export function generateAuditSigningKey(): AuditSigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { keyId: keyIdOf(publicKey), privateKey, publicKey };
}

/** Reads a PKCS #8 PEM private key; throws when it is not an Ed25519 key. */
export function signingKeyFromPem(pem: string | Buffer): AuditSigningKey {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`audit signing key is ${privateKey.asymmetricKeyType}, not ed25519`);
  }
  const publicKey = createPublicKey(privateKey);
  return { keyId: keyIdOf(publicKey), privateKey, publicKey };
}

/** Reads an SPKI PEM public key; throws when it is not an Ed25519 key. */
export function verifyingKeyFromPem(pem: string | Buffer): AuditVerifyingKey {
  const publicKey = createPublicKey(pem);
  if (publicKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`audit public key is ${publicKey.asymmetricKeyType}, not ed25519`);
  }
  return { keyId: keyIdOf(publicKey), publicKey };
}

/** The verifying half of a raw 32-byte Ed25519 public key, as a KeyRotated frame carries it. */
export function verifyingKeyFromRaw(raw: Buffer): AuditVerifyingKey {
  if (raw.length !== ED25519_RAW_BYTES) throw new Error('ed25519 public key must be 32 bytes');
  const jwk = { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') };
  const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
  return { keyId: keyIdOf(publicKey), publicKey };
}

/** Signs the statement that `logId`'s chain up to `headSequence` ends in `headHash`. */
export function signCheckpoint(
  key: AuditSigningKey,
  logId: string,
  headSequence: number,
  headHash: Buffer,
): CheckpointEvent {
  const statement = checkpointStatement(logId, headSequence, headHash, key.keyId);
  return {
    headSequence,
    headHash,
    keyId: key.keyId,
    signature: sign(null, statement, key.privateKey),
  };
}

/** True when `checkpoint` is signed by `key` for `logId`. */
export function checkpointSignedBy(
  key: AuditVerifyingKey,
  logId: string,
  checkpoint: CheckpointEvent,
): boolean {
  const { headSequence, headHash, keyId, signature } = checkpoint;
  if (keyId !== key.keyId) return false;
  const statement = checkpointStatement(logId, headSequence, headHash, keyId);
  return verify(null, statement, key.publicKey, signature);
}

/**
 * The frame announcing that `next` signs from the frame at `sequence` on, signed by both
 * keys: the old key vouches for the new one, the new one proves it is held.
 */
export function signRotation(
  previous: AuditSigningKey,
  next: AuditSigningKey,
  logId: string,
  sequence: number,
): KeyRotatedEvent {
  const publicKey = rawPublicKey(next.publicKey);
  const statement = rotationStatement(logId, sequence, previous.keyId, next.keyId, publicKey);
  return {
    previousKeyId: previous.keyId,
    keyId: next.keyId,
    publicKey,
    previousKeySignature: sign(null, statement, previous.privateKey),
    keySignature: sign(null, statement, next.privateKey),
  };
}

/** Which signatures of a rotation frame hold: `previous` under the old key, `next` the new. */
export function rotationSignatures(
  rotation: KeyRotatedEvent,
  logId: string,
  sequence: number,
  previousKey: AuditVerifyingKey | undefined,
): { readonly previous: boolean; readonly next: boolean } {
  const { previousKeyId, keyId, publicKey } = rotation;
  const statement = rotationStatement(logId, sequence, previousKeyId, keyId, publicKey);
  let nextKey: AuditVerifyingKey | undefined;
  try {
    nextKey = verifyingKeyFromRaw(publicKey);
  } catch {
    // A malformed public key proves nothing: both signatures count as not holding.
    return { previous: false, next: false };
  }
  return {
    previous:
      previousKey !== undefined &&
      previousKey.keyId === previousKeyId &&
      verify(null, statement, previousKey.publicKey, rotation.previousKeySignature),
    next:
      nextKey.keyId === keyId && verify(null, statement, nextKey.publicKey, rotation.keySignature),
  };
}

function checkpointStatement(
  logId: string,
  headSequence: number,
  headHash: Buffer,
  keyId: string,
): Buffer {
  const body = encodeStatement(AUDIT_TYPES.CheckpointStatement, {
    logId,
    headSequence,
    headHash,
    keyId,
  });
  return Buffer.concat([CHECKPOINT_DOMAIN, body]);
}

function rotationStatement(
  logId: string,
  sequence: number,
  previousKeyId: string,
  keyId: string,
  publicKey: Buffer,
): Buffer {
  const body = encodeStatement(AUDIT_TYPES.KeyRotationStatement, {
    logId,
    sequence,
    previousKeyId,
    keyId,
    publicKey,
  });
  return Buffer.concat([ROTATION_DOMAIN, body]);
}
