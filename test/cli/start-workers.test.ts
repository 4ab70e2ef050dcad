// `infergate start --workers N` as real processes: shared ports, per-worker audit chains,
// replacement of a dead worker, crash-loop stop and signals.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { Client } from 'undici';
import { workerLogId } from '../../src/cluster/worker-log-id';
import { CRASH_LOOP_DEATHS } from '../../src/cluster/crash-loop-guard';
import { defaultLogId } from '../../src/config/resolve-audit';
import { startDemoHttpServer } from '../../src/demo/demo-http-server';
import { framesOf, readFrames } from '../fixtures/audit-fixture';
import { chatStatus, spawnCli, type CliProcess, type LogLine } from '../fixtures/cli-process';
import { runCli } from '../fixtures/cli-run';

const PORTS = ['--grpc-port', '0', '--http-port', '0', '--admin-port', '0'];
const LISTENERS = ['grpc', 'http', 'admin'];
/** Requests per round: with new connections, round-robin hands each worker several. */
const REQUESTS = 6;

function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'infergate-workers-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The listeners' addresses a worker logged, by listener, once all three are bound. */
async function listeningOf(cli: CliProcess, pid: unknown): Promise<Record<string, unknown>> {
  const bound = await cli.waitFor(
    `listening lines of ${pid}`,
    (line) => line.msg === 'listening' && line.pid === pid,
    LISTENERS.length,
  );
  return Object.fromEntries(bound.map((line) => [line.listener, line.address]));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** A cluster of two workers, once the primary says it is ready and both workers listen. */
interface TwoWorkers {
  readonly cli: CliProcess;
  readonly ready: LogLine;
  readonly pids: readonly number[];
  /** Each worker's listeners' addresses, as it logged them, in the order of `pids`. */
  readonly bound: readonly Record<string, unknown>[];
}

async function startTwoWorkers(t: TestContext, flags: readonly string[]): Promise<TwoWorkers> {
  const cli = spawnCli(t, ['start', '--workers', '2', '--insecure', ...flags, ...PORTS]);
  const [ready] = await cli.waitFor('workers ready', (line) => line.msg === 'workers ready');
  const pids = ready!.pids as number[];
  const bound = await Promise.all(pids.map((pid) => listeningOf(cli, pid)));
  return { cli, ready: ready!, pids, bound };
}

/**
 * Sends `count` requests on new connections, then resolves with the pids of the workers whose
 * access lines for `listener` answered them (the lines after the first `skip`).
 */
async function answeringPids(
  cli: CliProcess,
  listener: 'http' | 'grpc',
  send: () => Promise<void>,
  count: number,
  skip = 0,
): Promise<Set<unknown>> {
  for (let sent = 0; sent < count; sent++) await send();
  const isAccess = (line: LogLine) => line.msg === 'access' && line.listener === listener;
  const lines = await cli.waitFor(`${listener} access lines`, isAccess, skip + count);
  return new Set(lines.slice(skip).map((line) => line.pid));
}

/** GET /v1/models on a new connection; rejects unless it is answered 200. */
async function getModels(httpAddress: unknown): Promise<void> {
  const port = String(httpAddress).slice(String(httpAddress).lastIndexOf(':') + 1);
  const client = new Client(`http://127.0.0.1:${port}`);
  const response = await client.request({ path: '/v1/models', method: 'GET' });
  await response.body.text();
  await client.close();
  assert.equal(response.statusCode, 200);
}

/** `infergate_exchanges_total` of answered GET /v1/models, from /metrics on a new connection. */
async function modelsCounted(adminAddress: unknown): Promise<number> {
  const port = String(adminAddress).slice(String(adminAddress).lastIndexOf(':') + 1);
  const client = new Client(`http://127.0.0.1:${port}`);
  const response = await client.request({ path: '/metrics', method: 'GET' });
  const text = await response.body.text();
  await client.close();
  assert.equal(response.statusCode, 200, text);
  const line = text
    .split('\n')
    .find((each) =>
      /^infergate_exchanges_total\{[^}]*operation="models",outcome="ok"\}/.test(each),
    );
  return Number(line?.split(' ').pop());
}

/** `infergate infer` to the echo model over gRPC (a new connection each); rejects unless echoed. */
async function inferEcho(grpcAddress: unknown): Promise<void> {
  const address = String(grpcAddress).replace('0.0.0.0', '127.0.0.1');
  const answer = await runCli('infer', '--insecure', '-a', address, '-m', 'echo', '-p', 'hi');
  assert.deepEqual(answer, { code: 0, stdout: 'hi\n', stderr: '' });
}

