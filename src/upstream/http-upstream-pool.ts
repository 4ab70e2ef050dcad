// HTTP/1.1 connections to one model server, pooled by undici.

import { Pool, type Dispatcher } from 'undici';
import type { UpstreamConfig } from '../config/gateway-config';

/**
 * A keep-alive pool to one HTTP upstream (plaintext or TLS, with the client certificate of
 * the upstream's configuration). undici parses responses; the caller's handler receives status,
 * headers and body chunks as they arrive and paces them with the dispatch controller.
 */
export class HttpUpstreamPool {
  private readonly pool: Pool;

  constructor(readonly upstream: UpstreamConfig) {
    const scheme = upstream.secure ? 'https' : 'http';
    this.pool = new Pool(`${scheme}://${upstream.authority}`, {
      connections: upstream.connections,
      connectTimeout: upstream.connectTimeoutMs,
      headersTimeout: upstream.headersTimeoutMs,
      bodyTimeout: upstream.bodyTimeoutMs,
      // One request per connection at a time: pipelining to a model server would let one slow
      // generation hold up the requests queued behind it.
      pipelining: 1,
      connect: upstream.tls === undefined ? undefined : this.tlsOptions(),
    });
  }

  /** Sends a request; every outcome, failures included, reaches `handler`, never a throw. */
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void {
    this.pool.dispatch(options, handler);
  }

  /** Closes the pool: requests in flight finish unless `force`. */
  async close(force = false): Promise<void> {
    await (force ? this.pool.destroy() : this.pool.close());
  }

  private tlsOptions() {
    const tls = this.upstream.tls!;
    return {
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      servername: tls.serverName ?? this.upstream.host,
    };
  }
}
