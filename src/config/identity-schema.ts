// The identity sections of infergate.yaml: listener TLS, token trust, infergate's own token
// issuer, roles from certificates, and the roles themselves.

import { z } from 'zod';
import { DEFAULTS } from './defaults';
import { name, positiveInt } from './schema-primitives';

/**
 * What a role may be granted, in the words of the policy. Each permission covers the matching
 * operations of every protocol (`infer` is KServe ModelInfer over gRPC and Triton's HTTP infer
 * and generate); `src/identity/permissions.ts` holds the mapping.
 */
export const PERMISSIONS = [
  'infer',
  'stream_infer',
  'metadata',
  'model_config',
  'statistics',
  'repository',
  'shared_memory',
  'trace',
  'log',
  'chat',
  'completions',
  'embeddings',
  'responses',
  'models',
  'tokenize',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

/** JWS algorithms a verifier may allow (RFC 8725 §3.1: the verifier pins them, never the token). */
export const TOKEN_ALGORITHMS = ['EdDSA', 'ES256', 'ES384', 'RS256', 'PS256'] as const;

/** The server side of every listener (gRPC, HTTP, admin). */
export const listenerTlsSchema = z
  .object({
    certFile: z.string().min(1),
    keyFile: z.string().min(1),
    /** Trusted CAs for client certificates; several overlap while a CA is rotated. */
    clientCaFiles: z.array(z.string().min(1)).min(1, 'at least one client CA file is required'),
    crlFiles: z.array(z.string().min(1)).default([]),
    minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default(DEFAULTS.tls.minVersion),
    /** Reload certificate, key, CA and CRL files when they change on disk (SIGHUP always does). */
    watch: z.boolean().default(true),
    /** Warn about a loaded certificate this many days before it expires. */
    expiryWarningDays: positiveInt.default(DEFAULTS.tls.expiryWarningDays),
  })
  .strict();

/** Another issuer whose access tokens infergate accepts, with where its keys come from. */
const trustedIssuerSchema = z
  .object({
    issuer: z.string().min(1),
    jwksFile: z.string().min(1).optional(),
    jwksUrl: z.string().url().optional(),
  })
  .strict();

/** infergate's own issuer: the token endpoint and `infergate token issue` sign with its key. */
const ownIssuerSchema = z
  .object({
    issuer: z.string().min(1).default(DEFAULTS.auth.issuer),
    /** PKCS#8 PEM private key, Ed25519 (EdDSA) or P-256 (ES256). */
    keyFile: z.string().min(1),
    ttlSeconds: positiveInt.max(86_400).default(DEFAULTS.auth.ttlSeconds),
  })
  .strict();

/**
 * Roles granted to callers whose certificate matches: exactly one of the attribute patterns
 * (`*` any run of characters, `?` one character).
 */
const certificateRoleSchema = z
  .object({
    uri: z.string().min(1).optional(),
    email: z.string().min(1).optional(),
    commonName: z.string().min(1).optional(),
    roles: z.array(name).min(1),
  })
  .strict();

/**
 * The organisation's OIDC provider, for the token endpoint's exchange (RFC 8693): an ID token
 * from it, sent with the client certificate, yields an access token bound to that certificate.
 */
const tokenExchangeSchema = z
  .object({
    issuer: z.string().min(1),
    audience: z.string().min(1),
    jwksFile: z.string().min(1).optional(),
    jwksUrl: z.string().url().optional(),
    /** The ID-token claim that lists the caller's groups; each group is a role name. */
    rolesClaim: z.string().min(1).default(DEFAULTS.auth.rolesClaim),
    /** When true, the token endpoint refuses callers that bring no ID token. */
    required: z.boolean().default(false),
  })
  .strict();

/** How callers are authenticated: tokens bound to client certificates (RFC 8705). */
export const authSchema = z
  .object({
    audience: z.string().min(1).default(DEFAULTS.auth.audience),
    algorithms: z
      .array(z.enum(TOKEN_ALGORITHMS))
      .min(1)
      .default([...DEFAULTS.auth.algorithms]),
    leewaySeconds: z.number().int().min(0).max(300).default(DEFAULTS.auth.leewaySeconds),
    /** The access-token claim that lists roles. */
    rolesClaim: z.string().min(1).default(DEFAULTS.auth.rolesClaim),
    issuer: ownIssuerSchema.optional(),
    trustedIssuers: z.array(trustedIssuerSchema).default([]),
    certificateRoles: z.array(certificateRoleSchema).default([]),
    tokenExchange: tokenExchangeSchema.optional(),
  })
  .strict();

/** Limits a role puts on one request; absent means no limit from this role. */
const roleLimitsSchema = z
  .object({
    maxTokens: positiveInt.optional(),
    n: positiveInt.optional(),
    batchSize: positiveInt.optional(),
    requestBytes: positiveInt.optional(),
  })
  .strict();

/** One role: the models it reaches, what it may do there, and its limits. */
export const roleSchema = z
  .object({
    models: z.array(z.string().min(1)).min(1),
    operations: z.array(z.enum(PERMISSIONS)).min(1),
    limits: roleLimitsSchema.default({}),
  })
  .strict();

/** The `roles` section: role name to role. */
export const rolesSchema = z.record(name, roleSchema).default({});
