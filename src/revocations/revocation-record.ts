// One revocation as the shared table holds it, and what a revoked value must look like.

/**
 * What is revoked: a client certificate, named by its RFC 8705 `x5t#S256` thumbprint, or one
 * access token, named by its `jti` (RFC 7519 §4.1.7).
 */
export type RevocationKind = 'certificate' | 'token';

/** Every kind, as the table's CHECK constraint lists them. */
export const REVOCATION_KINDS: readonly RevocationKind[] = ['certificate', 'token'];

/** One row of the revocation table. */
export interface Revocation {
  /** The row's `bigserial` id, in decimal: rows are read in its order. */
  readonly id: string;
  readonly kind: RevocationKind;
  /** The certificate's thumbprint, or the token's `jti`. */
  readonly value: string;
  readonly revokedAt: Date;
  readonly reason: string;
  readonly revokedBy: string;
}

/** What a new revocation says; the table gives it its id and time. */
export interface NewRevocation {
  readonly kind: RevocationKind;
  readonly value: string;
  readonly reason: string;
  readonly revokedBy: string;
}

/** base64url of a SHA-256 digest, without padding: always 43 characters. */
const THUMBPRINT_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** A `jti` as gateways compare it: printable ASCII, bounded so the list stays small per row. */
const TOKEN_ID_PATTERN = /^[\x21-\x7e]{1,256}$/;

/** Whether `value` can name a revoked `kind`: a thumbprint's form, or a plausible `jti`. */
export function isRevocationValue(kind: RevocationKind, value: string): boolean {
  return kind === 'certificate' ? THUMBPRINT_PATTERN.test(value) : TOKEN_ID_PATTERN.test(value);
}
