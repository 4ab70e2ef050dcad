// `infergate mask`: a text masked with the gateway's policy, a file checked for card data, the
// stream comparison, and counts that never carry a value.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { repoRoot, runCli } from '../fixtures/cli-run';

const TEXT = 'Order 42: card 4111 1111 1111 1111, CVV 123.\nphone 555-0123, EMP-004711\n';
const MASKED = 'Order 42: card **** **** **** 1111, CVV ***.\nphone 555-0123, EMP-004711\n';

function writeTemp(t: TestContext, name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'infergate-mask-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

/** A configuration whose masking keeps the first six digits and adds an employee-id pattern. */
function configFile(t: TestContext): string {
  const document = {
    upstreams: [{ name: 'vllm', address: 'http://127.0.0.1:8000' }],
    masking: {
      keepFirst: 6,
      keepLast: 4,
      patterns: [{ name: 'employee-id', regex: 'EMP-\\d{6}' }],
    },
  };
  return writeTemp(t, 'infergate.yaml', JSON.stringify(document));
}

test('masks a file with the default policy, the counts on stderr', async (t) => {
  const result = await runCli('mask', '--file', writeTemp(t, 'text.txt', TEXT));

  assert.equal(result.code, 0);
  assert.equal(result.stdout, MASKED);
  assert.equal(result.stderr, 'found: pan 1, cvv 1, expiry 0, track1 0, track2 0\n');
});

test("masks with the configuration's options and patterns", async (t) => {
  const text = writeTemp(t, 'text.txt', TEXT);
  const result = await runCli('mask', '--config', configFile(t), '--file', text);

  assert.equal(result.code, 0);
  assert.match(result.stdout, /card 4111 11\*\* \*\*\*\* 1111, CVV \*\*\*/);
  assert.match(result.stdout, /\*{10}\n$/);
  assert.match(result.stderr, /pattern:employee-id 1/);
});

test('--check exits 1 when card data is found and prints counts, never the text', async (t) => {
  const dirty = await runCli('mask', '--check', '--file', writeTemp(t, 'a.log', TEXT));
  const clean = await runCli('mask', '--check', '--file', writeTemp(t, 'b.log', 'at 12/25 1234\n'));

  assert.equal(dirty.code, 1);
  assert.equal(dirty.stdout, 'found: pan 1, cvv 1, expiry 0, track1 0, track2 0\n');
  assert.doesNotMatch(dirty.stdout + dirty.stderr, /4111|1111 1111|123\./);
  assert.equal(clean.code, 0);
});

test('--json with --chunk-bytes says whether the stream equals the whole text', async (t) => {
  const result = await runCli(
    'mask',
    '--json',
    '--chunk-bytes',
    '3',
    '--file',
    writeTemp(t, 'text.txt', TEXT),
  );
  const report = JSON.parse(result.stdout) as Record<string, unknown>;

  assert.equal(result.code, 0);
  assert.deepEqual(report, {
    masked: MASKED,
    found: { pan: 1, cvv: 1, expiry: 0, track1: 0, track2: 0 },
    stream: { chunkBytes: 3, identical: true },
  });
});

test('refuses a missing file and a chunk size of 0 with exit code 2', async (t) => {
  const missing = await runCli('mask', '--file', path.join(os.tmpdir(), 'infergate-no-such-file'));
  const zero = await runCli('mask', '--chunk-bytes', '0', '--file', writeTemp(t, 'x', TEXT));

  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot be read \(ENOENT\)/);
  assert.equal(zero.code, 2);
  assert.match(zero.stderr, /--chunk-bytes must be at least 1/);
});

test('reads standard input when no file is given', async () => {
  const script = path.join(repoRoot(), 'bin', 'infergate.js');
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = execFile(process.execPath, [script, 'mask'], (err, out) =>
      err === null ? resolve(out) : reject(err),
    );
    child.stdin!.end(TEXT);
  });

  assert.equal(stdout, MASKED);
});
