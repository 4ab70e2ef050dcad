// The authentication filter: a verified client certificate, then a token bound to it.

import type { IncomingHttpHeaders } from 'node:http2';
import { isProxyError } from '../../errors/proxy-error';
import type { ErrorCode } from '../../errors/error-codes';
import type { TokenFacts } from '../../identity/identity';
import type { PeerCertificate } from '../../identity/peer-certificate';
import type { TlsPeer } from '../../identity/tls-peer';
import type { Exchange } from '../../pipeline/exchange';
import type { ExchangeMessage, Filter, FilterFactory, HeadersResult } from '../../pipeline/filter';
import { LocalReply } from '../../pipeline/local-reply';
import {
  certificateRevocation,
  tokenRevocation,
  type RevocationCheck,
  type RevocationError,
} from '../../revocations/revocation-check';

/** What the filter needs to check a token; the gateway's TokenVerifier is one. */
export interface BearerTokenVerifier {
  /** The facts of a token verified before for this certificate, without waiting; or undefined. */
  verifyCached(
    authorization: string | undefined,
    certificate: PeerCertificate,
  ): TokenFacts | undefined;
  /** Resolves with the token's facts, or rejects with a ProxyError saying why it was refused. */
  verify(authorization: string | undefined, certificate: PeerCertificate): Promise<TokenFacts>;
}

/** Parsed once at start-up from the `tls` and `auth` sections. */
export interface AuthenticationSettings {
  /** undefined when only mTLS is configured: a verified certificate is then enough. */
  readonly verifier: BearerTokenVerifier | undefined;
  /** Roles configuration grants a certificate by its attributes. */
  readonly certificateRoles: (certificate: PeerCertificate) => readonly string[];
  /** The revocations every replica shares; undefined when CRL files are the only ones. */
  readonly revocations?: RevocationCheck | undefined;
}

/** OpenSSL's verification results, as a caller should read them. */
const CERTIFICATE_PROBLEMS: Readonly<Record<string, string>> = {
  CERT_HAS_EXPIRED: 'client certificate has expired',
  CERT_NOT_YET_VALID: 'client certificate is not yet valid',
  CERT_REVOKED: 'client certificate is revoked',
  UNABLE_TO_GET_CRL: 'no revocation list is loaded for the client certificate issuer',
  CRL_HAS_EXPIRED: 'the revocation list for the client certificate issuer has expired',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'client certificate is not issued by a trusted CA',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'client certificate is not issued by a trusted CA',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'client certificate is not issued by a trusted CA',
  SELF_SIGNED_CERT_IN_CHAIN: 'client certificate is not issued by a trusted CA',
  CERT_SIGNATURE_FAILURE: 'client certificate signature does not verify',
};

/**
 * Refuses an exchange unless its connection presented a client certificate that TLS verified
 * and, when tokens are configured, a bearer token that verifies and is bound to that very
 * certificate (RFC 8705 §3): a token copied off one machine is useless without the private key
 * of that machine's certificate. With shared revocations, neither the certificate's thumbprint
 * nor the token's `jti` may be revoked, checked on every exchange (a token the verifier
 * remembers too), and nobody passes while the list is stale. On success the exchange carries
 * the caller's identity.
 */
class AuthenticationFilter implements Filter {
  constructor(
    private readonly exchange: Exchange,
    private readonly settings: AuthenticationSettings,
  ) {}

  onRequestHeaders(headers: IncomingHttpHeaders): HeadersResult {
    const peer = this.exchange.session.tls;
    if (peer === undefined) return undefined;
    const refusal = certificateRefusal(peer) ?? this.revokedCertificate(peer.certificate!);
    if (refusal !== undefined) return refusal;
    const certificate = peer.certificate!;
    const verifier = this.settings.verifier;
    if (verifier === undefined) return this.accept(certificate, undefined);
    // A token seen before is answered at once, so the exchange does not wait a turn for it.
    const known = verifier.verifyCached(headers.authorization, certificate);
    if (known !== undefined) return this.acceptToken(certificate, known);
    return verifier.verify(headers.authorization, certificate).then(
      (token) => this.acceptToken(certificate, token),
      (err: unknown) => tokenRefusal(err),
    );
  }

