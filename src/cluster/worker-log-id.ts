// The audit log id of a cluster worker: one chain per worker slot, since a chain has one writer.

import { deepFreeze, type GatewayConfig } from '../config/gateway-config';

/**
 * The log id the worker in `slot` writes: `<logId>-w<slot>`. A slot has at most one live worker
 * (a replacement is forked only after its predecessor has exited), so each chain keeps a single
 * writer, and a replacement continues the chain of the worker it replaces.
 */
export function workerLogId(logId: string, slot: number): string {
  return `${logId}-w${slot}`;
}

/** `config` with its audit log id made the one of the worker in `slot`; unchanged without audit. */
export function withWorkerLogId(config: GatewayConfig, slot: number): GatewayConfig {
  const audit = config.audit;
  if (audit === undefined) return config;
  return deepFreeze({ ...config, audit: { ...audit, logId: workerLogId(audit.logId, slot) } });
}
