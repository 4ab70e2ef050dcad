// HTTP/1.1 connections to one model server, pooled by undici.

import { Pool, type Dispatcher } from 'undici';
import type { UpstreamConfig } from '../config/gateway-config';
import type { UpstreamTls } from './upstream-tls';

/**
 * A keep-alive pool to one HTTP upstream (plaintext or TLS, with the client certificate of
 * the upstream's configuration). undici parses responses; the caller's handler receives status,
 * headers and body chunks as they arrive and paces them with the dispatch controller. When the
 * upstream's TLS material is reloaded a new pool takes the next requests and the old one
 * closes once its requests have finished.
 */
export class HttpUpstreamPool {
  private pool: Pool;

  constructor(
    readonly upstream: UpstreamConfig,
    private readonly tls: UpstreamTls | undefined = undefined,
  ) {
    this.pool = this.createPool();
    tls?.onReload(() => this.replacePool());
  }

  /** Sends a request; every outcome, failures included, reaches `handler`, never a throw. */
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void {
    this.pool.dispatch(options, handler);
  }

  /**
   * The current pool's connections, `busy` (a request running) and `idle`, and its requests
   * waiting for one. A pool being replaced after a TLS reload is not counted.
   */
  connectionCounts(): { connections: Record<string, number>; queued: number } {
    const { connected, free, queued } = this.pool.stats;
    return { connections: { busy: connected - free, idle: free }, queued };
  }

  /** Closes the pool: requests in flight finish unless `force`. */
  async close(force = false): Promise<void> {
    await (force ? this.pool.destroy() : this.pool.close());
  }

  private createPool(): Pool {
    const upstream = this.upstream;
    const scheme = upstream.secure ? 'https' : 'http';
    return new Pool(`${scheme}://${upstream.authority}`, {
      connections: upstream.connections,
      connectTimeout: upstream.connectTimeoutMs,
      headersTimeout: upstream.headersTimeoutMs,
      bodyTimeout: upstream.bodyTimeoutMs,
      // One request per connection at a time: pipelining to a model server would let one slow
      // generation hold up the requests queued behind it.
      pipelining: 1,
      connect: this.tls === undefined ? undefined : { ...this.tls.options },
    });
  }

  private replacePool(): void {
    const old = this.pool;
    this.pool = this.createPool();
    // Requests already dispatched finish on the old pool; close() resolves after them.
    void old.close();
  }
}
