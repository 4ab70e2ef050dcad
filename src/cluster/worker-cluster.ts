// The primary of `infergate start --workers N`: forks the workers, replaces those that die, and
// passes the operator's signals on to them as orders.

import cluster, { type Worker } from 'node:cluster';
import path from 'node:path';
import { ProcessLifecycle, listenForSignals } from '../cli/process-lifecycle';
import type { GatewayAddresses } from '../gateway';
import type { Logger } from '../observe/logger';
import { isListeningReport, type WorkerOrder } from './cluster-messages';
import { answerMetricsAsks } from './cluster-metrics';
import { workerEnvironment, type DemoAddresses } from './cluster-role';
import { CrashLoopGuard, QUICK_DEATH_MS } from './crash-loop-guard';

/** The program each worker runs: the compiled `worker-main.ts` beside this file. */
const WORKER_MAIN = path.join(__dirname, 'worker-main.js');

const LISTENERS = ['grpc', 'http', 'admin'] as const;

/** What the primary runs. */
export interface ClusterOptions {
  readonly workers: number;
  /** The `start` arguments the primary was given; every worker runs the same. */
  readonly args: readonly string[];
  readonly logger: Logger;
  /** Where the demo model server of the embedded default listens, run by the primary. */
  readonly demo?: DemoAddresses;
  /**
   * Asked on SIGHUP: true when the configuration file changed into one that loads, which the
   * workers then take up by a rolling restart; absent without a file (only certificates and
   * keys reload then).
   */
  readonly configurationChanged?: () => boolean;
}

/**
 * Runs the cluster until it stops: on SIGINT or SIGTERM, when every worker drains; or on its
 * own, when a worker fails to start or a slot's workers keep dying. SIGHUP is passed on as a
 * reload. Resolves with the exit code: 0 when every worker drained and exited with 0, else the
 * code of the failure (a worker's own when it failed to start).
 */
export function runCluster(options: ClusterOptions): Promise<number> {
  const workers = new WorkerCluster(options);
  const lifecycle = new ProcessLifecycle(options.logger, {
    shutdown: () => workers.stop(),
    reload: () => workers.reload(),
    abort: () => workers.abort(),
  });
  const signalled = listenForSignals(lifecycle);
  answerMetricsAsks(options.logger);
  workers.start();
  return Promise.race([signalled, workers.finished]);
}

/** A slot's current worker. */
interface SlotWorker {
  readonly worker: Worker;
  readonly forkedAtMs: number;
  listening: boolean;
  /** Told to drain by a rolling restart: its exit is no death, and its slot is forked again. */
  retiring: boolean;
}

/**
 * The workers, one per slot 1 to N. A slot has at most one live worker: a replacement is forked
 * only once its predecessor has exited, because the slot names the worker's audit chain. While a
 * lone worker restarts, a stand-in serves from slot N + 1, its own chain.
 */
class WorkerCluster {
  readonly finished: Promise<number>;
  private resolveFinished: (code: number) => void = () => undefined;
  private readonly slots = new Map<number, SlotWorker>();
  private readonly guard = new CrashLoopGuard();
  private phase: 'starting' | 'ready' | 'restarting' | 'stopping' = 'starting';
  /** The slots a rolling restart has still to replace, in order, and the one it replaces now. */
  private restartQueue: number[] = [];
  private restartingSlot: number | undefined;
  /**
   * The slot of the stand-in that serves while a lone worker restarts: with one worker, its
   * drain would otherwise leave nobody on the shared sockets, and connections refused.
   */
  private standIn: number | undefined;
  private othersForked = false;
  private exitCode = 0;
  /** What the first worker bound; every other worker must report the same. */
  private addresses: GatewayAddresses | undefined;

  constructor(private readonly options: ClusterOptions) {
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
    // Limitation: the workers inherit the primary's stdout and stderr and write their log lines
    // there themselves; on a pipe whose reader falls behind, a batch over PIPE_BUF (4 KiB on
    // Linux) can interleave with another worker's, cutting a line.
    cluster.setupPrimary({ exec: WORKER_MAIN, args: ['start', ...options.args] });
  }

  /**
   * Forks slot 1 alone and the others once it listens: a start that fails (a port in use, a
   * missing key) then fails once, in one worker, and every later worker asks the primary for
   * the listening sockets the first one made, so port 0 means the same port in all of them.
   */
  start(): void {
    this.options.logger.info({ workers: this.options.workers }, 'starting workers');
    this.fork(1);
  }

