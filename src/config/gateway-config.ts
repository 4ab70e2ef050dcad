// The validated, resolved and frozen configuration the gateway runs on.

import type { ConfigFile } from './config-schema';
import type { Permission } from './identity-schema';
import type { MaskDirection } from './masking-schema';

export type { MaskDirection } from './masking-schema';

/** Where an upstream listens and how infergate connects to it. */
export interface UpstreamConfig {
  readonly name: string;
  /**
   * `grpc:` / `grpcs:` (gRPC over HTTP/2, cleartext or TLS) or `http:` / `https:` (HTTP/1.1
   * model servers: OpenAI-compatible, vLLM, Triton's HTTP/REST API).
   */
  readonly scheme: 'grpc' | 'grpcs' | 'http' | 'https';
  /** Which listener's traffic this upstream serves. */
  readonly protocol: UpstreamProtocol;
  readonly secure: boolean;
  readonly host: string;
  readonly port: number;
  /** `host:port` as sent in `:authority`. */
  readonly authority: string;
  readonly tls: UpstreamTlsConfig | undefined;
  /** Headers infergate adds to every request to this upstream; the client never sees them. */
  readonly credentialHeaders: Readonly<Record<string, string>>;
  readonly connections: number;
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
}

/** gRPC upstreams serve the gRPC listener; HTTP upstreams the HTTP listener. */
export type UpstreamProtocol = 'grpc' | 'http';

/**
 * TLS material for one upstream: read from disk at start-up, and the files it came from, which
 * are read again when they change so certificates rotate without a restart.
 */
export interface UpstreamTlsConfig {
  readonly ca: Buffer | undefined;
  readonly cert: Buffer | undefined;
  readonly key: Buffer | undefined;
  readonly serverName: string | undefined;
  /** Absolute paths of `ca`, `cert` and `key`, when each came from a file. */
  readonly files: UpstreamTlsFiles;
}

/** Where an upstream's TLS material lives. */
export interface UpstreamTlsFiles {
  readonly caFile: string | undefined;
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
}

/** A route: which model names it takes and the upstream it sends them to. */
export interface RouteConfig {
  readonly name: string;
  /** Model-name patterns as written (`*` any run of characters, `?` one character). */
  readonly models: readonly string[];
  readonly default: boolean;
  readonly upstream: string;
  /** The protocol of its upstream: the listener whose traffic this route takes. */
  readonly protocol: UpstreamProtocol;
  /** What is masked on this route: its own `masking`, else the `masking` section's `mask`. */
  readonly masking: MaskDirection;
}

/** An operator's masking pattern as configured: a JavaScript regular expression over bytes. */
export interface MaskPatternConfig {
  readonly name: string;
  readonly regex: string;
  readonly ignoreCase: boolean;
}

/** How card data is masked (PCI DSS Req. 3.4: unreadable wherever it is shown). */
export interface MaskingConfig {
  /** What is masked on routes that do not say. */
  readonly mask: MaskDirection;
  /** Card-number digits a mask leaves readable at the start (0-6) and at the end (0-4). */
  readonly keepFirst: number;
  readonly keepLast: number;
  /** The byte written over each byte of a masked character. */
  readonly maskByte: number;
  /** Roles whose callers receive responses unmasked; prompts are masked for every caller. */
  readonly unmaskedRoles: readonly string[];
  /** The HMAC key of card-number fingerprints; undefined: no fingerprints are made. */
  readonly fingerprintKey: Buffer | undefined;
  /** Response bytes one exchange may hold back before it is ended. */
  readonly maxHeldBytes: number;
  /** The operator's own patterns, checked to compile with a bounded length. */
  readonly patterns: readonly MaskPatternConfig[];
}

/** Where audit frames are stored: segment files on the local disk, or PostgreSQL. */
export type AuditStoreConfig =
  | {
      readonly kind: 'files';
      /** Absolute path. */
      readonly dir: string;
      readonly segmentMaxBytes: number;
      readonly segmentMaxAgeMs: number;
    }
  | { readonly kind: 'postgres'; readonly connectionString: string; readonly table: string };

