// Multiplexed HTTP/2 sessions to one upstream: connected on demand, replaced when they fail.

import http2, {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type OutgoingHttpHeaders,
} from 'node:http2';
import type { UpstreamConfig } from '../config/gateway-config';
import type { Logger } from '../observe/logger';
import type { UpstreamTls } from './upstream-tls';
import { HTTP2_SESSION_SETTINGS, HTTP2_SESSION_WINDOW_BYTES } from './http2-settings';

interface PooledSession {
  readonly session: ClientHttp2Session;
  active: number;
}

/**
 * Up to `connections` sessions to one upstream; each request takes the least busy one. A
 * session that errors, closes or receives GOAWAY leaves the pool at once, so the next request
 * connects afresh; streams already on it finish or fail on their own. When the upstream's TLS
 * material is reloaded, every session leaves the pool the same way and is closed once its
 * streams are done, so new handshakes use the new material and no call is cut.
 */
export class Http2SessionPool {
  private readonly sessions: PooledSession[] = [];
  private closed = false;

  constructor(
    readonly upstream: UpstreamConfig,
    private readonly log: Logger,
    private readonly tls: UpstreamTls | undefined = undefined,
  ) {
    tls?.onReload(() => this.drain());
  }

  /**
   * Opens a stream to the upstream. Connection failures surface as the stream's 'error' event
   * (or its close with an RST code), never as a throw, so callers handle them in one place.
   */
  request(headers: OutgoingHttpHeaders): ClientHttp2Stream {
    const pooled = this.pick();
    pooled.active++;
    const stream = pooled.session.request(headers, { endStream: false });
    stream.once('close', () => pooled.active--);
    return stream;
  }

  /** The pool's sessions now: `connecting`, `open` (streams running) and `idle`; no queue. */
  connectionCounts(): Record<string, number> {
    const counts = { connecting: 0, open: 0, idle: 0 };
    for (const { session, active } of this.sessions) {
      if (session.connecting) counts.connecting++;
      else if (active > 0) counts.open++;
      else counts.idle++;
    }
    return counts;
  }

  /** Closes every session: graceful (streams finish) unless `force`. */
  close(force = false): void {
    this.closed = true;
    for (const { session } of this.sessions.splice(0)) {
      if (force) session.destroy();
      else session.close();
    }
  }

  /** Moves new calls onto new sessions; the old ones close when their streams end. */
  private drain(): void {
    for (const { session } of this.sessions.splice(0)) session.close();
  }

  private pick(): PooledSession {
    if (this.closed) throw new Error('upstream pool is closed');
    const usable = this.sessions.filter(({ session }) => !session.closed && !session.destroyed);
    if (usable.length < this.upstream.connections) return this.connect();
    let best = usable[0]!;
    for (const candidate of usable) if (candidate.active < best.active) best = candidate;
    return best;
  }

  private connect(): PooledSession {
    const session = http2.connect(this.authorityUrl(), {
      ...this.tlsOptions(),
      settings: HTTP2_SESSION_SETTINGS,
    });
    const pooled: PooledSession = { session, active: 0 };
    this.sessions.push(pooled);
    this.watch(pooled);
    return pooled;
  }

  private watch(pooled: PooledSession): void {
    const { session } = pooled;
    const timer = setTimeout(() => {
      this.log.warn({ upstream: this.upstream.name }, 'upstream connect timed out');
      session.destroy(new Error(`connect timeout after ${this.upstream.connectTimeoutMs} ms`));
    }, this.upstream.connectTimeoutMs);
    session.once('connect', () => {
      clearTimeout(timer);
      session.setLocalWindowSize(HTTP2_SESSION_WINDOW_BYTES);
    });
    session.on('error', (err) => {
      this.log.warn({ err, upstream: this.upstream.name }, 'upstream session failed');
    });
    session.once('goaway', () => this.remove(pooled));
    session.once('close', () => {
      clearTimeout(timer);
      this.remove(pooled);
    });
  }

  private remove(pooled: PooledSession): void {
    const index = this.sessions.indexOf(pooled);
    if (index >= 0) this.sessions.splice(index, 1);
  }

  private authorityUrl(): string {
    const scheme = this.upstream.secure ? 'https' : 'http';
    return `${scheme}://${this.upstream.authority}`;
  }

  private tlsOptions(): http2.SecureClientSessionOptions {
    if (this.tls === undefined) return {};
    return { ...this.tls.options, ALPNProtocols: ['h2'] };
  }
}