/** The audit verify report of `dir` as `infergate audit verify --json` prints it. */
async function verifyAuditDir(dir: string) {
  const keys = path.join(dir, 'keys');
  const verified = await runCli('audit', 'verify', '--dir', dir, '--keys', keys, '--json');
  assert.equal(verified.code, 0, verified.stdout);
  return JSON.parse(verified.stdout) as {
    ok: boolean;
    logs: { logId: string; breaks: unknown[] }[];
  };
}

test('every worker serves HTTP and gRPC on the same ports', { timeout: 60_000 }, async (t) => {
  const { cli, ready, pids, bound } = await startTwoWorkers(t, ['--no-audit']);

  const http = await answeringPids(cli, 'http', () => getModels(bound[0]!.http), REQUESTS);
  const grpc = await answeringPids(cli, 'grpc', () => inferEcho(bound[0]!.grpc), REQUESTS);
  // Whichever worker a scrape reaches, it answers for the whole cluster.
  const scrapes = [];
  for (let scrape = 0; scrape < 4; scrape++) scrapes.push(await modelsCounted(bound[0]!.admin));

  assert.deepEqual(scrapes, [REQUESTS, REQUESTS, REQUESTS, REQUESTS]);
  assert.equal(ready.workers, 2);
  assert.equal(new Set(pids).size, 2);
  assert.ok(!pids.includes(cli.child.pid!), 'the primary serves nothing itself');
  for (const addresses of bound) assert.deepEqual(addresses, ready.addresses);
  assert.deepEqual(http, new Set(pids));
  assert.deepEqual(grpc, new Set(pids));
});

test(
  'a killed worker is replaced on its slot and chain; SIGTERM drains every worker',
  { timeout: 120_000 },
  async (t) => {
    const audit = path.join(tempDir(t), 'audit');
    const { cli, ready, pids, bound } = await startTwoWorkers(t, ['--audit-dir', audit]);
    const slotOf = (pid: unknown) => cli.lines.find((line) => line.pid === pid)?.workerSlot;
    const killed = pids.find((pid) => slotOf(pid) === 1)!;
    const survivor = pids.find((pid) => pid !== killed)!;

    process.kill(killed, 'SIGKILL');
    const [died] = await cli.waitFor('worker died', (line) => line.msg === 'worker died');
    const isReplaced = (line: LogLine) => line.msg === 'worker replaced';
    const [replaced] = await cli.waitFor('worker replaced', isReplaced);
    const replacement = replaced!.pid as number;
    const rebound = await listeningOf(cli, replacement);
    const serving = await answeringPids(cli, 'http', () => getModels(bound[0]!.http), REQUESTS);

    assert.equal(died!.level, 40);
    const { workerSlot, pid, code, signal } = died!;
    assert.deepEqual(
      { workerSlot, pid, code, signal },
      {
        workerSlot: 1,
        pid: killed,
        code: null,
        signal: 'SIGKILL',
      },
    );
    assert.equal(replaced!.workerSlot, 1);
    assert.equal(slotOf(replacement), 1);
    assert.deepEqual(rebound, ready.addresses);
    assert.deepEqual(serving, new Set([replacement, survivor]));

    cli.child.kill('SIGTERM');
    const exit = await cli.exited;

    assert.deepEqual(exit, { code: 0, signal: null });
    assert.equal(cli.stderr(), '');
    assert.deepEqual(cli.unparsed, [], 'every line the workers wrote is whole');
    for (const pid of [killed, survivor, replacement]) assert.equal(isAlive(pid), false, `${pid}`);
    const stopped = cli.lines.filter((line) => line.msg === 'stopped').map((line) => line.pid);
    assert.deepEqual(new Set(stopped), new Set([survivor, replacement]));

    const report = await verifyAuditDir(audit);
    const frames = await readFrames(audit);
    const startsOf = (logId: string) =>
      framesOf(
        frames.filter((frame) => frame.logId === logId),
        'gatewayStarted',
      ).length;

    const chains = [workerLogId(defaultLogId(), 1), workerLogId(defaultLogId(), 2)];
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.logs.map((log) => log.logId),
      chains,
    );
    for (const log of report.logs) assert.deepEqual(log.breaks, []);
    assert.equal(startsOf(chains[0]!), 2, 'the replacement continues the chain of slot 1');
    assert.equal(startsOf(chains[1]!), 1);
  },
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(
    `SIGHUP and ${signal} sent to the whole process group reach each worker once`,
    { timeout: 60_000 },
    async (t) => {
      const args = ['start', '--workers', '2', '--insecure', '--no-audit', ...PORTS];
      const cli = spawnCli(t, args, { ownGroup: true });
      const [ready] = await cli.waitFor('workers ready', (line) => line.msg === 'workers ready');
      const pids = ready!.pids as number[];
      await Promise.all(pids.map((pid) => listeningOf(cli, pid)));

      // As a terminal's hangup and Ctrl-C do: one signal to every process of the group.
      process.kill(-cli.child.pid!, 'SIGHUP');
      const isWorkerReload = (line: LogLine) => line.msg === 'reloading' && line.pid !== undefined;
      await cli.waitFor('worker reloads', isWorkerReload, pids.length);
      process.kill(-cli.child.pid!, signal);
      const exit = await cli.exited;

      assert.deepEqual(exit, { code: 0, signal: null });
      assert.equal(cli.stderr(), '');
      const byWorker = (msg: string) =>
        cli.lines.filter((line) => line.msg === msg && line.pid !== undefined).map((l) => l.pid);
      assert.deepEqual(byWorker('reloading').sort(), [...pids].sort());
      assert.deepEqual(byWorker('shutting down').sort(), [...pids].sort());
      assert.deepEqual(byWorker('stopped').sort(), [...pids].sort());
      assert.ok(!cli.lines.some((line) => line.level === 60), 'nothing exited without draining');
      for (const pid of pids) assert.equal(isAlive(pid), false, `${pid}`);
    },
  );
}

