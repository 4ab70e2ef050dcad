// `infergate start` on one core: by default a cluster of one worker, which a changed
// configuration restarts behind a stand-in, so no connection is refused meanwhile.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { startDemoHttpServer } from '../../src/demo/demo-http-server';
import { chatStatus, spawnCli, type CliProcess } from '../fixtures/cli-process';

const PORTS = ['--grpc-port', '0', '--http-port', '0', '--admin-port', '0'];
/** A bound on the requests sent while the restart runs; it takes far fewer. */
const MAX_REQUESTS = 5_000;

function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'infergate-one-core-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Chats with `echo`, one new connection after another, until `done` resolves (or the bound is
 * reached); the outcome of each: its status or its error code.
 */
async function chatUntil(http: unknown, done: Promise<unknown>): Promise<string[]> {
  let finished = false;
  void done.then(() => (finished = true));
  const outcomes: string[] = [];
  while (!finished && outcomes.length < MAX_REQUESTS) {
    const outcome = await chatStatus(http, 'echo').then(
      (status) => String(status),
      (err: NodeJS.ErrnoException) => err.code ?? err.message,
    );
    outcomes.push(outcome);
  }
  return outcomes;
}

test(
  'on one core the default is a cluster of one, restarted behind a stand-in on a new configuration',
  { timeout: 120_000 },
  async (t) => {
    const demo = await startDemoHttpServer({ tokenDelayMs: 0 });
    t.after(() => demo.close());
    const file = path.join(tempDir(t), 'infergate.yaml');
    const upstreams = [{ name: 'demo-http', address: `http://${demo.address}` }];
    const write = (document: object) => fs.writeFileSync(file, JSON.stringify(document));
    write({ upstreams });
    const cli: CliProcess = spawnCli(t, ['start', '--config', file, ...PORTS], { cpus: '0' });
    const [ready] = await cli.waitFor('workers ready', (line) => line.msg === 'workers ready');
    const http = (ready!.addresses as Record<string, string>).http;
    const before = await chatStatus(http, 'demo-chat');

    // Only `echo` is routed now; chats with it go on throughout the restart.
    write({ upstreams, routes: [{ name: 'echo-only', models: ['echo'], upstream: 'demo-http' }] });
    cli.child.kill('SIGHUP');
    const restarted = cli.waitFor('restart', (line) => line.msg === 'workers restarted');
    const during = await chatUntil(http, restarted);
    const [done] = await restarted;
    const after = await chatStatus(http, 'demo-chat');
    cli.child.kill('SIGTERM');
    const exit = await cli.exited;

    assert.equal(ready!.workers, 1);
    assert.equal(before, 200);
    assert.ok(during.length > 0);
    assert.deepEqual(
      during.filter((outcome) => outcome !== '200'),
      [],
      'every chat during the restart was answered',
    );
    const standIn = cli.lines.find((line) => line.msg === 'stand-in worker listening');
    assert.equal(standIn?.workerSlot, 2);
    const pids = done!.pids as number[];
    assert.equal(pids.length, 1);
    assert.ok(!(ready!.pids as number[]).includes(pids[0]!), 'the worker is new');
    assert.ok(!pids.includes(standIn!.pid as number), 'the stand-in is gone');
    assert.equal(after, 404, 'the new configuration is in force');
    assert.equal(cli.lines.filter((line) => line.msg === 'worker died').length, 0);
    assert.deepEqual(exit, { code: 0, signal: null });
  },
);
