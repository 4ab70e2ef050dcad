// The security team's X25519 sealing key: made, named by key id, read from PEM, and written.

import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { ProxyError, isProxyError } from '../errors/proxy-error';
import {
  PRIVATE_KEY_MODE,
  PUBLIC_MATERIAL_MODE,
  materialFileExists,
  writeMaterialFile,
} from '../identity/pki/pki-material-files';

/** The length of a raw X25519 public key (RFC 7748 §5). */
export const X25519_RAW_BYTES = 32;

/** A new sealing key pair: the private half for the security team, the public for gateways. */
export interface SealingKeyPair {
  readonly keyId: string;
  /** PKCS #8 PEM. */
  readonly privateKeyPem: string;
  /** SPKI PEM. */
  readonly publicKeyPem: string;
}

/** A pair as `writeSealingKeyPair` wrote it, with where. */
export interface WrittenSealingKeyPair extends SealingKeyPair {
  readonly privateKeyFile: string;
  readonly publicKeyFile: string;
}

/** Makes a new X25519 sealing key pair. */
export function generateSealingKeyPair(): SealingKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return {
    keyId: sealingKeyIdOf(publicKey),
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

/** The raw 32-byte public key; rejects a key that is not X25519 with ERR_AUDIT_KEY_INVALID. */
export function rawSealingPublicKey(publicKey: KeyObject): Buffer {
  expectX25519(publicKey, 'the sealing key');
  const { x } = publicKey.export({ format: 'jwk' });
  return Buffer.from(x ?? '', 'base64url');
}

/** A sealing key's id: the first 16 hex digits of the SHA-256 of its raw public key. */
export function sealingKeyIdOf(publicKey: KeyObject): string {
  const raw = rawSealingPublicKey(publicKey);
  return createHash('sha256').update(raw).digest('hex').slice(0, 16);
}

/** The public key of a raw 32-byte X25519 key, as a sealed record carries its ephemeral key. */
export function sealingPublicKeyFromRaw(raw: Buffer): KeyObject {
  if (raw.length !== X25519_RAW_BYTES) {
    throw sealingKeyError(`an X25519 public key is ${X25519_RAW_BYTES} bytes, not ${raw.length}`);
  }
  const jwk = { kty: 'OKP', crv: 'X25519', x: raw.toString('base64url') };
  return createPublicKey({ key: jwk, format: 'jwk' });
}

/**
 * Reads an SPKI PEM X25519 public key; `source` (a file name) is what error messages name.
 * Rejects anything else with ERR_AUDIT_KEY_INVALID.
 */
export function sealingPublicKeyFromPem(pem: string | Buffer, source: string): KeyObject {
  return parseSealingKey(() => createPublicKey(pem), source, 'an SPKI PEM public key');
}

/**
 * Reads a PKCS #8 PEM X25519 private key; `source` (a file name) is what error messages name.
 * Rejects anything else with ERR_AUDIT_KEY_INVALID.
 */
export function sealingPrivateKeyFromPem(pem: string | Buffer, source: string): KeyObject {
  return parseSealingKey(() => createPrivateKey(pem), source, 'a PKCS #8 PEM private key');
}

/**
 * Writes a new pair as `<prefix>.key.pem` (owner-only) and `<prefix>.pub.pem`. Refuses, with
 * ERR_AUDIT_KEY_INVALID, to replace either file: overwriting a sealing key would leave every
 * original sealed to it unreadable for good.
 */
export function writeSealingKeyPair(prefix: string): WrittenSealingKeyPair {
  const privateKeyFile = `${prefix}.key.pem`;
  const publicKeyFile = `${prefix}.pub.pem`;
  for (const file of [privateKeyFile, publicKeyFile]) {
    if (sealingStep(() => materialFileExists(file))) {
      throw sealingKeyError(`${file} exists already; choose another --out`);
    }
  }

  const pair = generateSealingKeyPair();
  sealingStep(() => writeMaterialFile(privateKeyFile, pair.privateKeyPem, PRIVATE_KEY_MODE));
  sealingStep(() => writeMaterialFile(publicKeyFile, pair.publicKeyPem, PUBLIC_MATERIAL_MODE));
  return { ...pair, privateKeyFile, publicKeyFile };
}

function parseSealingKey(parse: () => KeyObject, source: string, what: string): KeyObject {
  let key: KeyObject;
  try {
    key = parse();
  } catch (err) {
    throw sealingKeyError(`${source} is not ${what}`, err);
  }
  expectX25519(key, source);
  return key;
}

function expectX25519(key: KeyObject, source: string): void {
  if (key.asymmetricKeyType !== 'x25519') {
    throw sealingKeyError(`${source} holds a ${key.asymmetricKeyType ?? key.type} key, not X25519`);
  }
}

/** Runs a step of the shared PKI file helpers, reporting their failures as key errors. */
function sealingStep<T>(step: () => T): T {
  try {
    return step();
  } catch (err) {
    if (isProxyError(err)) throw sealingKeyError(err.message, err);
    throw err;
  }
}

function sealingKeyError(message: string, cause?: unknown): ProxyError {
  return new ProxyError('ERR_AUDIT_KEY_INVALID', message, { cause });
}
