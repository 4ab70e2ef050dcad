// A worker's side of `infergate start --workers N`: it takes its stop and reload orders from the
// primary and tells the primary when it is listening.

import { ProcessLifecycle, type LifecycleHooks } from '../cli/process-lifecycle';
import type { GatewayAddresses } from '../gateway';
import type { Logger } from '../observe/logger';
import { isWorkerOrder, type ListeningReport } from './cluster-messages';

/**
 * Leaves SIGINT and SIGHUP to the primary, for the whole life of the worker. Workers share the
 * primary's process group, so Ctrl-C (SIGINT) and a terminal hangup (SIGHUP) reach every worker
 * as well as the primary, which passes each on once, as an order. A worker acting on its own
 * copy as well would take one Ctrl-C for two and exit without draining. Call it before
 * anything else, so that Ctrl-C during start-up does not kill a worker either.
 */
export function leaveTerminalSignalsToPrimary(): void {
  // A listener replaces the default action (ending the process); the primary's order follows.
  for (const signal of ['SIGINT', 'SIGHUP'] as const) process.on(signal, () => undefined);
}

/**
 * Serves until stopped, then resolves with the exit code; reports `addresses` to the primary
 * first, after which its orders are heard (an order sent earlier would find no listener). The
 * primary's drain order and a SIGTERM sent to the worker itself (a process manager that signals
 * every process of a service, as systemd does by default) are one stop request, so getting both
 * still drains; a second SIGTERM, or the primary's exit order, exits at once.
 */
export function runAsWorker(
  logger: Logger,
  hooks: LifecycleHooks,
  addresses: GatewayAddresses,
): Promise<number> {
  const lifecycle = new ProcessLifecycle(logger, hooks);
  process.on('message', (message: unknown) => {
    if (!isWorkerOrder(message)) return;
    const fields = { signal: message.signal, by: 'primary' };
    if (message.infergate === 'drain') lifecycle.ordered(fields);
    else if (message.infergate === 'reload') lifecycle.reload(fields);
    else lifecycle.exitNow(fields, 'exiting without draining');
  });
  process.on('SIGTERM', (signal) => lifecycle.signalled(signal));

  const report: ListeningReport = { infergate: 'listening', addresses };
  process.send?.(report);
  return lifecycle.exitCode;
}