/** How exchanges are recorded (PCI DSS Req. 10.2, 10.3). */
export interface AuditConfig {
  readonly logId: string;
  readonly store: AuditStoreConfig;
  /** Absolute path of the signing key directory. */
  readonly signingKeyDir: string;
  readonly checkpointEveryFrames: number;
  readonly checkpointIntervalMs: number;
  readonly maxTextBytes: number;
  /** The security team's X25519 public key (PEM); undefined: no originals are sealed. */
  readonly sealingKeyPem: Buffer | undefined;
  /** Roles whose callers may fetch sealed originals through the admin listener; [] for none. */
  readonly unsealRoles: readonly string[];
}

/** Requests and tokens one identity may send within `windowMs`; at least one bound is set. */
export interface ReviewRateConfig {
  readonly requests?: number;
  readonly tokens?: number;
  readonly windowMs: number;
}

/** What a request must show for a review rule to hold it; every condition given must hold. */
export interface ReviewConditionsConfig {
  readonly roles?: readonly string[];
  readonly routes?: readonly string[];
  /** Model-name patterns, as routes write them. */
  readonly models?: readonly string[];
  readonly operations?: readonly Permission[];
  /** True: the request loads or unloads a model of the server's repository. */
  readonly loadsModels?: boolean;
  readonly maxTokensAbove?: number;
  readonly nAbove?: number;
  readonly inputsAbove?: number;
  readonly batchAbove?: number;
  /** Regular expressions over the prompt texts; a leading `(?i)` ignores case. */
  readonly promptMatches?: readonly string[];
  readonly rate?: ReviewRateConfig;
}

/** A review rule: when it holds a request, and who may approve it. */
export interface ReviewRuleConfig {
  readonly name: string;
  readonly when: ReviewConditionsConfig;
  /** Roles whose holders may decide; never the requester, whatever their roles. */
  readonly reviewers: readonly string[];
  /** Distinct reviewers who must approve; at least 1. */
  readonly approvals: number;
}

/** Just-in-time review of risky requests. */
export interface ReviewsConfig {
  /** How long a held request waits for a decision; 0 refuses it at once. */
  readonly waitMs: number;
  readonly reviewTtlMs: number;
  readonly grantTtlMs: number;
  /** In order: the first that holds applies. */
  readonly rules: readonly ReviewRuleConfig[];
  /** The shared store of several replicas; absent, reviews are kept in memory. */
  readonly postgres?: ReviewPostgresConfig;
  /** Where review events are POSTed; absent, nobody is told. */
  readonly webhook?: ReviewWebhookConfig;
}

/** The webhook review events are delivered to, checked at start-up. */
export interface ReviewWebhookConfig {
  /** `http:` or `https:`; may carry a secret, so it is never logged whole. */
  readonly url: string;
  readonly timeoutMs: number;
  /** Deliveries of one event, the first included. */
  readonly attempts: number;
  /** Sent with every delivery, e.g. an authorization header; names are valid field names. */
  readonly headers: Readonly<Record<string, string>>;
}

/** A PostgreSQL review store. */
export interface ReviewPostgresConfig {
  readonly connectionString: string;
  /** undefined: `infergate_reviews`. */
  readonly table: string | undefined;
}

/** Revoked certificates and tokens, shared by every replica through one PostgreSQL table. */
export interface RevocationsConfig {
  readonly postgres: RevocationPostgresConfig;
  /** How often the revocations made since the last read are read. */
  readonly refreshIntervalMs: number;
  /** Refreshes failing for longer than this refuse every exchange (fail closed). */
  readonly maxStaleMs: number;
}

/** The PostgreSQL table of revocations. */
export interface RevocationPostgresConfig {
  readonly connectionString: string;
  /** A lowercase identifier; `infergate_revocations` by default. */
  readonly table: string;
}

