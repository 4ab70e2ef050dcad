// Whether each upstream can be reached: a TCP connect to it now and then, for /readyz.

import net from 'node:net';
import type { UpstreamConfig } from '../config/gateway-config';
import type { Logger } from '../observe/logger';

/** How often each upstream is probed, unless told otherwise. */
export const UPSTREAM_PROBE_INTERVAL_MS = 5_000;

/** What the last probe of an upstream found; `unknown` until the first one answers. */
export type UpstreamReachability = 'reachable' | 'unreachable' | 'unknown';

/**
 * Connects to every upstream's host and port every `intervalMs` (bounded by the upstream's
 * connect timeout) and closes the connection at once. A TCP connect says the model server's
 * port takes connections, not that the model answers: it is what a load balancer needs to
 * know to stop sending traffic to a gateway that cannot forward it, at no cost to the model.
 * A probe that fails is logged once per change, not at every interval.
 */
export class UpstreamProbe {
  private readonly states = new Map<string, UpstreamReachability>();
  private timer: NodeJS.Timeout | undefined;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly upstreams: readonly UpstreamConfig[],
    private readonly logger: Logger,
    private readonly intervalMs: number = UPSTREAM_PROBE_INTERVAL_MS,
  ) {
    for (const upstream of upstreams) this.states.set(upstream.name, 'unknown');
  }

  /** Probes at once, then every interval; the timer does not keep the process alive. */
  start(): void {
    this.probeAll();
    this.timer = setInterval(() => this.probeAll(), this.intervalMs);
    this.timer.unref();
  }

  /** Each upstream's state, by name, in configuration order. */
  reachability(): Record<string, UpstreamReachability> {
    return Object.fromEntries(this.states);
  }

  /** True unless a probe found an upstream unreachable; `unknown` counts as reachable. */
  get allReachable(): boolean {
    return ![...this.states.values()].includes('unreachable');
  }

  close(): void {
    clearInterval(this.timer);
    for (const socket of this.sockets) socket.destroy();
  }

  private probeAll(): void {
    for (const upstream of this.upstreams) this.probe(upstream);
  }

  private probe(upstream: UpstreamConfig): void {
    const socket = net.connect({ host: upstream.host, port: upstream.port });
    this.sockets.add(socket);
    socket.setTimeout(upstream.connectTimeoutMs);
    const done = (state: UpstreamReachability, err?: Error) => {
      socket.destroy();
      this.sockets.delete(socket);
      this.record(upstream.name, state, err);
    };
    socket.once('connect', () => done('reachable'));
    socket.once('timeout', () => done('unreachable', new Error('connect timed out')));
    socket.once('error', (err) => done('unreachable', err));
  }

  private record(name: string, state: UpstreamReachability, err: Error | undefined): void {
    const before = this.states.get(name);
    if (before === state) return;
    this.states.set(name, state);
    if (state === 'unreachable') this.logger.warn({ upstream: name, err }, 'upstream unreachable');
    else if (before === 'unreachable') this.logger.info({ upstream: name }, 'upstream reachable');
  }
}
