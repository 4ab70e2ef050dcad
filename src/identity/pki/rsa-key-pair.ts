// RSA key pairs as both engines need them: Node's KeyObject to sign and check, forge's to build.

import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { invalidMaterial } from './pki-material-files';

/** Modulus of every key the engine generates (NIST SP 800-57: 112-bit security until 2030). */
export const RSA_MODULUS_BITS = 2048;

/** One RSA key pair in the three forms the engine uses. */
export interface RsaKeyPair {
  /** PKCS#8 PEM, the form written to `*-key.pem`. */
  readonly pem: string;
  readonly keyObject: KeyObject;
  readonly forgePrivateKey: forge.pki.rsa.PrivateKey;
  readonly forgePublicKey: forge.pki.rsa.PublicKey;
}

/**
 * Generates a key pair with Node's native generator; node-forge's own is written in JavaScript
 * and takes seconds per key, so forge only builds and signs certificates.
 */
export function generateRsaKeyPair(): RsaKeyPair {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: RSA_MODULUS_BITS });
  return rsaKeyPair(privateKey);
}

/**
 * Reads a PEM private key (PKCS#1 or unencrypted PKCS#8). Rejects anything else, naming `file`.
 *
 * Limitation: the engine signs and renews with RSA keys only, because node-forge builds RSA
 * certificates only; an operator's CA or certificate with an EC or Ed25519 key can be inspected
 * but not used to issue, renew or revoke.
 */
export function loadRsaPrivateKey(pem: string, file: string): RsaKeyPair {
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey(pem);
  } catch (err) {
    throw invalidMaterial(`${file} is not an unencrypted PEM private key`, err);
  }
  if (keyObject.asymmetricKeyType !== 'rsa') {
    throw invalidMaterial(`${file} holds a ${keyObject.asymmetricKeyType} key, not an RSA key`);
  }
  return rsaKeyPair(keyObject);
}

function rsaKeyPair(keyObject: KeyObject): RsaKeyPair {
  const pkcs1 = keyObject.export({ type: 'pkcs1', format: 'pem' }).toString();
  const forgePrivateKey = forge.pki.privateKeyFromPem(pkcs1) as forge.pki.rsa.PrivateKey;
  return {
    pem: keyObject.export({ type: 'pkcs8', format: 'pem' }).toString(),
    keyObject,
    forgePrivateKey,
    forgePublicKey: forge.pki.setRsaPublicKey(forgePrivateKey.n, forgePrivateKey.e),
  };
}
