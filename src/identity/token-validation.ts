// The checks every signed token passes here, access or ID token: algorithm, signature, claims.

import { decodeJwt, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import type { JWTPayload, ProtectedHeaderParameters } from 'jose';
import { ProxyError } from '../errors/proxy-error';
import type { TokenKeySet } from './token-key-set';
import { quoted } from './token-claims';

/** The `typ` of access tokens (RFC 9068 §2.1), which infergate's own tokens always carry. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** Longer tokens are refused unread: a JWT is a few hundred bytes, the header limit is larger. */
const MAX_TOKEN_CHARS = 8_192;

/** RFC 6750 §2.1 `b64token`, the syntax of Bearer credentials; a compact JWS fits it. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** What a token must satisfy beyond its signature. */
export interface TokenRules {
  readonly issuer: string;
  readonly audience: string;
  readonly algorithms: readonly string[];
  /** Clock skew allowed on `exp` and `nbf` (RFC 7519 §4.1.4, §4.1.5). */
  readonly leewaySeconds: number;
  /** The `typ` header the token must carry (RFC 8725 §3.11), or undefined for any. */
  readonly type: string | undefined;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
}

/** The parts of a token read before its signature is checked: only to choose its key set. */
export interface UnverifiedToken {
  readonly header: ProtectedHeaderParameters;
  readonly issuer: string;
}

/** Returns `token` if its length and characters could be a JWT; else ERR_TOKEN_INVALID. */
export function checkTokenSyntax(token: string): string {
  if (token.length > MAX_TOKEN_CHARS) {
    throw invalid(`token is longer than ${MAX_TOKEN_CHARS} characters`);
  }
  if (!B64TOKEN.test(token)) throw invalid('token is malformed');
  return token;
}

/**
 * Reads the protected header and the issuer a token claims. The `alg` is checked against
 * `algorithms` first (RFC 8725 §3.1): the verifier pins the algorithms, never the token, which
 * shuts out `none` and key-confusion attacks before any other part of the token is believed.
 * Rejects with ERR_TOKEN_INVALID.
 */
export function inspectToken(token: string, algorithms: readonly string[]): UnverifiedToken {
  const header = decodeOrRefuse(() => decodeProtectedHeader(token));
  if (typeof header.alg !== 'string') throw invalid('token header has no "alg"');
  if (!algorithms.includes(header.alg)) {
    throw invalid(`token algorithm ${quoted(header.alg)} is not allowed`);
  }

  const issuer = decodeOrRefuse(() => decodeJwt(token)).iss;
  if (typeof issuer !== 'string' || issuer.length === 0) throw invalid('token has no "iss" claim');
  return { header, issuer };
}

/**
 * Verifies signature and claims with jose: the issuer, the audience (RFC 8725 §3.9), the pinned
 * algorithms, `exp` (required), `nbf` and the type. Only the key set is consulted for keys:
 * `jku`, `x5u` and `jwk` headers are never followed, as anyone can put their own key there
 * (RFC 8725 §3.4). Rejects with ERR_TOKEN_INVALID, or ERR_IDENTITY_UNAVAILABLE from the key set.
 */
export async function verifySignedToken(
  token: string,
  header: ProtectedHeaderParameters,
  keySet: TokenKeySet,
  rules: TokenRules,
): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(token, keySet, {
      issuer: rules.issuer,
      audience: rules.audience,
      algorithms: [...rules.algorithms],
      clockTolerance: rules.leewaySeconds,
      currentDate: new Date(rules.now()),
      requiredClaims: ['exp', 'sub'],
      ...(rules.type === undefined ? {} : { typ: rules.type }),
    });
    return payload;
  } catch (err) {
    throw refusal(err, header, rules);
  }
}

function decodeOrRefuse<T>(decode: () => T): T {
  try {
    return decode();
  } catch {
    // Not kept as `cause`: a JSON parse error quotes a piece of the decoded token.
    throw invalid('token is malformed');
  }
}

/** A jose failure as a message that names the failed check and no part of the token. */
function refusal(err: unknown, header: ProtectedHeaderParameters, rules: TokenRules): unknown {
  if (err instanceof ProxyError) return err;
  if (err instanceof errors.JWTExpired) return invalid('token has expired');
  if (err instanceof errors.JWTClaimValidationFailed) return claimRefusal(err, header, rules);
  const issuer = quoted(rules.issuer);
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return invalid(`token signature does not verify with the keys of issuer ${issuer}`, err);
  }
  if (err instanceof errors.JWKSNoMatchingKey) return invalid(unknownKey(header, issuer), err);
  if (err instanceof errors.JWKSMultipleMatchingKeys) {
    return invalid(`token matches several keys of issuer ${issuer}; it needs a "kid"`, err);
  }
  if (err instanceof errors.JOSEError) return invalid('token is malformed');
  return err;
}

function unknownKey(header: ProtectedHeaderParameters, issuer: string): string {
  return header.kid === undefined
    ? `token names no key id and no key of issuer ${issuer} fits it`
    : `token key id ${quoted(header.kid)} is not a key of issuer ${issuer}`;
}

/**
 * The failed claim check, by claim. The jose error is not kept as `cause`: it carries the whole
 * claims set, which has no place in logs.
 */
function claimRefusal(
  err: InstanceType<typeof errors.JWTClaimValidationFailed>,
  header: ProtectedHeaderParameters,
  rules: TokenRules,
): ProxyError {
  if (err.reason === 'missing') return invalid(`token has no ${quoted(err.claim)} claim`);
  switch (err.claim) {
    case 'nbf':
      return invalid('token is not yet valid');
    case 'aud':
      return invalid(`token audience ${quoted(err.payload.aud)} is not ${quoted(rules.audience)}`);
    case 'iss':
      return invalid(`token issuer ${quoted(err.payload.iss)} is not ${quoted(rules.issuer)}`);
    case 'typ':
      return invalid(`token type ${typeOf(header)} is not ${quoted(rules.type)}`);
    default:
      return invalid(`token claim ${quoted(err.claim)} is invalid`);
  }
}

function typeOf(header: ProtectedHeaderParameters): string {
  return header.typ === undefined ? '(none)' : quoted(header.typ);
}

function invalid(message: string, cause?: unknown): ProxyError {
  return new ProxyError('ERR_TOKEN_INVALID', message, cause === undefined ? {} : { cause });
}