test(
  '--workers 1 runs one process, with no cluster and the plain log id',
  { timeout: 60_000 },
  async (t) => {
    const audit = path.join(tempDir(t), 'audit');
    const cli = spawnCli(t, [
      'start',
      '--workers',
      '1',
      '--insecure',
      '--audit-dir',
      audit,
      ...PORTS,
    ]);

    await cli.waitFor('listening lines', (line) => line.msg === 'listening', LISTENERS.length);
    cli.child.kill('SIGTERM');
    const exit = await cli.exited;

    assert.deepEqual(exit, { code: 0, signal: null });
    const opened = cli.lines.find((line) => line.msg === 'audit log open');
    assert.equal(opened?.logId, defaultLogId());
    assert.ok(cli.lines.every((line) => line.workerSlot === undefined));
    assert.ok(!cli.lines.some((line) => String(line.msg).includes('worker')));
  },
);

test('a bad configuration fails in the primary as without workers', async (t) => {
  const file = path.join(tempDir(t), 'infergate.yaml');
  fs.writeFileSync(file, 'listeners:\n  http:\n    port: "nine thousand"\n');

  const clustered = spawnCli(t, ['start', '--workers', '2', '--config', file]);
  const single = spawnCli(t, ['start', '--workers', '1', '--config', file]);
  const [clusteredExit, singleExit] = await Promise.all([clustered.exited, single.exited]);

  assert.deepEqual(clusteredExit, { code: 2, signal: null });
  assert.deepEqual(singleExit, { code: 2, signal: null });
  assert.match(clustered.stderr(), /listeners\.http\.port/);
  assert.equal(clustered.stderr(), single.stderr());
  assert.deepEqual(clustered.lines, [], 'neither the primary nor a worker logged anything');
});

test(
  'a worker that cannot start stops the cluster with its error, once',
  { timeout: 60_000 },
  async (t) => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '0.0.0.0', resolve));
    t.after(() => taken.close());
    const port = String((taken.address() as net.AddressInfo).port);

    const cli = spawnCli(t, [
      'start',
      '--workers',
      '2',
      '--insecure',
      '--no-audit',
      '--grpc-port',
      '0',
      '--admin-port',
      '0',
      '--http-port',
      port,
    ]);
    const exit = await cli.exited;

    assert.deepEqual(exit, { code: 1, signal: null });
    const refused = `infergate start: http listener cannot bind 0.0.0.0:${port} (EADDRINUSE) (ERR_LISTEN_FAILED)\n`;
    assert.equal(cli.stderr(), refused);
    const failed = cli.lines.filter(
      (line) => line.msg === 'worker failed to start, stopping the cluster',
    );
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.level, 50);
    assert.equal(failed[0]!.workerSlot, 1);
    const ofWorkers = cli.lines.filter((line) => line.workerSlot !== undefined);
    const workerPids = new Set(ofWorkers.map((line) => line.pid));
    assert.equal(workerPids.size, 1, 'the second worker was never forked');
    assert.ok(!cli.lines.some((line) => line.msg === 'listening'));
  },
);

