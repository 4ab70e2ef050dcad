// A gateway process killed with SIGKILL in the middle of traffic: every exchange answered
// before the kill is in the log, and the restarted gateway continues a log that verifies.

import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { Readable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { startDemoHttpServer } from '../../src/demo/demo-http-server';
import { framesOf, readFrames, verifyDir } from '../fixtures/audit-fixture';
import { repoRoot } from '../fixtures/cli-run';

const REQUESTS = 200;
const IN_FLIGHT = 16;
/** Answers received before the kill; the other workers still have requests in flight then. */
const KILL_AFTER_ANSWERS = 60;

type Child = ChildProcessByStdio<null, Readable, Readable>;

/** A gateway child process, bound and serving. */
interface RunningGateway {
  readonly child: Child;
  /** `http://127.0.0.1:<port>` of its HTTP listener. */
  readonly base: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

/** Starts `infergate start` on `auditDir` in front of `upstream`; resolves once it listens. */
async function startGateway(
  t: TestContext,
  upstream: string,
  auditDir: string,
): Promise<RunningGateway> {
  const environment: NodeJS.ProcessEnv = { ...process.env, INFERGATE_LOG_LEVEL: 'info' };
  delete environment.INFERGATE_CONFIG;
  // One process, so one chain: a cluster would write one chain per worker.
  const args = ['start', '--workers', '1', '--insecure', '--upstream', `http://${upstream}`];
  args.push('--audit-dir', auditDir);
  for (const port of ['--grpc-port', '--http-port', '--admin-port']) args.push(port, '0');
  const child = spawn(process.execPath, ['bin/infergate.js', ...args], {
    cwd: repoRoot(),
    env: environment,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));

  const http = await Promise.race([
    httpListenerAddress(child),
    exited.then(({ code }) => assert.fail(`gateway exited early with ${code}: ${stderr}`)),
  ]);
  const port = http.slice(http.lastIndexOf(':') + 1);
  return { child, base: `http://127.0.0.1:${port}`, exited, stderr: () => stderr };
}

/** Resolves with the HTTP listener's address once all three listeners log `listening`. */
function httpListenerAddress(child: Child): Promise<string> {
  const bound = new Map<string, string>();
  return new Promise((resolve) => {
    readline.createInterface({ input: child.stdout }).on('line', (text) => {
      let line: { msg?: unknown; listener?: unknown; address?: unknown };
      try {
        line = JSON.parse(text) as typeof line;
      } catch {
        // A kill can cut the last line short; only whole lines name listeners.
        return;
      }
      if (line.msg !== 'listening') return;
      bound.set(String(line.listener), String(line.address));
      if (bound.size === 3) resolve(bound.get('http')!);
    });
  });
}

/** A prompt unique to `index`, in letters only, so no masking rule ever changes it. */
function promptOf(index: number): string {
  let letters = '';
  for (let rest = index; letters === '' || rest > 0; rest = Math.floor(rest / 26)) {
    letters = String.fromCharCode(97 + (rest % 26)) + letters;
  }
  return `crash probe ${letters}`;
}

/** Sends one chat completion to the echo model; resolves with the status and the answer. */
async function chat(base: string, prompt: string): Promise<{ status: number; content: string }> {
  const response = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'echo', messages: [{ role: 'user', content: prompt }] }),
  });
  const text = await response.text();
  if (response.status !== 200) return { status: response.status, content: text };
  const body = JSON.parse(text) as { choices: { message: { content: string } }[] };
  return { status: 200, content: body.choices[0]!.message.content };
}

/**
 * Sends up to REQUESTS chats, IN_FLIGHT at a time, and SIGKILLs the gateway as soon as
 * KILL_AFTER_ANSWERS have been answered. Resolves with the prompts answered 200 before the kill.
 */
async function trafficUntilKilled(gateway: RunningGateway): Promise<Set<string>> {
  const answered = new Set<string>();
  let next = 0;
  let killed = false;
  const worker = async (): Promise<void> => {
    while (!killed && next < REQUESTS) {
      const prompt = promptOf(next++);
      try {
        const { status, content } = await chat(gateway.base, prompt);
        if (killed) return;
        assert.equal(status, 200, content);
        assert.equal(content, prompt);
        answered.add(prompt);
      } catch (err) {
        // Requests cut by the kill fail; one failing before it is a failure of the test.
        if (killed) return;
        throw err;
      }
      if (answered.size >= KILL_AFTER_ANSWERS) {
        killed = true;
        gateway.child.kill('SIGKILL');
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  assert.ok(killed, `the gateway answered every request before ${KILL_AFTER_ANSWERS} answers`);
  return answered;
}

/** The response texts of the exchanges the log recorded as finished, each joined. */
async function finishedAnswers(auditDir: string): Promise<Set<string>> {
  const finished = framesOf(await readFrames(auditDir), 'exchangeFinished');
  return new Set(finished.map((body) => (body.response ?? []).map((r) => r.text).join('')));
}

test(
  'answered exchanges survive a SIGKILL and the restarted gateway continues a log that verifies',
  { timeout: 60_000 },
  async (t) => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'infergate-audit-crash-'));
    t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
    const auditDir = path.join(tmp, 'audit');
    const demo = await startDemoHttpServer({ tokenDelayMs: 0 });
    t.after(() => demo.close());

    const first = await startGateway(t, demo.address, auditDir);
    const answered = await trafficUntilKilled(first);
    const killed = await first.exited;
    const recorded = await finishedAnswers(auditDir);

    const second = await startGateway(t, demo.address, auditDir);
    const after = await chat(second.base, 'after the restart');
    second.child.kill('SIGTERM');
    const stopped = await second.exited;

    const frames = await readFrames(auditDir);
    const report = await verifyDir(auditDir, path.join(auditDir, 'keys'));
    const [log] = report.logs;
    t.diagnostic(`${answered.size} answered before the kill, ${recorded.size} recorded finished`);
    t.diagnostic(`${frames.length} frames, gaps ${JSON.stringify(log?.gaps)}`);
    assert.equal(killed.signal, 'SIGKILL');
    assert.ok(answered.size >= KILL_AFTER_ANSWERS);
    const lost = [...answered].filter((prompt) => !recorded.has(prompt));
    assert.deepEqual(lost, [], 'every exchange answered before the kill is recorded');
    assert.deepEqual(after, { status: 200, content: 'after the restart' });
    assert.equal(stopped.code, 0, second.stderr());
    assert.equal(second.stderr(), '');
    assert.equal(report.ok, true, JSON.stringify(report.logs.map((l) => l.breaks)));
    assert.equal(report.logs.length, 1);
    assert.equal(log!.unsignedTail, 0);
    assert.equal(log!.framesRead, frames.length);
    assert.equal(framesOf(frames, 'gatewayStarted').length, 2);
    assert.ok((await finishedAnswers(auditDir)).has('after the restart'));
    // The kill either fell between two batches (the chain just goes on) or cut one short, which
    // the restart recorded in a Gap frame right after the last whole frame.
    assert.ok(log!.gaps.length <= 1, JSON.stringify(log!.gaps));
    for (const gap of log!.gaps) {
      assert.ok(gap.tornBytes > 0, JSON.stringify(gap));
      assert.equal(gap.lastSequence, gap.sequence - 1);
    }
  },
);
