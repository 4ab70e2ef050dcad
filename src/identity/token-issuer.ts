// infergate's own access tokens: short-lived JWTs bound to the client certificate (RFC 8705).

import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { JsonWebKeySet, OwnIssuerConfig } from '../config/gateway-config';
import { ProxyError } from '../errors/proxy-error';
import { readTokenSigningKey, type TokenSigningKey } from './token-signing-key';
import { quoted } from './token-claims';
import { ACCESS_TOKEN_TYPE } from './token-validation';

/** What a token issuer is built from. */
export interface TokenIssuerOptions {
  readonly issuer: OwnIssuerConfig;
  /** `aud` of every token: the audience the gateway's verifier expects. */
  readonly audience: string;
  /** The claim the roles go in, as the verifier reads them. */
  readonly rolesClaim: string;
  /** Milliseconds since the epoch; `Date.now` unless a test fixes time. */
  readonly now?: () => number;
}

/** Who a token is for and which certificate it is bound to. */
export interface TokenRequest {
  readonly subject: string;
  readonly roles: readonly string[];
  /** `x5t#S256` of the client certificate (RFC 8705 §3.1), as `PeerCertificate` has it. */
  readonly certificateThumbprint: string;
  /** Requested lifetime; capped at the issuer's configured `ttlSeconds`. */
  readonly ttlSeconds?: number;
}

/** A signed token and when it stops being accepted. */
export interface IssuedToken {
  readonly token: string;
  readonly expiresAt: Date;
  /** Its lifetime from `iat`: the `expires_in` of a token response (RFC 6749 §5.1). */
  readonly ttlSeconds: number;
}

/** A thumbprint is the unpadded base64url of a SHA-256 digest: 43 characters. */
const THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;

/**
 * Signs access tokens with infergate's issuer key. The constructor rejects a key that is neither
 * Ed25519 (signing EdDSA) nor P-256 (ES256) with ERR_PKI_MATERIAL_INVALID.
 */
export class TokenIssuer {
  private readonly options: TokenIssuerOptions;
  private readonly key: TokenSigningKey;
  private readonly now: () => number;

  constructor(options: TokenIssuerOptions) {
    this.options = options;
    this.key = readTokenSigningKey(options.issuer.privateKeyPem);
    this.now = options.now ?? Date.now;
  }

  /**
   * Signs a token for `request`, typed `at+jwt` (RFC 9068) and carrying `cnf` so that it is
   * good only on a connection with that certificate. Rejects with ERR_USAGE an empty subject, a
   * thumbprint that is not one, or a lifetime that is not a positive whole number of seconds.
   */
  async issue(request: TokenRequest): Promise<IssuedToken> {
    const ttlSeconds = this.lifetime(request);
    checkRequest(request);

    const issuedAt = Math.floor(this.now() / 1000);
    const expiresAt = issuedAt + ttlSeconds;
    const token = await new SignJWT(this.claims(request, issuedAt, expiresAt))
      .setProtectedHeader({
        alg: this.key.algorithm,
        typ: ACCESS_TOKEN_TYPE,
        kid: this.key.keyId,
      })
      .sign(this.key.privateKey);
    return { token, expiresAt: new Date(expiresAt * 1000), ttlSeconds };
  }

  /**
   * The public key set that verifies these tokens (RFC 7517 §5), for `/.well-known/jwks.json`.
   * Limitation: it holds the current key only, so when the key file is replaced, tokens signed
   * by the old key are refused from then on instead of living out their (short) lifetime.
   */
  publicJwks(): JsonWebKeySet {
    return Object.freeze({ keys: Object.freeze([this.key.publicJwk]) });
  }

  private lifetime(request: TokenRequest): number {
    const configured = this.options.issuer.ttlSeconds;
    const requested = request.ttlSeconds ?? configured;
    if (!Number.isSafeInteger(requested) || requested <= 0) {
      throw new ProxyError('ERR_USAGE', `token lifetime ${requested} is not a positive integer`);
    }
    return Math.min(requested, configured);
  }

  private claims(
    request: TokenRequest,
    issuedAt: number,
    expiresAt: number,
  ): Record<string, unknown> {
    // The roles claim goes first so that a roles claim named like a registered claim cannot
    // overwrite `iss`, `aud`, `exp` or `cnf`.
    return {
      [this.options.rolesClaim]: [...request.roles],
      iss: this.options.issuer.issuer,
      sub: request.subject,
      aud: this.options.audience,
      iat: issuedAt,
      exp: expiresAt,
      jti: randomUUID(),
      cnf: { 'x5t#S256': request.certificateThumbprint },
    };
  }
}

function checkRequest(request: TokenRequest): void {
  if (request.subject.length === 0) {
    throw new ProxyError('ERR_USAGE', 'token subject is empty');
  }
  if (!THUMBPRINT.test(request.certificateThumbprint)) {
    throw new ProxyError(
      'ERR_USAGE',
      `certificate thumbprint ${quoted(request.certificateThumbprint)} is not a SHA-256 digest`,
    );
  }
}
