// What the request path asks of revocations: set lookups and one flag, and the refusals they give.

import type { ErrorCode } from '../errors/error-codes';
import { ProxyError } from '../errors/proxy-error';
import type { TokenFacts } from '../identity/identity';
import type { PeerCertificate } from '../identity/peer-certificate';

/**
 * The revocations a gateway holds, answered from memory without waiting: the request path asks
 * on every exchange, so each answer is one set lookup or one field read.
 */
export interface RevocationCheck {
  /** True while the list may be missing revocations: every caller is then refused. */
  readonly stale: boolean;
  isCertificateRevoked(thumbprint: string): boolean;
  isTokenRevoked(tokenId: string): boolean;
}

/**
 * A refusal because of revocations. `detail` is the snake_case reason the access line, the
 * audit record and the admin listener's answer carry, finer than the code it is answered with.
 */
export class RevocationError extends ProxyError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly detail: string,
  ) {
    super(code, message);
  }
}

/**
 * Why `certificate` is refused, or undefined when it is not. A revoked certificate is refused as
 * one on a CRL is (`ERR_CLIENT_CERT_INVALID`, 401 / UNAUTHENTICATED); while the list is stale
 * every certificate is (`ERR_IDENTITY_UNAVAILABLE`, 503 / UNAVAILABLE): a revocation that did not
 * reach this gateway must not be what lets its holder in (fail closed).
 */
export function certificateRevocation(
  check: RevocationCheck,
  certificate: PeerCertificate,
): RevocationError | undefined {
  if (check.isCertificateRevoked(certificate.thumbprint)) {
    return new RevocationError(
      'ERR_CLIENT_CERT_INVALID',
      'client certificate is revoked',
      'client_cert_revoked',
    );
  }
  if (!check.stale) return undefined;
  return new RevocationError(
    'ERR_IDENTITY_UNAVAILABLE',
    'revocations cannot be checked now',
    'revocations_unavailable',
  );
}

/**
 * Why a verified token is refused, or undefined: its `jti` is revoked (`ERR_TOKEN_INVALID`, as
 * an invalid token is). Limitation: a token without a `jti` cannot be revoked alone; revoking
 * its certificate refuses it.
 */
export function tokenRevocation(
  check: RevocationCheck,
  token: TokenFacts,
): RevocationError | undefined {
  if (token.tokenId === undefined || !check.isTokenRevoked(token.tokenId)) return undefined;
  return new RevocationError('ERR_TOKEN_INVALID', 'token is revoked', 'token_revoked');
}
