// Builds what identity needs at run time from configuration: TLS, token checks, roles,
// revocations, filters.

import type { GatewayConfig, JsonWebKeySet, RolesConfig } from './config/gateway-config';
import type { GrpcMessage } from './codecs/grpc-message';
import type { HttpMessage } from './codecs/http-message';
import { authenticationFilterFactory } from './filters/authentication/authentication-filter';
import { authorizationFilterFactory } from './filters/authorization/authorization-filter';
import { grpcPolicyInputReader } from './codecs/grpc-policy-input';
import { httpPolicyInputReader } from './codecs/http-policy-input';
import { compileCertificateRoles, type CertificateRoles } from './identity/certificate-roles';
import { IdTokenVerifier } from './identity/id-token-verifier';
import type { PeerCertificate } from './identity/peer-certificate';
import { compilePolicy } from './identity/policy';
import { ServerTls } from './identity/server-tls';
import { TokenIssuer } from './identity/token-issuer';
import { TokenVerifier } from './identity/token-verifier';
import { checkingRevocations, type BoundTokenVerifier } from './listeners/admin-caller';
import { TokenEndpoint } from './listeners/admin-token-endpoint';
import type { Logger } from './observe/logger';
import type { FilterFactory } from './pipeline/filter';
import { ProxyError } from './errors/proxy-error';
import { PostgresRevocationStore } from './revocations/postgres-revocation-store';
import type { RevocationCheck } from './revocations/revocation-check';
import { RevocationList } from './revocations/revocation-list';

/** Identity at run time: one instance per gateway, shared by every listener. */
export interface GatewayIdentity {
  /** TLS for every listener; undefined when they are cleartext. */
  readonly tls: ServerTls | undefined;
  /** The admin listener's `POST /token`, when infergate issues tokens. */
  readonly tokenEndpoint: TokenEndpoint | undefined;
  /** The public keys of infergate's token issuer. */
  readonly jwks: JsonWebKeySet | undefined;
  /**
   * Checks bearer tokens, their binding to a certificate and, with `revocations`, that neither
   * is revoked: the admin listener's callers. undefined without `auth`.
   */
  readonly tokenVerifier: BoundTokenVerifier | undefined;
  /**
   * The shared revocations, not loaded yet: the gateway opens them before its listeners and
   * closes them after. undefined without a `revocations` section.
   */
  readonly revocations: RevocationList | undefined;
  /** The roles `auth.certificateRoles` grants a verified client certificate. */
  readonly certificateRoles: CertificateRoles;
  /** Authentication, then authorization (when `auth` is configured), for the gRPC listener. */
  readonly grpcFilters: readonly FilterFactory<GrpcMessage>[];
  readonly httpFilters: readonly FilterFactory<HttpMessage>[];
  /** Stops watching certificate files. */
  close(): void;
}

/**
 * Reads the TLS material and builds the token verifier, issuer, revocation list and policy.
 * Throws ProxyError `ERR_PKI_MATERIAL_INVALID` when the TLS files or the issuer key do not form
 * a usable set, so a gateway with broken identity material never starts, and
 * `ERR_CONFIG_INVALID` for revocations without `tls`.
 */
export function buildGatewayIdentity(config: GatewayConfig, logger: Logger): GatewayIdentity {
  const tlsLog = logger.child({ component: 'tls' });
  const tls = config.tls === undefined ? undefined : new ServerTls(config.tls, tlsLog);
  const auth = config.auth;
  const certificateRoles = compileCertificateRoles(auth?.certificateRoles ?? []);
  if (tls === undefined) {
    logger.warn('listeners accept cleartext and authenticate nobody; configure tls and auth');
  } else if (auth === undefined) {
    logger.warn('no auth section: any client with a trusted certificate may call everything');
  }

  const revocations = revocationList(config, logger);
  const authentication = {
    verifier: auth === undefined ? undefined : new TokenVerifier(auth),
    certificateRoles: perConnection(certificateRoles),
    revocations,
  };
  const policy = auth === undefined ? undefined : compilePolicy(config.roles);
  const decodeLimits = limitsNeedDecoding(config.roles);
  const grpcInput = grpcPolicyInputReader(config.listeners.grpc.maxMessageBytes, decodeLimits);
  const issuer =
    auth?.issuer === undefined ? undefined : new TokenIssuer({ ...auth, issuer: auth.issuer });
  return {
    tls,
    tokenEndpoint:
      issuer === undefined
        ? undefined
        : tokenEndpoint(config, issuer, certificateRoles, revocations),
    jwks: issuer?.publicJwks(),
    tokenVerifier: adminVerifier(authentication.verifier, revocations),
    revocations,
    certificateRoles: authentication.certificateRoles,
    grpcFilters: [
      authenticationFilterFactory<GrpcMessage>(authentication),
      ...(policy === undefined ? [] : [authorizationFilterFactory(policy, grpcInput)]),
    ],
    httpFilters: [
      authenticationFilterFactory<HttpMessage>(authentication),
      ...(policy === undefined
        ? []
        : [authorizationFilterFactory(policy, httpPolicyInputReader(decodeLimits))]),
    ],
    close: () => tls?.close(),
  };
}

/**
 * The list `config.revocations` names, built without I/O; throws ProxyError
 * `ERR_CONFIG_INVALID` without `tls`, for configurations that did not come through the resolver.
 */
function revocationList(config: GatewayConfig, logger: Logger): RevocationList | undefined {
  const section = config.revocations;
  if (section === undefined) return undefined;
  if (config.tls === undefined) {
    const message = 'the revocations section needs the tls section: it names client certificates';
    throw new ProxyError('ERR_CONFIG_INVALID', message);
  }

  const store = new PostgresRevocationStore(section.postgres);
  const { refreshIntervalMs, maxStaleMs } = section;
  const log = logger.child({ component: 'revocations' });
  return new RevocationList(store, { refreshIntervalMs, maxStaleMs, logger: log });
}

function adminVerifier(
  verifier: TokenVerifier | undefined,
  revocations: RevocationCheck | undefined,
): BoundTokenVerifier | undefined {
  if (verifier === undefined || revocations === undefined) return verifier;
  return checkingRevocations(verifier, revocations);
}

function tokenEndpoint(
  config: GatewayConfig,
  issuer: TokenIssuer,
  certificateRoles: CertificateRoles,
  revocations: RevocationCheck | undefined,
): TokenEndpoint {
  const auth = config.auth!;
  const exchange = auth.tokenExchange;
  return new TokenEndpoint({
    issuer,
    certificateRoles,
    knownRoles: new Set(Object.keys(config.roles)),
    idTokens: exchange === undefined ? undefined : new IdTokenVerifier(exchange, auth),
    idTokenRequired: exchange?.required ?? false,
    revocations,
  });
}

/**
 * Certificate roles matched once per connection rather than once per exchange: a connection's
 * peer certificate is read once, when it opens, so that object stands for the connection.
 */
function perConnection(roles: CertificateRoles): CertificateRoles {
  const known = new WeakMap<PeerCertificate, string[]>();
  return (certificate) => {
    let granted = known.get(certificate);
    if (granted === undefined) known.set(certificate, (granted = roles(certificate)));
    return granted;
  };
}

/** Inference bodies are decoded for the policy only when some role limits what they carry. */
function limitsNeedDecoding(roles: RolesConfig): boolean {
  return Object.values(roles).some(
    ({ limits }) =>
      limits.maxTokens !== undefined || limits.batchSize !== undefined || limits.n !== undefined,
  );
}
