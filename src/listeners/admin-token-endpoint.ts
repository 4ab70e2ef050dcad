// The token endpoint of the admin listener: access tokens bound to the caller's certificate.

import type { IdTokenVerifier } from '../identity/id-token-verifier';
import type { CertificateRoles } from '../identity/certificate-roles';
import type { PeerCertificate } from '../identity/peer-certificate';
import type { TokenIssuer } from '../identity/token-issuer';
import { isProxyError } from '../errors/proxy-error';
import { certificateRevocation, type RevocationCheck } from '../revocations/revocation-check';

/** RFC 8693 §2.1 and §3: the grant and the token type of an OIDC ID token. */
const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** Request bodies larger than this are refused: a form with one ID token is a few KiB. */
export const TOKEN_REQUEST_MAX_BYTES = 64 * 1024;

/** What the endpoint answers: a status and a JSON body (RFC 6749 §5.1 and §5.2). */
export interface TokenEndpointAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** What the endpoint is built from, once, at start-up. */
export interface TokenEndpointSettings {
  readonly issuer: TokenIssuer;
  readonly certificateRoles: CertificateRoles;
  /** The roles configuration defines: an ID token's groups grant only these. */
  readonly knownRoles: ReadonlySet<string>;
  /** The organisation's OIDC provider, when token exchange is configured. */
  readonly idTokens: IdTokenVerifier | undefined;
  /** True when every caller must bring an ID token (no certificate-only grant). */
  readonly idTokenRequired: boolean;
  /** The revocations every replica shares; undefined when CRL files are the only ones. */
  readonly revocations?: RevocationCheck | undefined;
}

/**
 * Issues access tokens. The caller is already authenticated by its verified client certificate;
 * the token is bound to that certificate (RFC 8705 §3), so it is worthless on any other
 * connection. Two grants: `client_credentials` (RFC 6749 §4.4) for service accounts, whose roles
 * come from the certificate's attributes, and token exchange (RFC 8693) of an ID token from the
 * organisation's OIDC provider, whose groups add the roles configuration defines.
 */
export class TokenEndpoint {
  constructor(private readonly settings: TokenEndpointSettings) {}

  /**
   * Answers one request whose form body is `body`, from a connection that presented
   * `certificate`. A revoked certificate gets no token (401 `invalid_client`), and nobody does
   * while the revocations cannot be checked (503 `temporarily_unavailable`).
   */
  async answer(certificate: PeerCertificate, body: string): Promise<TokenEndpointAnswer> {
    const revoked = this.revocationRefusal(certificate);
    if (revoked !== undefined) return revoked;
    const form = new URLSearchParams(body);
    const grant = form.get('grant_type') ?? '';
    if (grant === 'client_credentials') return this.certificateGrant(certificate);
    if (grant === TOKEN_EXCHANGE_GRANT) return this.exchangeGrant(certificate, form);
    return refusal(
      400,
      'unsupported_grant_type',
      'grant_type must be client_credentials or token exchange',
    );
  }

  /** RFC 6749 §5.2: a client whose certificate is revoked could not be authenticated. */
  private revocationRefusal(certificate: PeerCertificate): TokenEndpointAnswer | undefined {
    const revocations = this.settings.revocations;
    const refused =
      revocations === undefined ? undefined : certificateRevocation(revocations, certificate);
    if (refused === undefined) return undefined;
    if (refused.code === 'ERR_IDENTITY_UNAVAILABLE') {
      return refusal(503, 'temporarily_unavailable', refused.message);
    }
    return refusal(401, 'invalid_client', refused.message);
  }

  private async certificateGrant(certificate: PeerCertificate): Promise<TokenEndpointAnswer> {
    if (this.settings.idTokenRequired) {
      return refusal(
        400,
        'unauthorized_client',
        'this gateway issues tokens only in exchange for an ID token',
      );
    }
    const roles = this.settings.certificateRoles(certificate);
    const subject = certificate.uris[0] ?? certificate.commonName ?? certificate.subject;
    return this.issue(certificate, subject, roles, false);
  }

  private async exchangeGrant(
    certificate: PeerCertificate,
    form: URLSearchParams,
  ): Promise<TokenEndpointAnswer> {
    const verifier = this.settings.idTokens;
    if (verifier === undefined) {
      return refusal(400, 'unsupported_grant_type', 'token exchange is not configured');
    }
    if (form.get('subject_token_type') !== ID_TOKEN_TYPE) {
      return refusal(400, 'invalid_request', `subject_token_type must be ${ID_TOKEN_TYPE}`);
    }
    let facts;
    try {
      facts = await verifier.verify(form.get('subject_token') ?? undefined);
    } catch (err) {
      return idTokenRefusal(err);
    }
    const granted = facts.roles.filter((role) => this.settings.knownRoles.has(role));
    const roles = [...new Set([...this.settings.certificateRoles(certificate), ...granted])];
    return this.issue(certificate, facts.subject, roles, true);
  }

  private async issue(
    certificate: PeerCertificate,
    subject: string,
    roles: readonly string[],
    exchanged: boolean,
  ): Promise<TokenEndpointAnswer> {
    if (roles.length === 0) {
      return refusal(400, 'unauthorized_client', 'no role is granted to this caller');
    }
    const issued = await this.settings.issuer.issue({
      subject,
      roles,
      certificateThumbprint: certificate.thumbprint,
    });
    const body: Record<string, unknown> = {
      access_token: issued.token,
      token_type: 'Bearer',
      expires_in: issued.ttlSeconds,
    };
    if (exchanged) body.issued_token_type = ACCESS_TOKEN_TYPE;
    return { status: 200, body };
  }
}

function idTokenRefusal(err: unknown): TokenEndpointAnswer {
  if (!isProxyError(err)) throw err;
  if (err.code === 'ERR_IDENTITY_UNAVAILABLE')
    return refusal(503, 'temporarily_unavailable', err.message);
  return refusal(400, 'invalid_grant', err.message);
}

function refusal(status: number, error: string, description: string): TokenEndpointAnswer {
  return { status, body: { error, error_description: description } };
}