  /**
   * Orders every worker to drain; one still starting gets the order once it listens. Resolves
   * with the exit code once every worker has exited; calling it again returns the same promise.
   */
  stop(): Promise<number> {
    if (this.phase !== 'stopping') {
      this.phase = 'stopping';
      this.order({ infergate: 'drain' });
      this.finishIfEmpty();
    }
    return this.finished;
  }

  /**
   * SIGHUP: a rolling restart when the configuration changed, else every worker reloads its
   * certificates and keys. A restart replaces one slot at a time (drain, exit, fork, listen),
   * so the others keep serving and no connection is refused; a lone worker is first joined by a
   * stand-in on the new configuration, which drains once the worker is back. Each new worker
   * reads the new configuration, and certificates and keys with it.
   */
  reload(): void {
    if (this.phase === 'restarting') {
      this.options.logger.warn('a rolling restart is under way; this reload waits for none');
      return;
    }
    if (this.phase !== 'ready' || this.options.configurationChanged?.() !== true) {
      return this.order({ infergate: 'reload', signal: 'SIGHUP' });
    }
    this.phase = 'restarting';
    this.restartQueue = [...this.slots.keys()].sort((a, b) => a - b);
    this.options.logger.info(
      { workers: this.restartQueue.length },
      'restarting workers one by one',
    );
    if (this.slots.size === 1) return this.forkStandIn();
    this.retireNext();
  }

  /** Sends `order` to every listening worker (a starting one has no handler for it yet). */
  order(order: WorkerOrder): void {
    for (const slot of this.slots.values()) {
      if (slot.listening) this.send(slot.worker, order);
    }
  }

  /**
   * Orders every listening worker to exit at once, as the primary is about to. One still
   * starting has no handler for it, but exits as soon as the primary has: a worker's cluster
   * channel closing ends it.
   */
  abort(): void {
    this.order({ infergate: 'exit' });
  }

  private fork(slot: number): void {
    const worker = cluster.fork(workerEnvironment(slot, this.options.demo));
    const entry: SlotWorker = {
      worker,
      forkedAtMs: Date.now(),
      listening: false,
      retiring: false,
    };
    this.slots.set(slot, entry);
    worker.on('message', (message: unknown) => {
      if (isListeningReport(message)) this.listening(slot, entry, message.addresses);
    });
    worker.on('exit', (code: number | null, signal: NodeJS.Signals | null) =>
      this.exited(slot, entry, code, signal),
    );
    worker.on('error', (err: unknown) => {
      // The channel to a worker failed; its exit, which follows, is what is acted on.
      this.options.logger.warn(
        { err, workerSlot: slot, pid: worker.process.pid },
        'worker channel failed',
      );
    });
  }

  private listening(slot: number, entry: SlotWorker, addresses: GatewayAddresses): void {
    entry.listening = true;
    // A worker that started while the cluster stops may have bound ports of its own: with port
    // 0, the shared sockets close with the last worker holding them.
    if (this.phase === 'stopping') return this.send(entry.worker, { infergate: 'drain' });
    if (!this.sameAddresses(slot, entry, addresses)) return;
    if (this.phase === 'restarting' && slot === this.standIn && slot === this.restartingSlot) {
      this.options.logger.info(
        { workerSlot: slot, pid: entry.worker.process.pid },
        'stand-in worker listening',
      );
      return this.retireNext();
    }
    if (this.phase === 'restarting' && slot === this.restartingSlot) {
      this.options.logger.info(
        { workerSlot: slot, pid: entry.worker.process.pid },
        'worker restarted',
      );
      return this.retireNext();
    }
    if (this.phase === 'ready' || this.phase === 'restarting') {
      const replaced = { workerSlot: slot, pid: entry.worker.process.pid };
      return this.options.logger.info(replaced, 'worker replaced');
    }

    if (!this.othersForked) {
      this.othersForked = true;
      for (let next = 2; next <= this.options.workers; next++) this.fork(next);
    }
    const all = [...this.slots.values()];
    if (all.length === this.options.workers && all.every((each) => each.listening)) {
      this.phase = 'ready';
      const pids = all.map((each) => each.worker.process.pid);
      const fields = { workers: this.options.workers, pids, addresses };
      this.options.logger.info(fields, 'workers ready');
    }
  }

