// Who calls: what the certificate proved, what the token claimed, and the roles they grant.

import type { PeerCertificate } from './peer-certificate';

/** The claims of a verified access token that the gateway records and decides on. */
export interface TokenFacts {
  readonly subject: string;
  readonly issuer: string;
  /** `jti`, when the token has one. */
  readonly tokenId: string | undefined;
  readonly roles: readonly string[];
  readonly expiresAt: Date;
}

/**
 * An authenticated caller. Only built once the certificate chained to a trusted CA and, where
 * tokens are configured, the token verified and was bound to that certificate; `roles` is the
 * union of the roles the token carries and those configuration maps to the certificate.
 */
export interface Identity {
  /** The token's `sub`; without tokens, the certificate's common name (or whole subject). */
  readonly subject: string;
  readonly certificate: PeerCertificate;
  /** undefined on a gateway that checks certificates only. */
  readonly token: TokenFacts | undefined;
  readonly roles: readonly string[];
}
