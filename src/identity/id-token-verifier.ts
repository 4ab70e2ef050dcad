// Verifies the OIDC ID token a caller trades for an access token at the token endpoint (RFC 8693).

import type { TokenExchangeConfig } from '../config/gateway-config';
import { ProxyError } from '../errors/proxy-error';
import { quoted, readRoles, readSubject } from './token-claims';
import {
  createTokenKeySet,
  KEY_SET_FETCH_DEFAULTS,
  type KeySetFetchOptions,
  type TokenKeySet,
} from './token-key-set';
import {
  ACCESS_TOKEN_TYPE,
  checkTokenSyntax,
  inspectToken,
  verifySignedToken,
  type TokenRules,
} from './token-validation';

/** What an ID-token verifier takes from the rest of the `auth` section, and from tests. */
export interface IdTokenVerifierOptions {
  /** `AuthConfig.algorithms`: the same pinned allow-list as for access tokens. */
  readonly algorithms: readonly string[];
  readonly leewaySeconds: number;
  /** Milliseconds since the epoch; `Date.now` unless a test fixes time. */
  readonly now?: () => number;
  readonly keySetFetch?: KeySetFetchOptions;
}

/** Who the identity provider says the caller is, and the groups it lists as roles. */
export interface IdTokenFacts {
  readonly subject: string;
  readonly roles: readonly string[];
}

/**
 * Checks ID tokens of the organisation's identity provider. Build one per configuration and
 * keep it: its key set, when fetched from a URL, refetches only as often as its cooldown allows.
 */
export class IdTokenVerifier {
  private readonly exchange: TokenExchangeConfig;
  private readonly keySet: TokenKeySet;
  private readonly rules: TokenRules;

  constructor(exchange: TokenExchangeConfig, options: IdTokenVerifierOptions) {
    this.exchange = exchange;
    this.keySet = createTokenKeySet(
      exchange.issuer,
      exchange,
      options.keySetFetch ?? KEY_SET_FETCH_DEFAULTS,
    );
    this.rules = {
      issuer: exchange.issuer,
      audience: exchange.audience,
      algorithms: options.algorithms,
      leewaySeconds: options.leewaySeconds,
      type: undefined,
      now: options.now ?? Date.now,
    };
  }

  /**
   * Verifies `idToken` (the RFC 8693 `subject_token`). Rejects with ERR_TOKEN_MISSING when there
   * is none, ERR_TOKEN_INVALID when it fails a check (algorithm, issuer, signature, key id,
   * audience, lifetime, subject, type) and ERR_IDENTITY_UNAVAILABLE when the provider's keys
   * cannot be fetched.
   */
  async verify(idToken: string | undefined): Promise<IdTokenFacts> {
    if (idToken === undefined || idToken.length === 0) {
      throw new ProxyError('ERR_TOKEN_MISSING', 'token exchange needs an ID token');
    }
    const token = checkTokenSyntax(idToken);
    const { header, issuer } = inspectToken(token, this.rules.algorithms);
    this.checkKind(issuer, header.typ);

    const payload = await verifySignedToken(token, header, this.keySet, this.rules);
    return Object.freeze({
      subject: readSubject(payload),
      roles: readRoles(payload, this.exchange.rolesClaim),
    });
  }

  /**
   * Refuses tokens of another issuer before any key is fetched for them, and access tokens
   * (RFC 8725 §3.12): an access token of the same provider must not pass for a login.
   */
  private checkKind(issuer: string, type: unknown): void {
    if (issuer !== this.exchange.issuer) {
      throw new ProxyError('ERR_TOKEN_INVALID', `token issuer ${quoted(issuer)} is not trusted`);
    }
    const normalized = typeof type === 'string' ? type.toLowerCase() : '';
    if (normalized === ACCESS_TOKEN_TYPE || normalized === `application/${ACCESS_TOKEN_TYPE}`) {
      throw new ProxyError('ERR_TOKEN_INVALID', `token of type ${quoted(type)} is not an ID token`);
    }
  }
}
