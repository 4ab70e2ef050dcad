// Every default of the configuration file, in one place; the schema reads them from here.

const MIB = 1024 * 1024;

/** The values infergate uses for every key the configuration file leaves out. */
export const DEFAULTS = {
  listeners: {
    grpc: {
      host: '0.0.0.0',
      port: 9001,
      maxMessageBytes: 64 * MIB,
      maxConcurrentStreams: 1000,
    },
    http: {
      host: '0.0.0.0',
      port: 9000,
      maxBodyBytes: 16 * MIB,
      maxHeaderBytes: 16 * 1024,
      maxHeaderCount: 100,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 60_000,
      idleTimeoutMs: 60_000,
    },
    admin: {
      host: '127.0.0.1',
      port: 9090,
    },
  },
  upstream: {
    /** HTTP/2 multiplexes calls, so one connection to a gRPC upstream is usually enough. */
    grpcConnections: 1,
    /** HTTP/1.1 carries one exchange per connection at a time: the pool's upper bound. */
    httpConnections: 64,
    connectTimeoutMs: 5_000,
    /** Time from sending a request to the upstream's response headers (HTTP upstreams). */
    headersTimeoutMs: 300_000,
    /** Longest silence between two body chunks of an upstream response (HTTP upstreams). */
    bodyTimeoutMs: 300_000,
  },
  tls: {
    minVersion: 'TLSv1.2',
    expiryWarningDays: 30,
  },
  auth: {
    /** `aud` every access token must carry, and infergate's own tokens do. */
    audience: 'infergate',
    algorithms: ['EdDSA', 'ES256', 'RS256'],
    /** Clock skew allowed on `exp` and `nbf` (RFC 7519 §4.1.4: "a few minutes" at most). */
    leewaySeconds: 30,
    rolesClaim: 'roles',
    /** `iss` of the tokens infergate signs itself. */
    issuer: 'infergate',
    /** Lifetime of the tokens infergate signs: short, so a stolen one is worth little. */
    ttlSeconds: 600,
  },
  masking: {
    /** Prompts and responses alike: the model server never sees a card number either. */
    mask: 'both',
    keepFirst: 0,
    keepLast: 4,
    maskCharacter: '*',
    /**
     * Response bytes one exchange may hold back while their text is undecided; past it the
     * response is ended. A single stream needs about 200 bytes; the rest is frames of other
     * streams queued behind an undecided one.
     */
    maxHeldBytes: 1024 * 1024,
  },
  audit: {
    segmentMaxBytes: 64 * MIB,
    segmentMaxAgeMs: 24 * 60 * 60 * 1000,
    table: 'infergate_audit_frames',
    /**
     * A checkpoint every 1,000 frames or every second bounds what an attacker who can edit the
     * store may rewrite unnoticed to the unsigned tail: at most a second of records.
     */
    checkpointEveryFrames: 1000,
    checkpointIntervalMs: 1000,
    maxTextBytes: 64 * 1024,
    /** Frames that may wait for a failing store before further frames are refused. */
    maxPendingFrames: 100_000,
    retryIntervalMs: 1000,
  },
  reviews: {
    /** How long a held request waits for a decision before the caller is told to retry. */
    waitMs: 30_000,
    /** A pending review nobody decides on expires after 15 minutes. */
    reviewTtlMs: 15 * 60 * 1000,
    /** An approval must be used within 10 minutes, so a grant is not a standing permission. */
    grantTtlMs: 10 * 60 * 1000,
    approvals: 1,
    /** One webhook delivery attempt, connection to response end, and how many are made. */
    webhookTimeoutMs: 5_000,
    webhookAttempts: 5,
  },
  revocations: {
    table: 'infergate_revocations',
    /** How often each gateway reads the revocations made since its last read. */
    refreshIntervalMs: 5_000,
    /**
     * How long refreshes may fail before every exchange is refused: a revocation made while the
     * database is away reaches a gateway late by at most this.
     */
    maxStaleMs: 60_000,
  },
  drainTimeoutMs: 10_000,
  log: {
    level: 'info',
  },
} as const;
