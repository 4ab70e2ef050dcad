// Verifies the bearer token of a request and that it is bound to the connection's certificate.

import type { JWTPayload } from 'jose';
import type { AuthConfig } from '../config/gateway-config';
import { ProxyError } from '../errors/proxy-error';
import type { TokenFacts } from './identity';
import type { PeerCertificate } from './peer-certificate';
import { checkCertificateBinding } from './token-binding';
import { quoted, readRoles, readSubject, readTokenId } from './token-claims';
import {
  createFileKeySet,
  createTokenKeySet,
  KEY_SET_FETCH_DEFAULTS,
  type KeySetFetchOptions,
  type TokenKeySet,
} from './token-key-set';
import { readTokenSigningKey } from './token-signing-key';
import { TokenVerificationCache, TOKEN_CACHE_MAX_ENTRIES } from './token-verification-cache';
import {
  ACCESS_TOKEN_TYPE,
  checkTokenSyntax,
  inspectToken,
  verifySignedToken,
  type TokenRules,
} from './token-validation';

/** Schemes a message may name; anything else in `authorization` could be a secret itself. */
const KNOWN_SCHEMES = new Set(['basic', 'digest', 'dpop', 'negotiate', 'ntlm', 'token', 'mac']);

/** What a verifier may be given besides configuration. */
export interface TokenVerifierOptions {
  /** Milliseconds since the epoch; `Date.now` unless a test fixes time. */
  readonly now?: () => number;
  /** How many verified tokens the cache keeps (at least 1). */
  readonly cacheMaxEntries?: number;
  readonly keySetFetch?: KeySetFetchOptions;
}

/** One issuer whose tokens are accepted: where its keys are and what its tokens must be. */
interface IssuerTrust {
  readonly keySet: TokenKeySet;
  readonly rules: TokenRules;
}

/**
 * Checks access tokens against the issuers `auth` trusts. Build one per configuration and keep
 * it: it holds each issuer's fetched key set and the cache of verified tokens. The constructor
 * rejects an issuer key that cannot sign tokens (ERR_PKI_MATERIAL_INVALID) and an issuer named
 * twice (ERR_CONFIG_INVALID).
 */
export class TokenVerifier {
  private readonly auth: AuthConfig;
  private readonly issuers: ReadonlyMap<string, IssuerTrust>;
  private readonly cache: TokenVerificationCache;

  constructor(auth: AuthConfig, options: TokenVerifierOptions = {}) {
    const now = options.now ?? Date.now;
    this.auth = auth;
    this.issuers = trustedIssuers(auth, now, options.keySetFetch ?? KEY_SET_FETCH_DEFAULTS);
    this.cache = new TokenVerificationCache(
      now,
      options.cacheMaxEntries ?? TOKEN_CACHE_MAX_ENTRIES,
    );
  }

  /**
   * Verifies `authorization` (the raw header value) for a connection that presented
   * `certificate`. Rejects with ERR_TOKEN_MISSING (no bearer token), ERR_TOKEN_INVALID
   * (algorithm, issuer, signature, key id, audience, lifetime, claims), ERR_TOKEN_NOT_BOUND
   * (RFC 8705 `cnf` missing or for another certificate) or ERR_IDENTITY_UNAVAILABLE (the
   * issuer's keys cannot be fetched).
   */
  async verify(
    authorization: string | undefined,
    certificate: PeerCertificate,
  ): Promise<TokenFacts> {
    const token = bearerToken(authorization);
    const cached = this.cache.get(token, certificate.thumbprint);
    if (cached !== undefined) return cached;

    const facts = await this.verifyInFull(token, certificate);
    this.cache.set(token, certificate.thumbprint, facts);
    return facts;
  }

  /**
   * The facts of a token this verifier already accepted for this certificate and that is still
   * valid, or undefined: the hot path's answer without a promise, since nearly every request
   * carries a token seen before. Never throws; `verify` explains any refusal.
   */
  verifyCached(
    authorization: string | undefined,
    certificate: PeerCertificate,
  ): TokenFacts | undefined {
    let token: string;
    try {
      token = bearerToken(authorization);
    } catch {
      // No bearer token: `verify` answers with the reason.
      return undefined;
    }
    return this.cache.get(token, certificate.thumbprint);
  }

