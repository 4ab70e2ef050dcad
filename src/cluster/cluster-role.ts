// The part a process plays in `infergate start --workers N`, and the internal environment
// variables through which a cluster's primary tells each worker its part.

import cluster from 'node:cluster';
import type { Environment } from '../config/environment';
import { ProxyError } from '../errors/proxy-error';

/**
 * Internal, set by the primary on each worker it forks: the worker's slot, 1 to N. The slot
 * names the worker's audit chain, so a replacement continues the chain of the worker it
 * replaces. Not for operators: a process that is not a cluster worker ignores it.
 */
export const WORKER_SLOT_VARIABLE = 'INFERGATE_WORKER_SLOT';

/**
 * Internal, set by the primary of the embedded default: JSON `{"grpc":"host:port","http":...}`,
 * where the demo model server the primary runs listens, for the workers' upstreams.
 */
export const WORKER_DEMO_VARIABLE = 'INFERGATE_WORKER_DEMO';

/** Where the embedded default's demo model server listens, as `host:port` per side. */
export interface DemoAddresses {
  readonly grpc: string;
  readonly http: string;
}

/**
 * What this process does once its configuration is built: serve alone, fork and watch `workers`
 * workers (the primary serves nothing itself), or serve as the worker in `slot`.
 */
export type ClusterRole =
  | { readonly kind: 'single' }
  | { readonly kind: 'primary'; readonly workers: number }
  | { readonly kind: 'worker'; readonly slot: number; readonly demo: DemoAddresses | undefined };

/** How many workers `--workers` asks for, and whether it asked for none but this process. */
export interface WorkerCount {
  readonly workers: number;
  /** An explicit `--workers 1`: serve in this process, with no cluster. */
  readonly alone: boolean;
}

/**
 * The role of this process: a cluster worker when the primary forked it with a slot, else
 * `single` when asked to serve alone, and `primary` otherwise, also of one worker (the default
 * on one core), so that a dead worker is replaced and a changed configuration taken up.
 * Throws ERR_CONFIG_INVALID for a malformed internal variable, which only a bug makes.
 */
export function clusterRoleOf(count: WorkerCount, env: Environment): ClusterRole {
  const slot = env.lookup(WORKER_SLOT_VARIABLE);
  if (cluster.isWorker && slot !== undefined) {
    if (!/^[1-9][0-9]{0,5}$/.test(slot)) throw internalError(WORKER_SLOT_VARIABLE);
    return { kind: 'worker', slot: Number(slot), demo: demoAddressesOf(env) };
  }
  return count.alone ? { kind: 'single' } : { kind: 'primary', workers: count.workers };
}

/** The variables the worker in `slot` is forked with. */
export function workerEnvironment(
  slot: number,
  demo: DemoAddresses | undefined,
): Record<string, string> {
  const variables: Record<string, string> = { [WORKER_SLOT_VARIABLE]: String(slot) };
  if (demo !== undefined) variables[WORKER_DEMO_VARIABLE] = JSON.stringify(demo);
  return variables;
}

function demoAddressesOf(env: Environment): DemoAddresses | undefined {
  const value = env.lookup(WORKER_DEMO_VARIABLE);
  if (value === undefined) return undefined;
  const parsed = parseJson(value);
  if (isDemoAddresses(parsed)) return parsed;
  throw internalError(WORKER_DEMO_VARIABLE);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Not JSON: the caller reports the variable as malformed, which is all there is to say.
    return undefined;
  }
}

function isDemoAddresses(value: unknown): value is DemoAddresses {
  if (value === null || typeof value !== 'object') return false;
  const { grpc, http } = value as Record<string, unknown>;
  return typeof grpc === 'string' && typeof http === 'string';
}

function internalError(variable: string): ProxyError {
  return new ProxyError(
    'ERR_CONFIG_INVALID',
    `${variable}, set by the cluster primary, is malformed`,
  );
}
