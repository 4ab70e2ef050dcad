// The validated, resolved and frozen configuration the gateway runs on.

import type { ConfigFile } from './config-schema';

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

/** TLS material for one upstream, read from disk at start-up. */
export interface UpstreamTlsConfig {
  readonly ca: Buffer | undefined;
  readonly cert: Buffer | undefined;
  readonly key: Buffer | undefined;
  readonly serverName: string | undefined;
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
}

/** The configuration after validation: every default applied, files read, then deep-frozen. */
export interface GatewayConfig {
  readonly listeners: ConfigFile['listeners'];
  readonly upstreams: readonly UpstreamConfig[];
  readonly routes: readonly RouteConfig[];
  readonly drainTimeoutMs: number;
  readonly log: ConfigFile['log'];
}

/** Freezes an object graph so no module can change configuration after start-up. */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  if (Buffer.isBuffer(value)) return value;
  for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  return Object.freeze(value);
}