  private async verifyInFull(token: string, certificate: PeerCertificate): Promise<TokenFacts> {
    const { header, issuer } = inspectToken(token, this.auth.algorithms);
    const trust = this.issuers.get(issuer);
    if (trust === undefined) {
      throw new ProxyError('ERR_TOKEN_INVALID', `token issuer ${quoted(issuer)} is not trusted`);
    }

    const payload = await verifySignedToken(token, header, trust.keySet, trust.rules);
    checkCertificateBinding(payload, certificate.thumbprint);
    return tokenFacts(payload, issuer, this.auth.rolesClaim);
  }
}

/**
 * Every issuer with its key set, built once: a remote set kept for the verifier's life is what
 * makes jose's refetch cooldown hold across requests.
 */
function trustedIssuers(
  auth: AuthConfig,
  now: () => number,
  fetch: KeySetFetchOptions,
): ReadonlyMap<string, IssuerTrust> {
  const issuers = new Map<string, IssuerTrust>();
  const add = (issuer: string, keySet: TokenKeySet, type: string | undefined) => {
    if (issuers.has(issuer)) {
      throw new ProxyError('ERR_CONFIG_INVALID', `token issuer ${quoted(issuer)} is named twice`);
    }
    const { audience, algorithms, leewaySeconds } = auth;
    issuers.set(issuer, {
      keySet,
      rules: { issuer, audience, algorithms, leewaySeconds, type, now },
    });
  };

  if (auth.issuer !== undefined) {
    const key = readTokenSigningKey(auth.issuer.privateKeyPem);
    // Explicit typing (RFC 8725 §3.11): an ID token this issuer might sign is no access token.
    add(auth.issuer.issuer, ownKeySet(auth.issuer.issuer, key.publicJwk), ACCESS_TOKEN_TYPE);
  }
  for (const trusted of auth.trustedIssuers) {
    // Other issuers type their access tokens as they please (many write `JWT`); the audience
    // and the certificate binding are what keep their ID tokens out.
    add(trusted.issuer, createTokenKeySet(trusted.issuer, trusted, fetch), undefined);
  }
  return issuers;
}

function ownKeySet(issuer: string, publicJwk: Readonly<Record<string, string>>): TokenKeySet {
  return createFileKeySet(issuer, { keys: [publicJwk] });
}

/**
 * The token of `Bearer` credentials, the scheme matched case-insensitively (RFC 9110 §11.1);
 * ERR_TOKEN_MISSING for none or another scheme.
 */
function bearerToken(authorization: string | undefined): string {
  const value = authorization?.trim() ?? '';
  const space = value.indexOf(' ');
  const scheme = space < 0 ? value : value.slice(0, space);
  if (value === '') throw new ProxyError('ERR_TOKEN_MISSING', 'request carries no bearer token');
  if (scheme.toLowerCase() !== 'bearer') throw notBearer(scheme);

  const token = value.slice(scheme.length).trim();
  if (token === '') throw new ProxyError('ERR_TOKEN_MISSING', 'request carries no bearer token');
  return checkTokenSyntax(token);
}

/** Schemes are named only when known: a scheme-less header may hold a secret in that place. */
function notBearer(scheme: string): ProxyError {
  const named = KNOWN_SCHEMES.has(scheme.toLowerCase()) ? ` ${quoted(scheme)}` : '';
  return new ProxyError('ERR_TOKEN_MISSING', `authorization scheme${named} is not Bearer`);
}

function tokenFacts(payload: JWTPayload, issuer: string, rolesClaim: string): TokenFacts {
  return Object.freeze({
    subject: readSubject(payload),
    issuer,
    tokenId: readTokenId(payload),
    roles: readRoles(payload, rolesClaim),
    // jose has checked that `exp` is present and a number.
    expiresAt: new Date((payload.exp as number) * 1000),
  });
}
