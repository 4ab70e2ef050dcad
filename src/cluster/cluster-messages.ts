// The messages between a cluster's primary and its workers, over the cluster's IPC channel.

import type { GatewayAddresses } from '../gateway';

/** A worker to its primary: its gateway is bound and serving on `addresses`. */
export interface ListeningReport {
  readonly infergate: 'listening';
  readonly addresses: GatewayAddresses;
}

/**
 * The primary to a worker: drain and stop, reload certificates and keys, or exit at once
 * without draining. `signal` is the one the primary received, for the worker's log line.
 */
export interface WorkerOrder {
  readonly infergate: 'drain' | 'reload' | 'exit';
  readonly signal?: NodeJS.Signals;
}

/** True for a worker's report that it is listening. */
export function isListeningReport(message: unknown): message is ListeningReport {
  if (!isTagged(message) || message.infergate !== 'listening') return false;
  const addresses = message.addresses as Record<string, unknown> | null | undefined;
  return ['grpc', 'http', 'admin'].every((name) => typeof addresses?.[name] === 'string');
}

/** True for an order of the primary. */
export function isWorkerOrder(message: unknown): message is WorkerOrder {
  if (!isTagged(message)) return false;
  return ['drain', 'reload', 'exit'].includes(message.infergate as string);
}

function isTagged(message: unknown): message is Record<string, unknown> {
  return message !== null && typeof message === 'object' && 'infergate' in message;
}
