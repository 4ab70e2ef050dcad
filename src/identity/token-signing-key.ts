// infergate's own token-signing key: read from PEM, with the public JWK its tokens verify by.

import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { ProxyError } from '../errors/proxy-error';

/** The JWS algorithms infergate signs with: EdDSA (RFC 8037 §3.1) and ES256 (RFC 7518 §3.4). */
export type SigningAlgorithm = 'EdDSA' | 'ES256';

/** A private key with what a token header and the published key set say about it. */
export interface TokenSigningKey {
  readonly privateKey: KeyObject;
  /** The one algorithm this key signs and verifies with (RFC 8725 §3.1). */
  readonly algorithm: SigningAlgorithm;
  /** RFC 7638 JWK thumbprint of the public key: stable across restarts, new when the key is. */
  readonly keyId: string;
  /** The public key as a JWK carrying `kid`, `alg` and `use`; never any private member. */
  readonly publicJwk: Readonly<Record<string, string>>;
}

/**
 * Reads an issuer's private key (PKCS#8 PEM). Rejects, with ERR_PKI_MATERIAL_INVALID, text that
 * is no private key and keys other than Ed25519 and P-256.
 */
export function readTokenSigningKey(pem: string): TokenSigningKey {
  const privateKey = parsePrivateKey(pem);
  const algorithm = signingAlgorithm(privateKey);

  const exported = createPublicKey(privateKey).export({ format: 'jwk' });
  const members = thumbprintMembers(exported);
  const keyId = createHash('sha256').update(JSON.stringify(members)).digest('base64url');

  return {
    privateKey,
    algorithm,
    keyId,
    publicJwk: Object.freeze({ ...members, kid: keyId, alg: algorithm, use: 'sig' }),
  };
}

function parsePrivateKey(pem: string): KeyObject {
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new ProxyError('ERR_PKI_MATERIAL_INVALID', 'token issuer key is not a PEM private key', {
      cause: err,
    });
  }
}

function signingAlgorithm(key: KeyObject): SigningAlgorithm {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') return 'EdDSA';
  if (type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const described = curve === undefined ? String(type) : `${type} ${curve}`;
  throw new ProxyError(
    'ERR_PKI_MATERIAL_INVALID',
    `token issuer key type "${described}" is not Ed25519 or P-256`,
  );
}

/**
 * The required members of the public key in lexicographic order, which is exactly the input of
 * the RFC 7638 §3.2 thumbprint once serialised without whitespace.
 */
function thumbprintMembers(jwk: Record<string, unknown>): Record<string, string> {
  const text = (member: string) => String(jwk[member]);
  if (jwk.kty === 'OKP') return { crv: text('crv'), kty: 'OKP', x: text('x') };
  return { crv: text('crv'), kty: 'EC', x: text('x'), y: text('y') };
}
