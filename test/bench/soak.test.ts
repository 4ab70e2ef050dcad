// The soak script as an operator runs it, briefly: it passes with masking on, and with masking
// off it fails on the card numbers it sees, while the audit trail still holds none.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from '../fixtures/cli-run';

const execFileAsync = promisify(execFile);

/** A few seconds and a few streams: the checks are what is tested, not the figures. */
const SHORT_RUN = ['--seconds', '2', '--streams', '4'];

interface SoakResult {
  readonly completed: { readonly grpc: number; readonly sse: number };
  readonly errors: number;
  readonly unmaskedAnswers: number;
  readonly mismatchedAnswers: number;
  readonly audit: { verified: boolean; cardsInFrames: number; lostFrames: number };
}

/** Runs the compiled soak script; its exit code and the JSON report it printed. */
async function soak(args: readonly string[]): Promise<{ code: number; result: SoakResult }> {
  const script = path.join(repoRoot(), 'dist', 'bench', 'soak.js');
  const run = execFileAsync(process.execPath, [script, ...SHORT_RUN, ...args], {
    cwd: repoRoot(),
    maxBuffer: 16 * 1024 * 1024,
  });
  const { stdout, code } = await run.then(
    ({ stdout }) => ({ stdout, code: 0 }),
    (err: { stdout: string; code: number }) => ({ stdout: err.stdout, code: err.code }),
  );
  const json = stdout.slice(stdout.indexOf('{'), stdout.lastIndexOf('}') + 1);
  return { code, result: JSON.parse(json) as SoakResult };
}

test('a short soak with every control on passes, every answer masked and every frame kept', async () => {
  const { code, result } = await soak([]);

  assert.equal(code, 0);
  assert.ok(result.completed.grpc > 0 && result.completed.sse > 0, JSON.stringify(result));
  assert.equal(result.errors, 0);
  assert.equal(result.unmaskedAnswers, 0);
  assert.equal(result.mismatchedAnswers, 0);
  assert.deepEqual(result.audit.verified, true);
  assert.equal(result.audit.lostFrames, 0);
});

test('with masking off the soak fails on the card numbers clients see', async () => {
  const { code, result } = await soak(['--mask', 'none']);

  assert.equal(code, 1);
  const completed = result.completed.grpc + result.completed.sse;
  assert.equal(result.unmaskedAnswers, completed);
  assert.equal(result.audit.cardsInFrames, 0, 'the audit trail masks its own copies');
  assert.equal(result.audit.verified, true);
});
