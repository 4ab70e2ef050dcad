// Runs the demo model server, the gateways and nginx as child processes and reads back their
// addresses.

import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The `infergate` executable, from the compiled location dist/bench/. */
export const INFERGATE_BIN = path.resolve(__dirname, '..', '..', 'bin', 'infergate.js');

/** How long a child may take to log its 'listening' lines; two shared cores start slowly. */
const STARTUP_TIMEOUT_MS = 30_000;

/** How often a child that logs no 'listening' line (nginx) is asked whether it is ready. */
const READY_POLL_MS = 50;

/** How long a child may drain after SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 5_000;

/** Bytes of stderr kept per child, quoted when it fails to start. */
const STDERR_TAIL_BYTES = 2_048;

/** A started child with the address of each listener it reported. */
export interface BenchProcess {
  readonly name: string;
  readonly pid: number;
  /** 'host:port' by listener name (`demo`, `grpc`, `admin`); a wildcard host becomes 127.0.0.1. */
  readonly addresses: ReadonlyMap<string, string>;
  /** Set once the child has exited, whether asked to or not. */
  readonly exited: () => boolean;
}

/** Thrown when a child exits or stays silent before it has logged every expected listener. */
export class StartupError extends Error {}

interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  stderrTail: string;
  exited: boolean;
}

/**
 * The children of one benchmark run. Every child it spawns is stopped by `stopAll`, and killed
 * outright if the bench process exits first, so none outlives the run (short of SIGKILL).
 */
export class BenchProcesses {
  private readonly children: Child[] = [];

  constructor() {
    process.once('exit', () => this.killAll());
  }

  /** Starts `infergate <args>` and resolves once it has logged a 'listening' line per name. */
  async start(
    name: string,
    args: readonly string[],
    listeners: readonly string[],
  ): Promise<BenchProcess> {
    const child = this.spawnChild(name, process.execPath, [INFERGATE_BIN, ...args]);
    const addresses = await waitForListeners(child, listeners);
    return { name, pid: child.process.pid ?? -1, addresses, exited: () => child.exited };
  }

  /**
   * Starts `file <args>`, a program that does not log infergate's 'listening' lines, and resolves
   * once `ready` resolves true, asked every 50 ms; `addresses` are the caller's to know. Rejects
   * with StartupError when the child exits first or is not ready in time.
   */
  async startProgram(
    name: string,
    file: string,
    args: readonly string[],
    ready: () => Promise<boolean>,
  ): Promise<BenchProcess> {
    const child = this.spawnChild(name, file, args);
    child.process.stdout?.resume();
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    while (!(await ready())) {
      if (child.exited || Date.now() > deadline) {
        const tail = child.stderrTail.trim();
        const why = child.exited ? 'exited before it was ready' : 'was not ready in time';
        throw new StartupError(`${name} ${why}${tail === '' ? '' : `:\n${tail}`}`);
      }
      await sleep(READY_POLL_MS);
    }
    return { name, pid: child.process.pid ?? -1, addresses: new Map(), exited: () => child.exited };
  }

  /** SIGTERMs every running child and waits for each to exit, killing those that linger. */
  async stopAll(): Promise<void> {
    await Promise.all(this.children.map((child) => stopChild(child)));
  }

  private spawnChild(name: string, file: string, args: readonly string[]): Child {
    // A user's INFERGATE_CONFIG would clash with --upstream, and INFERGATE_LOG_LEVEL would
    // change what the gateway does per exchange; the flags alone decide both here.
    const env = { ...process.env };
    delete env.INFERGATE_CONFIG;
    delete env.INFERGATE_LOG_LEVEL;
    const spawned = spawn(file, args, {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const child: Child = { name, process: spawned, stderrTail: '', exited: false };
    spawned.once('exit', () => (child.exited = true));
    // A program that cannot be run (a PATH entry gone since it was found) never exits: it is
    // counted as exited, with why in its stderr tail, so its start fails instead of crashing.
    spawned.once('error', (err) => {
      child.exited = true;
      child.stderrTail += err.message;
    });
    spawned.stderr?.setEncoding('utf8');
    spawned.stderr?.on('data', (chunk: string) => {
      child.stderrTail = (child.stderrTail + chunk).slice(-STDERR_TAIL_BYTES);
    });
    this.children.push(child);
    return child;
  }

  private killAll(): void {
    for (const child of this.children) {
      if (!child.exited) child.process.kill('SIGKILL');
    }
  }
}

/** The listener name and address of a pino 'listening' line; undefined for any other line. */
function parseListening(line: string): [string, string] | undefined {
  if (!line.includes('"listening"')) return undefined;
  try {
    const record: unknown = JSON.parse(line);
    const { msg, listener, address } = record as Record<string, unknown>;
    if (msg !== 'listening' || typeof listener !== 'string' || typeof address !== 'string') {
      return undefined;
    }
    return [listener, address.replace(/^(0\.0\.0\.0|\[::\]):/, '127.0.0.1:')];
  } catch {
    // Not every stdout line need be JSON (a stray warning); such a line is not the one awaited.
    return undefined;
  }
}

/**
 * Reads the child's stdout line by line until every listener in `names` has logged its
 * address, then keeps draining it unparsed so a full pipe never stalls the child's logging.
 */
function waitForListeners(child: Child, names: readonly string[]): Promise<Map<string, string>> {
  const stdout = child.process.stdout!;
  const addresses = new Map<string, string>();
  let pending = '';
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      cleanup();
      const tail = child.stderrTail.trim();
      reject(new StartupError(`${child.name} ${why}${tail === '' ? '' : `:\n${tail}`}`));
    };
    const onData = (chunk: Buffer) => {
      const lines = (pending + chunk.toString('utf8')).split('\n');
      pending = lines.pop() ?? '';
      for (const found of lines.map(parseListening)) {
        if (found !== undefined) addresses.set(found[0], found[1]);
      }
      if (names.every((name) => addresses.has(name))) {
        cleanup();
        resolve(addresses);
      }
    };
    const onExit = (code: number | null, signal: string | null) =>
      fail(`exited (${signal ?? `code ${code}`}) before it was listening`);
    const timer = setTimeout(() => fail(`logged no 'listening' line in time`), STARTUP_TIMEOUT_MS);
    const cleanup = () => {
      clearTimeout(timer);
      stdout.off('data', onData);
      child.process.off('exit', onExit);
      stdout.resume();
    };
    stdout.on('data', onData);
    child.process.once('exit', onExit);
  });
}

function stopChild(child: Child): Promise<void> {
  if (child.exited) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.process.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.process.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.process.kill('SIGTERM');
  });
}