/** The configuration after validation: every default applied, files read, then deep-frozen. */
export interface GatewayConfig {
  readonly listeners: ConfigFile['listeners'];
  readonly upstreams: readonly UpstreamConfig[];
  readonly routes: readonly RouteConfig[];
  /** TLS for every listener; undefined leaves them cleartext (development only). */
  readonly tls: ListenerTlsConfig | undefined;
  /** Token and role checks; undefined lets every caller through (development only). */
  readonly auth: AuthConfig | undefined;
  readonly roles: RolesConfig;
  readonly masking: MaskingConfig;
  /** Where exchanges are recorded; undefined records nothing (development only). */
  readonly audit: AuditConfig | undefined;
  /** Which requests wait for a second person's approval; undefined holds none. */
  readonly reviews: ReviewsConfig | undefined;
  /** Revocations shared through PostgreSQL; absent, CRL files are the only revocation. */
  readonly revocations?: RevocationsConfig;
  readonly drainTimeoutMs: number;
  readonly log: ConfigFile['log'];
}

/**
 * The server side of the listeners. Files are named, not read: the TLS context is built from
 * them at start-up and again whenever they change, so certificates rotate without a restart.
 */
export interface ListenerTlsConfig {
  /** Absolute paths. */
  readonly certFile: string;
  readonly keyFile: string;
  readonly clientCaFiles: readonly string[];
  readonly crlFiles: readonly string[];
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
  readonly watch: boolean;
  readonly expiryWarningDays: number;
}

/** A JSON Web Key Set as read from a file (RFC 7517 §5); its keys are checked when loaded. */
export interface JsonWebKeySet {
  readonly keys: readonly Readonly<Record<string, unknown>>[];
}

/** Where the keys of an issuer come from: a file read at start-up, or a URL fetched on demand. */
export interface KeySource {
  readonly jwks: JsonWebKeySet | undefined;
  readonly jwksUrl: string | undefined;
}

/** An issuer whose access tokens are accepted. */
export interface TrustedIssuerConfig extends KeySource {
  readonly issuer: string;
}

/** infergate's own token issuer. */
export interface OwnIssuerConfig {
  readonly issuer: string;
  /** PKCS#8 PEM, Ed25519 or P-256. */
  readonly privateKeyPem: string;
  readonly ttlSeconds: number;
}

/** Roles for callers whose certificate attribute matches `pattern`. */
export interface CertificateRoleConfig {
  readonly attribute: 'uri' | 'email' | 'commonName';
  readonly pattern: string;
  readonly roles: readonly string[];
}

/** The OIDC provider whose ID tokens the token endpoint exchanges (RFC 8693). */
export interface TokenExchangeConfig extends KeySource {
  readonly issuer: string;
  readonly audience: string;
  readonly rolesClaim: string;
  readonly required: boolean;
}

/** How tokens are checked and issued. */
export interface AuthConfig {
  readonly audience: string;
  readonly algorithms: readonly string[];
  readonly leewaySeconds: number;
  readonly rolesClaim: string;
  readonly issuer: OwnIssuerConfig | undefined;
  readonly trustedIssuers: readonly TrustedIssuerConfig[];
  readonly certificateRoles: readonly CertificateRoleConfig[];
  readonly tokenExchange: TokenExchangeConfig | undefined;
}

/** Limits one role puts on a request; undefined: none from this role. */
export interface RoleLimits {
  readonly maxTokens?: number;
  readonly n?: number;
  readonly batchSize?: number;
  readonly requestBytes?: number;
}

/** What one role grants. */
export interface RoleConfig {
  /** Model-name patterns, as routes write them. */
  readonly models: readonly string[];
  readonly operations: readonly Permission[];
  readonly limits: RoleLimits;
}

/** Role name to role. */
export type RolesConfig = Readonly<Record<string, RoleConfig>>;

/** Freezes an object graph so no module can change configuration after start-up. */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  if (Buffer.isBuffer(value)) return value;
  for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  return Object.freeze(value);
}