  private revokedCertificate(certificate: PeerCertificate): LocalReply | undefined {
    const revocations = this.settings.revocations;
    if (revocations === undefined) return undefined;
    const revoked = certificateRevocation(revocations, certificate);
    return revoked === undefined ? undefined : new LocalReply(revoked, revoked.detail);
  }

  /** After verification, so a remembered token is checked against the list as a new one is. */
  private acceptToken(certificate: PeerCertificate, token: TokenFacts): LocalReply | undefined {
    const revocations = this.settings.revocations;
    const revoked = revocations === undefined ? undefined : tokenRevocation(revocations, token);
    if (revoked !== undefined) return revokedTokenReply(revoked);
    return this.accept(certificate, token);
  }

  private accept(certificate: PeerCertificate, token: TokenFacts | undefined): undefined {
    const certificateRoles = this.settings.certificateRoles(certificate);
    this.exchange.identity = {
      subject: token?.subject ?? certificate.commonName ?? certificate.subject,
      certificate,
      token,
      roles: token === undefined ? certificateRoles : union(token.roles, certificateRoles),
    };
    return undefined;
  }
}

function certificateRefusal(peer: TlsPeer): LocalReply | undefined {
  if (peer.certificate === undefined) {
    return LocalReply.of(
      'ERR_CLIENT_CERT_MISSING',
      'a client certificate is required',
      'client_cert_missing',
    );
  }
  if (peer.verified) return undefined;
  const code = peer.verifyError ?? 'UNKNOWN';
  const message = CERTIFICATE_PROBLEMS[code] ?? `client certificate is not trusted (${code})`;
  return LocalReply.of('ERR_CLIENT_CERT_INVALID', message, 'client_cert_invalid');
}

/** RFC 6750 §3: a 401 names the scheme, and `invalid_token` when a token was presented. */
function tokenRefusal(err: unknown): LocalReply {
  if (!isProxyError(err)) return LocalReply.fromError(err);
  const reply = LocalReply.fromError(err);
  const challenge = bearerChallenge(err.code, err.message);
  return challenge === undefined ? reply : new LocalReply(err, reply.detail, [challenge]);
}

/** A revoked token is answered as an invalid one, with its own detail. */
function revokedTokenReply(revoked: RevocationError): LocalReply {
  const challenge = bearerChallenge(revoked.code, revoked.message);
  return new LocalReply(revoked, revoked.detail, challenge === undefined ? [] : [challenge]);
}

function bearerChallenge(code: ErrorCode, message: string): [string, string] | undefined {
  if (code === 'ERR_TOKEN_MISSING') return ['www-authenticate', 'Bearer realm="infergate"'];
  if (code !== 'ERR_TOKEN_INVALID' && code !== 'ERR_TOKEN_NOT_BOUND') return undefined;
  // error_description allows printable ASCII except '"' and '\' (RFC 6750 §3).
  const description = message.replace(/[^\x20-\x7e]|["\\]/g, '');
  const value = `Bearer realm="infergate", error="invalid_token", error_description="${description}"`;
  return ['www-authenticate', value];
}

function union(first: readonly string[], second: readonly string[]): readonly string[] {
  if (second.length === 0) return first;
  return [...new Set([...first, ...second])];
}

/** Builds the authentication filter from settings parsed once at start-up. */
export function authenticationFilterFactory<M extends ExchangeMessage>(
  settings: AuthenticationSettings,
): FilterFactory<M> {
  return {
    name: 'authentication',
    create: (exchange) => new AuthenticationFilter(exchange, settings),
  };
}
