// The gateway: builds listeners, routes and upstream pools from a config and runs them.

import type { AddressInfo } from 'node:net';
import type { GatewayConfig } from './config/gateway-config';
import { ProxyError } from './errors/proxy-error';
import type { GrpcMessage } from './codecs/grpc-message';
import { accessLogFilterFactory } from './filters/access-log/access-log-filter';
import { AdminListener } from './listeners/admin-listener';
import { GrpcListener } from './listeners/grpc/grpc-listener';
import type { Logger } from './observe/logger';
import { createIdGenerator } from './pipeline/exchange';
import type { FilterFactory } from './pipeline/filter';
import { Router } from './pipeline/router';
import { Http2SessionPool } from './upstream/http2-session-pool';

/** The addresses the listeners actually bound, as `host:port`. */
export interface GatewayAddresses {
  readonly grpc: string;
  readonly admin: string;
}

/** A running gateway. */
export interface Gateway {
  readonly addresses: GatewayAddresses;
  /** Drains and stops: readiness fails first, calls in flight get `drainTimeoutMs` to finish. */
  close(): Promise<void>;
}

/** Options for tests and embedding; production passes none. */
export interface GatewayOptions {
  readonly nextId?: () => string;
}

/**
 * Starts every listener, or none: if one cannot bind, those already bound are closed again
 * and the error is thrown, so a half-started gateway never takes traffic.
 */
export async function startGateway(
  config: GatewayConfig,
  logger: Logger,
  options: GatewayOptions = {},
): Promise<Gateway> {
  const state = { phase: 'starting' as 'starting' | 'ready' | 'draining' };
  const pools = new Map(
    config.upstreams.map((upstream) => [
      upstream.name,
      new Http2SessionPool(upstream, logger.child({ upstream: upstream.name })),
    ]),
  );
  const filters: FilterFactory<GrpcMessage>[] = [accessLogFilterFactory(logger)];
  const grpc = new GrpcListener(config.listeners.grpc, {
    listenerName: 'grpc',
    maxMessageBytes: config.listeners.grpc.maxMessageBytes,
    router: new Router(config.routes),
    pools,
    filters,
    logger,
    nextId: options.nextId ?? createIdGenerator(),
  });
  const admin = new AdminListener({
    ...config.listeners.admin,
    logger,
    notReadyReason: () => (state.phase === 'ready' ? undefined : state.phase),
  });

  const addresses = await bindAll(grpc, admin, config, pools);
  state.phase = 'ready';
  logger.info({ listener: 'grpc', address: addresses.grpc }, 'listening');
  logger.info({ listener: 'admin', address: addresses.admin }, 'listening');

  return {
    addresses,
    close: async () => {
      state.phase = 'draining';
      logger.info({ drainTimeoutMs: config.drainTimeoutMs }, 'draining');
      await grpc.close(config.drainTimeoutMs);
      for (const pool of pools.values()) pool.close();
      await admin.close();
      logger.info('stopped');
    },
  };
}

async function bindAll(
  grpc: GrpcListener,
  admin: AdminListener,
  config: GatewayConfig,
  pools: Map<string, Http2SessionPool>,
): Promise<GatewayAddresses> {
  let grpcAddress: AddressInfo | undefined;
  try {
    grpcAddress = await listenOrExplain('grpc', config.listeners.grpc, () => grpc.listen());
    const adminAddress = await listenOrExplain('admin', config.listeners.admin, () =>
      admin.listen(),
    );
    return { grpc: formatAddress(grpcAddress), admin: formatAddress(adminAddress) };
  } catch (err) {
    if (grpcAddress !== undefined) await grpc.close(0);
    for (const pool of pools.values()) pool.close(true);
    throw err;
  }
}

async function listenOrExplain(
  name: string,
  where: { host: string; port: number },
  listen: () => Promise<AddressInfo>,
): Promise<AddressInfo> {
  try {
    return await listen();
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? 'error';
    const message = `${name} listener cannot bind ${where.host}:${where.port} (${reason})`;
    throw new ProxyError('ERR_LISTEN_FAILED', message, { cause: err });
  }
}

function formatAddress(address: AddressInfo): string {
  return address.family === 'IPv6'
    ? `[${address.address}]:${address.port}`
    : `${address.address}:${address.port}`;
}
