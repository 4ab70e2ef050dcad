// Keeps a long-running command alive until it is told to stop, then shuts it down once; SIGHUP
// reloads what can be reloaded.

import type { Logger } from '../observe/logger';

/** What a long-running command does when it is told to stop or to reload. */
export interface LifecycleHooks {
  /** Drains and stops; resolves with the exit code, 0 when it resolves with nothing. */
  shutdown(): Promise<number | void>;
  /** Re-reads what can be re-read (certificates, keys); absent, a reload does nothing. */
  reload?(): void;
  /** Runs just before the process exits without draining, for what must go down with it. */
  abort?(): void;
}

/**
 * One run of a long-running command, from serving to its exit code. Stop requests come from
 * signals (`signalled`) or from a cluster's primary (`ordered`); the first of either drains.
 */
export class ProcessLifecycle {
  /** Resolves once `shutdown` has settled: its code, or 1 when it rejected. */
  readonly exitCode: Promise<number>;
  private resolveExit: (code: number) => void = () => undefined;
  private stopping = false;
  private signalledBefore = false;

  constructor(
    private readonly logger: Logger,
    private readonly hooks: LifecycleHooks,
  ) {
    this.exitCode = new Promise((resolve) => (this.resolveExit = resolve));
  }

  /**
   * A stop signal. The first drains (unless an order already does); a second exits at once with
   * code 1, since an operator who asks twice means it.
   */
  signalled(signal: NodeJS.Signals): void {
    if (this.signalledBefore) this.exitNow({ signal }, 'second signal, exiting without draining');
    this.signalledBefore = true;
    if (!this.stopping) this.stop({ signal });
  }

  /**
   * A stop that is not a signal (a primary's order). It never counts as a first signal: one
   * request may reach a worker both as a signal and as an order, and must drain it.
   */
  ordered(fields: Record<string, unknown>): void {
    if (!this.stopping) this.stop(fields);
  }

  /** Exits with code 1 without draining; `fields` and `message` say why. */
  exitNow(fields: Record<string, unknown>, message: string): never {
    this.logger.fatal(fields, message);
    this.hooks.abort?.();
    process.exit(1);
  }

  /** A reload request; `fields` say where it came from. */
  reload(fields: Record<string, unknown>): void {
    this.logger.info(fields, 'reloading');
    this.hooks.reload?.();
  }

  private stop(fields: Record<string, unknown>): void {
    this.stopping = true;
    this.logger.info(fields, 'shutting down');
    this.hooks.shutdown().then(
      (code) => this.resolveExit(code ?? 0),
      (err: unknown) => {
        this.logger.error({ err }, 'shutdown failed');
        this.resolveExit(1);
      },
    );
  }
}

/**
 * Drives `lifecycle` by this process's signals: SIGINT and SIGTERM stop it, SIGHUP reloads it
 * (a process without a reload hook ignores SIGHUP rather than ending). Resolves with its exit
 * code.
 */
export function listenForSignals(lifecycle: ProcessLifecycle): Promise<number> {
  process.on('SIGHUP', (signal) => lifecycle.reload({ signal }));
  process.on('SIGINT', (signal) => lifecycle.signalled(signal));
  process.on('SIGTERM', (signal) => lifecycle.signalled(signal));
  return lifecycle.exitCode;
}

/**
 * Resolves with exit code 0 after the first SIGINT or SIGTERM has run `shutdown` (1 when it
 * rejects). A second signal while draining exits at once with code 1. SIGHUP calls `reload`
 * when given; without it SIGHUP is ignored rather than ending the process.
 */
export function runUntilSignal(
  logger: Logger,
  shutdown: () => Promise<void>,
  reload?: () => void,
): Promise<number> {
  return listenForSignals(new ProcessLifecycle(logger, { shutdown, reload }));
}
