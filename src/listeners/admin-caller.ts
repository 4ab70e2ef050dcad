// Who calls an admin endpoint that acts on the audit trail or reviews: certificate and token.

import type { z } from 'zod';
import { isProxyError } from '../errors/proxy-error';
import type { CertificateRoles } from '../identity/certificate-roles';
import type { Identity, TokenFacts } from '../identity/identity';
import type { PeerCertificate } from '../identity/peer-certificate';
import {
  RevocationError,
  certificateRevocation,
  tokenRevocation,
  type RevocationCheck,
} from '../revocations/revocation-check';

/** What checks a bearer token against the certificate it must be bound to. */
export interface BoundTokenVerifier {
  verify(authorization: string | undefined, certificate: PeerCertificate): Promise<TokenFacts>;
}

/**
 * `verifier`, refusing as well what `revocations` names: a revoked certificate before its token
 * is looked at, a verified token whose `jti` is revoked, and everyone while the list is stale.
 * Refusals reject with a RevocationError, which {@link authenticateAdminCaller} answers.
 */
export function checkingRevocations(
  verifier: BoundTokenVerifier,
  revocations: RevocationCheck,
): BoundTokenVerifier {
  return {
    async verify(authorization, certificate) {
      const refused = certificateRevocation(revocations, certificate);
      if (refused !== undefined) throw refused;
      const token = await verifier.verify(authorization, certificate);
      const revoked = tokenRevocation(revocations, token);
      if (revoked !== undefined) throw revoked;
      return token;
    },
  };
}

/** An admin endpoint's JSON answer: status, body and any extra headers. */
export interface AdminAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers?: Record<string, string>;
}

/** What a refusal is logged with: why, and what the caller presented. */
export type AdminRefusalLog = (
  why: string,
  certificate: PeerCertificate | undefined,
  subject?: string,
) => void;

/** An OpenAI-style error answer, as the admin listener's other errors are. */
export function adminFailure(status: number, type: string, message: string): AdminAnswer {
  return { status, body: { error: { message, type } } };
}

/**
 * The caller of an admin request: a client certificate TLS verified, and a bearer token
 * `verifier` accepts for that very certificate (RFC 8705), with the token's roles and those
 * the certificate earns. Otherwise the answer that refuses it: 401 (RFC 6750 §3: naming the
 * Bearer scheme), or 503 when the issuer's keys cannot be fetched or the revocations cannot be
 * checked (fail closed). A revocation refusal is logged and typed with its own detail.
 */
export async function authenticateAdminCaller(
  request: {
    readonly certificate: PeerCertificate | undefined;
    readonly authorization: string | undefined;
  },
  verifier: BoundTokenVerifier,
  certificateRoles: CertificateRoles,
  refused: AdminRefusalLog,
): Promise<(Identity & { readonly token: TokenFacts }) | AdminAnswer> {
  const certificate = request.certificate;
  if (certificate === undefined) {
    refused('client_cert_missing', undefined);
    return adminFailure(401, 'unauthorized', 'a trusted client certificate is required');
  }
  let token: TokenFacts;
  try {
    token = await verifier.verify(request.authorization, certificate);
  } catch (err) {
    if (!isProxyError(err)) throw err;
    const detail = err instanceof RevocationError ? err.detail : undefined;
    refused(detail ?? err.code, certificate);
    if (err.code === 'ERR_IDENTITY_UNAVAILABLE') {
      return adminFailure(503, detail ?? 'identity_unavailable', err.message);
    }
    const headers = { 'www-authenticate': 'Bearer realm="infergate"' };
    return { ...adminFailure(401, 'unauthorized', err.message), headers };
  }
  const roles = [...new Set([...token.roles, ...certificateRoles(certificate)])];
  return { subject: token.subject, certificate, token, roles };
}

/** A JSON body read with `schema`, or the 400 saying what is wrong with it (never its values). */
export function parseAdminBody<T>(body: string, schema: z.ZodType<T>): T | AdminAnswer {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    // The parser's message quotes the body; the caller is told only that it is not JSON.
    return adminFailure(400, 'invalid_request', 'the body is not JSON');
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const where = issue.path.length === 0 ? 'the body' : issue.path.join('.');
  return adminFailure(400, 'invalid_request', `${where}: ${issue.message}`);
}
