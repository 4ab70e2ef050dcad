// RFC 8705 §3.1 certificate binding: a token is only good on the connection of its certificate.

import { timingSafeEqual } from 'node:crypto';
import type { JWTPayload } from 'jose';
import { ProxyError } from '../errors/proxy-error';

/** The confirmation method of certificate-bound tokens (RFC 8705 §3.1). */
const X5T_S256 = 'x5t#S256';

/**
 * Checks that the token's `cnf` claim (RFC 7800) confirms the certificate whose thumbprint is
 * `thumbprint`. A stolen token is useless without the private key of that certificate, which is
 * why an unbound token is refused rather than accepted on the strength of its signature. A `cnf`
 * with only other methods (`jkt`, `jwk`) is refused too: this gateway can prove none of them
 * (fail closed). Rejects with ERR_TOKEN_NOT_BOUND.
 */
export function checkCertificateBinding(payload: JWTPayload, thumbprint: string): void {
  const confirmation = payload.cnf;
  const bound =
    confirmation !== null && typeof confirmation === 'object' && !Array.isArray(confirmation)
      ? (confirmation as Record<string, unknown>)[X5T_S256]
      : undefined;
  if (typeof bound !== 'string') {
    throw new ProxyError('ERR_TOKEN_NOT_BOUND', 'token is not bound to a certificate');
  }
  if (!sameThumbprint(bound, thumbprint)) {
    throw new ProxyError('ERR_TOKEN_NOT_BOUND', 'token is bound to another certificate');
  }
}

/**
 * Constant-time comparison, so response timing does not reveal how much of a guessed thumbprint
 * matched. Lengths are compared first: they are public (always 43 characters when well formed).
 */
function sameThumbprint(claimed: string, actual: string): boolean {
  const left = Buffer.from(claimed, 'utf8');
  const right = Buffer.from(actual, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
