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
    admin: {
      host: '127.0.0.1',
      port: 9090,
    },
  },
  upstream: {
    connections: 1,
    connectTimeoutMs: 5_000,
  },
  drainTimeoutMs: 10_000,
  log: {
    level: 'info',
  },
} as const;

/** The name the embedded default and `--upstream` give the upstream they create. */
export const DEFAULT_UPSTREAM_NAME = 'default';