test(
  'a slot whose workers keep dying after their start stops the cluster with exit 1',
  { timeout: 120_000 },
  async (t) => {
    const cli = spawnCli(t, ['start', '--workers', '2', '--insecure', '--no-audit', ...PORTS]);
    // Each kill waits for the primary's word that the worker listens, so no kill lands on a
    // worker the primary still counts as starting.
    await cli.waitFor('workers ready', (line) => line.msg === 'workers ready');
    const isSlotOne = (line: LogLine) => line.msg === 'listening' && line.workerSlot === 1;
    const [first] = await cli.waitFor('slot 1 listening', isSlotOne);
    const killed = [first!.pid as number];
    process.kill(killed[0]!, 'SIGKILL');
    const isReplaced = (line: LogLine) => line.msg === 'worker replaced' && line.workerSlot === 1;
    for (let death = 1; death < CRASH_LOOP_DEATHS; death++) {
      const replaced = await cli.waitFor('slot 1 replaced', isReplaced, death);
      killed.push(replaced[death - 1]!.pid as number);
      process.kill(killed[death]!, 'SIGKILL');
    }
    const exit = await cli.exited;

    assert.deepEqual(exit, { code: 1, signal: null });
    const loop = cli.lines.find((line) => line.level === 50);
    assert.equal(
      loop?.msg,
      'workers of a slot keep dying soon after they start, stopping the cluster',
    );
    assert.equal(loop?.workerSlot, 1);
    assert.equal(loop?.deaths, CRASH_LOOP_DEATHS);
    const died = cli.lines.filter((line) => line.msg === 'worker died');
    assert.deepEqual(
      died.map((line) => line.pid),
      killed,
    );
    const otherSlot = cli.lines.filter((line) => line.workerSlot === 2 && line.msg === 'stopped');
    assert.equal(otherSlot.length, 1, 'the healthy worker drained');
    const pids = new Set(
      cli.lines.map((line) => line.pid).filter((pid) => typeof pid === 'number'),
    );
    for (const pid of pids) assert.equal(isAlive(pid as number), false, `${pid}`);
  },
);

test('rejects a --workers value that is not a whole number from 1', async () => {
  for (const value of ['0', '1.5', 'two', '1025', '']) {
    const result = await runCli('start', '--workers', value);

    assert.equal(result.code, 2, value);
    assert.equal(
      result.stderr,
      `infergate start: --workers "${value}" is not a whole number from 1 to 1024 (ERR_USAGE)\n`,
    );
  }
});

test(
  'SIGHUP after the configuration changed restarts the workers one by one on it',
  { timeout: 120_000 },
  async (t) => {
    const demo = await startDemoHttpServer({ tokenDelayMs: 0 });
    t.after(() => demo.close());
    const dir = tempDir(t);
    const file = path.join(dir, 'infergate.yaml');
    const upstreams = [{ name: 'demo-http', address: `http://${demo.address}` }];
    const write = (document: object) => fs.writeFileSync(file, JSON.stringify(document));
    write({ upstreams });
    const cli = spawnCli(t, ['start', '--workers', '2', '--config', file, ...PORTS]);
    const [ready] = await cli.waitFor('workers ready', (line) => line.msg === 'workers ready');
    const http = (ready!.addresses as Record<string, string>).http;
    const before = await chatStatus(http, 'demo-chat');

    // Unchanged: only certificates and keys reload.
    cli.child.kill('SIGHUP');
    await cli.waitFor('reloads', (line) => line.msg === 'reloading' && line.by === 'primary', 2);
    // A file that does not load changes nothing.
    fs.writeFileSync(file, 'upstreams: [');
    cli.child.kill('SIGHUP');
    const refused = (line: LogLine) => String(line.msg).startsWith('configuration not reloaded');
    await cli.waitFor('refusal', refused);
    // Only `echo` is routed now.
    write({ upstreams, routes: [{ name: 'echo-only', models: ['echo'], upstream: 'demo-http' }] });
    cli.child.kill('SIGHUP');
    const [restarted] = await cli.waitFor('restart', (line) => line.msg === 'workers restarted');
    const after = await Promise.all([1, 2, 3, 4].map(() => chatStatus(http, 'demo-chat')));
    const echo = await chatStatus(http, 'echo');
    cli.child.kill('SIGTERM');
    const exit = await cli.exited;

    assert.equal(before, 200);
    const pids = restarted!.pids as number[];
    assert.equal(pids.length, 2);
    for (const pid of ready!.pids as number[])
      assert.ok(!pids.includes(pid), 'every worker is new');
    assert.deepEqual(after, [404, 404, 404, 404]);
    assert.equal(echo, 200);
    assert.equal(cli.lines.filter((line) => line.msg === 'worker died').length, 0);
    assert.deepEqual(exit, { code: 0, signal: null });
  },
);
