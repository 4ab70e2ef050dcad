// Every upstream of a gateway: its connection pool and, over TLS, its reloadable material.

import type { UpstreamConfig } from '../config/gateway-config';
import type { LoadedCertificate } from '../identity/tls-material';
import type { UpstreamConnectionFacts } from '../observe/gateway-metrics';
import type { Logger } from '../observe/logger';
import { Http2SessionPool } from './http2-session-pool';
import { HttpUpstreamPool } from './http-upstream-pool';
import { UpstreamTls } from './upstream-tls';

/**
 * The pools the listeners forward through, by upstream name: HTTP/2 sessions for gRPC upstreams,
 * undici pools for HTTP ones. Built once from configuration; connections open on first use.
 */
export class UpstreamSet {
  readonly grpcPools = new Map<string, Http2SessionPool>();
  readonly httpPools = new Map<string, HttpUpstreamPool>();
  private readonly tls: UpstreamTls[] = [];

  constructor(upstreams: readonly UpstreamConfig[], logger: Logger) {
    for (const upstream of upstreams) {
      const tls = upstream.tls === undefined ? undefined : new UpstreamTls(upstream, logger);
      if (tls !== undefined) this.tls.push(tls);
      if (upstream.protocol === 'grpc') {
        const log = logger.child({ upstream: upstream.name });
        this.grpcPools.set(upstream.name, new Http2SessionPool(upstream, log, tls));
      } else {
        this.httpPools.set(upstream.name, new HttpUpstreamPool(upstream, tls));
      }
    }
  }

  /** What infergate presents to and trusts of its upstreams. */
  get certificates(): LoadedCertificate[] {
    return this.tls.flatMap((tls) => tls.certificates);
  }

  /** Every upstream's connections by state, and its requests waiting for one (metrics). */
  connectionFacts(): UpstreamConnectionFacts[] {
    const grpc = [...this.grpcPools].map(([upstream, pool]) => {
      return { upstream, connections: pool.connectionCounts(), queued: 0 };
    });
    const http = [...this.httpPools].map(([upstream, pool]) => {
      return { upstream, ...pool.connectionCounts() };
    });
    return [...grpc, ...http];
  }

  /** Reloads every upstream's TLS files; false when any set was refused. */
  reloadTls(): boolean {
    return this.tls.map((tls) => tls.reload()).every(Boolean);
  }

  /** Watches the TLS files of every upstream. */
  startWatching(): void {
    for (const tls of this.tls) tls.start();
  }

  /** Stops watching and closes every pool: graceful (calls finish) unless `force`. */
  async close(force: boolean): Promise<void> {
    for (const tls of this.tls) tls.close();
    for (const pool of this.grpcPools.values()) pool.close(force);
    await Promise.all([...this.httpPools.values()].map((pool) => pool.close(force)));
  }
}