  /**
   * False, and the cluster stopping, when a worker is not serving where the first one is.
   * Limitation: with port 0 that happens when every worker has died at once, since the shared
   * sockets close with the last worker holding them; fixed ports are bound again as they were.
   */
  private sameAddresses(slot: number, entry: SlotWorker, addresses: GatewayAddresses): boolean {
    const expected = (this.addresses ??= addresses);
    if (LISTENERS.every((name) => addresses[name] === expected[name])) return true;
    const fields = { workerSlot: slot, pid: entry.worker.process.pid, addresses, expected };
    this.fail(1, fields, 'worker listens where the first worker does not');
    return false;
  }

  private exited(
    slot: number,
    entry: SlotWorker,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): void {
    if (this.slots.get(slot) === entry) this.slots.delete(slot);
    const fields = { workerSlot: slot, pid: entry.worker.process.pid, code, signal };

    if (this.phase === 'stopping') {
      if (code !== 0) {
        this.options.logger.error(fields, 'worker did not stop cleanly');
        this.exitCode ||= 1;
      }
      return this.finishIfEmpty();
    }
    if (this.phase === 'restarting' && entry.retiring) {
      if (code !== 0) this.options.logger.error(fields, 'worker did not stop cleanly');
      if (slot !== this.standIn) return this.fork(slot);
      this.standIn = undefined;
      return this.retireNext();
    }
    // Before the cluster was ready, a worker that never listened met a fault every worker
    // would meet (a port in use, an unreadable key): replacing it cannot help.
    if (this.phase === 'starting' && !entry.listening) {
      return this.fail(code || 1, fields, 'worker failed to start, stopping the cluster');
    }
    this.replace(slot, entry, fields);
  }

  /** Forks the stand-in for a lone worker's restart; the restart goes on once it listens. */
  private forkStandIn(): void {
    const slot = this.options.workers + 1;
    this.standIn = slot;
    this.restartingSlot = slot;
    this.fork(slot);
  }

  /**
   * Drains the next slot of a rolling restart, then the stand-in if there is one, or ends the
   * restart when neither is left.
   */
  private retireNext(): void {
    const slot = this.restartQueue.shift() ?? this.standIn;
    this.restartingSlot = slot;
    if (slot === undefined) {
      this.phase = 'ready';
      const pids = [...this.slots.values()].map((each) => each.worker.process.pid);
      return this.options.logger.info({ workers: this.slots.size, pids }, 'workers restarted');
    }
    const entry = this.slots.get(slot);
    if (slot === this.standIn && (entry === undefined || !entry.listening)) {
      // A stand-in that died meanwhile is not forked again: the restarted worker serves.
      this.standIn = undefined;
      return this.retireNext();
    }
    // A slot whose worker died meanwhile was forked again on the new configuration already.
    if (entry === undefined || !entry.listening) return this.retireNext();
    entry.retiring = true;
    this.send(entry.worker, { infergate: 'drain', signal: 'SIGHUP' });
  }

  private replace(slot: number, entry: SlotWorker, fields: Record<string, unknown>): void {
    const deaths = this.guard.recordDeath(slot, Date.now() - entry.forkedAtMs);
    this.options.logger.warn(fields, 'worker died');
    if (deaths === undefined) return this.fork(slot);
    const loop = { workerSlot: slot, deaths, quickDeathMs: QUICK_DEATH_MS };
    this.fail(1, loop, 'workers of a slot keep dying soon after they start, stopping the cluster');
  }

  /** Logs why the cluster stops on its own, and stops it with exit code `code`. */
  private fail(code: number, fields: Record<string, unknown>, message: string): void {
    this.options.logger.error(fields, message);
    this.exitCode ||= code;
    void this.stop();
  }

  private finishIfEmpty(): void {
    if (this.slots.size === 0) this.resolveFinished(this.exitCode);
  }

  private send(worker: Worker, order: WorkerOrder): void {
    // A disconnected worker is on its way out, and its exit is acted on.
    if (!worker.isConnected()) return;
    worker.send(order, (err: Error | null) => {
      if (err === null) return;
      this.options.logger.debug({ err, pid: worker.process.pid }, 'order not delivered');
    });
  }
}
