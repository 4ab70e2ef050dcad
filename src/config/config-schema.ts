// The one schema of infergate.yaml: shapes, ranges and the defaults taken from defaults.ts.

import { z } from 'zod';
import { DEFAULTS } from './defaults';
import { auditSchema } from './audit-schema';
import { authSchema, listenerTlsSchema, rolesSchema } from './identity-schema';
import { DEFAULT_MASKING_SECTION, maskDirectionSchema, maskingSchema } from './masking-schema';
import { reviewsSchema } from './reviews-schema';
import { revocationsSchema } from './revocations-schema';
import { name, port, positiveInt } from './schema-primitives';

/** Header names an upstream credential may set: lowercase HTTP/2 field names. */
const headerName = z
  .string()
  .regex(/^[a-z0-9!#$%&'*+.^_`|~-]+$/, 'must be a lowercase header name');

const grpcListener = z
  .object({
    host: z.string().min(1).default(DEFAULTS.listeners.grpc.host),
    port: port.default(DEFAULTS.listeners.grpc.port),
    maxMessageBytes: positiveInt.default(DEFAULTS.listeners.grpc.maxMessageBytes),
    maxConcurrentStreams: positiveInt.default(DEFAULTS.listeners.grpc.maxConcurrentStreams),
  })
  .strict();

const httpListener = z
  .object({
    host: z.string().min(1).default(DEFAULTS.listeners.http.host),
    port: port.default(DEFAULTS.listeners.http.port),
    maxBodyBytes: positiveInt.default(DEFAULTS.listeners.http.maxBodyBytes),
    maxHeaderBytes: positiveInt.default(DEFAULTS.listeners.http.maxHeaderBytes),
    maxHeaderCount: positiveInt.default(DEFAULTS.listeners.http.maxHeaderCount),
    headersTimeoutMs: positiveInt.default(DEFAULTS.listeners.http.headersTimeoutMs),
    requestTimeoutMs: positiveInt.default(DEFAULTS.listeners.http.requestTimeoutMs),
    idleTimeoutMs: positiveInt.default(DEFAULTS.listeners.http.idleTimeoutMs),
  })
  .strict();

const adminListener = z
  .object({
    host: z.string().min(1).default(DEFAULTS.listeners.admin.host),
    port: port.default(DEFAULTS.listeners.admin.port),
  })
  .strict();

const upstreamTls = z
  .object({
    caFile: z.string().min(1).optional(),
    certFile: z.string().min(1).optional(),
    keyFile: z.string().min(1).optional(),
    serverName: z.string().min(1).optional(),
  })
  .strict();

const upstreamCredentials = z
  .object({
    bearerToken: z.string().min(1).optional(),
    bearerTokenFile: z.string().min(1).optional(),
    headers: z.record(headerName, z.string()).default({}),
  })
  .strict();

/** One entry of `upstreams`. */
export const upstreamSchema = z
  .object({
    name,
    address: z.string().min(1),
    tls: upstreamTls.optional(),
    credentials: upstreamCredentials.optional(),
    connections: positiveInt.max(1024).optional(),
    connectTimeoutMs: positiveInt.default(DEFAULTS.upstream.connectTimeoutMs),
    headersTimeoutMs: positiveInt.default(DEFAULTS.upstream.headersTimeoutMs),
    bodyTimeoutMs: positiveInt.default(DEFAULTS.upstream.bodyTimeoutMs),
  })
  .strict();

/** One entry of `routes`. */
export const routeSchema = z
  .object({
    name,
    models: z.array(z.string().min(1)).default([]),
    default: z.boolean().default(false),
    upstream: name,
    /** Overrides `masking.mask` for this route. */
    masking: maskDirectionSchema.optional(),
  })
  .strict();

/** The `listeners` section. */
export const listenersSchema = z
  .object({
    grpc: grpcListener.default(() => grpcListener.parse({})),
    http: httpListener.default(() => httpListener.parse({})),
    admin: adminListener.default(() => adminListener.parse({})),
  })
  .strict()
  .default(() => ({
    grpc: grpcListener.parse({}),
    http: httpListener.parse({}),
    admin: adminListener.parse({}),
  }));

/** The whole configuration file as written; cross-field rules live in validate-config.ts. */
export const configFileSchema = z
  .object({
    listeners: listenersSchema,
    upstreams: z.array(upstreamSchema).min(1, 'at least one upstream is required'),
    routes: z.array(routeSchema).default([]),
    tls: listenerTlsSchema.optional(),
    auth: authSchema.optional(),
    roles: rolesSchema,
    masking: maskingSchema.default(DEFAULT_MASKING_SECTION),
    audit: auditSchema.optional(),
    reviews: reviewsSchema.optional(),
    revocations: revocationsSchema.optional(),
    drainTimeoutMs: positiveInt.default(DEFAULTS.drainTimeoutMs),
    log: z
      .object({
        level: z
          .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
          .default(DEFAULTS.log.level),
      })
      .strict()
      .default({ level: DEFAULTS.log.level }),
  })
  .strict();

/** The configuration file after schema validation and defaults, before cross-field checks. */
export type ConfigFile = z.infer<typeof configFileSchema>;

/**
 * What cross-field checks run on: a ConfigFile, or, when the schema rejected parts of the
 * document, the parts it accepted (rejected entries are holes, so paths keep their indexes).
 */
export type CheckableConfig = Omit<ConfigFile, 'upstreams' | 'routes'> & {
  readonly upstreams: readonly (ConfigFile['upstreams'][number] | undefined)[];
  readonly routes: readonly (ConfigFile['routes'][number] | undefined)[];
  /** Every upstream name the document declares, including those of rejected entries. */
  readonly upstreamNames: ReadonlySet<string>;
};
