// `infergate audit verify` and `export` through the command line, over a log AuditLog wrote.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { initKeyDirectory } from '../../src/audit/audit-key-directory';
import type { AuditReport } from '../../src/audit/audit-verifier';
import { openTestAuditLog } from '../fixtures/audit-fixture';
import { runCli, type CliResult } from '../fixtures/cli-run';

const LOG_ID = 'cli-gw';
const START_MICROS = 1_700_000_000_123_456;
const REASONS = ['first-stop', 'second-stop', 'third-stop'];

/** A temp folder holding a key directory and a segment directory with one closed log. */
async function writtenLog(t: TestContext): Promise<{ root: string; dir: string; keys: string }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'infergate-audit-cli-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const keys = path.join(root, 'keys');
  const dir = path.join(root, 'frames');
  let now = START_MICROS;
  const log = await openTestAuditLog(dir, keys, {
    logId: LOG_ID,
    checkpointEveryFrames: 100,
    nowMicros: () => now++,
  });

  for (const reason of REASONS) await log.append({ gatewayStopped: { reason } });
  await log.close();
  return { root, dir, keys };
}

/** The value of the first `label:` line of a report. */
function field(result: CliResult, label: string): string {
  const line = result.stdout.split('\n').find((candidate) => candidate.startsWith(`${label}:`));
  assert.ok(line !== undefined, `no ${label} in ${result.stdout}`);
  return line.slice(label.length + 1).trim();
}

function flipByteOf(dir: string, marker: string): void {
  const [segment] = fs.readdirSync(dir).filter((name) => name.endsWith('.audit'));
  assert.ok(segment !== undefined, `no segment in ${dir}`);
  const file = path.join(dir, segment);
  const data = fs.readFileSync(file);
  const offset = data.indexOf(marker);
  assert.ok(offset > 0, `${marker} not in ${file}`);
  data[offset] = data[offset]! ^ 0x01;
  fs.writeFileSync(file, data);
}

test('verify exits 0 and prints the counts, sequences and checkpoint of a sound log', async (t) => {
  const { dir, keys } = await writtenLog(t);

  const result = await runCli('audit', 'verify', '--dir', dir, '--keys', keys);

  assert.equal(result.code, 0, result.stderr + result.stdout);
  assert.equal(result.stderr, '');
  assert.equal(field(result, 'log'), LOG_ID);
  assert.equal(field(result, 'frames'), '4 read, 4 verified');
  assert.equal(field(result, 'sequences'), '1 to 4');
  assert.match(
    field(result, 'checkpoint'),
    /^4 \(covers to 3\), key [0-9a-f]{16}, 2023-11-14T22:13:20\.12345\dZ$/,
  );
  assert.equal(field(result, 'unsigned tail'), '0 frames');
  assert.equal(field(result, 'breaks'), 'none');
  assert.equal(field(result, 'result'), 'ok');
});

test('verify exits 1 and names the break when one byte of the segment is flipped', async (t) => {
  const { dir, keys } = await writtenLog(t);
  flipByteOf(dir, 'second-stop');

  const result = await runCli('audit', 'verify', '--dir', dir, '--keys', keys);

  assert.equal(result.code, 1, result.stderr + result.stdout);
  assert.match(field(result, 'break'), /^chain_break at cli-gw\.\d+\.audit:\d+, sequence 3: /);
  assert.equal(field(result, 'result'), '1 breaks');
});

test('verify exits 1 with an unknown key when given another key directory', async (t) => {
  const { root, dir } = await writtenLog(t);
  const otherKeys = path.join(root, 'other-keys');
  initKeyDirectory(otherKeys);

  const result = await runCli('audit', 'verify', '--dir', dir, '--keys', otherKeys);

  assert.equal(result.code, 1, result.stderr + result.stdout);
  assert.match(field(result, 'break'), /^checkpoint_unknown_key at .*, sequence 4: /);
  assert.equal(field(result, 'checkpoint'), 'none');
});

test('verify exits 1 when the segment directory cannot be read', async (t) => {
  const { root, keys } = await writtenLog(t);

  const result = await runCli('audit', 'verify', '--dir', path.join(root, 'nope'), '--keys', keys);

  assert.equal(result.code, 1);
  assert.match(result.stderr, /cannot be read: ENOENT \(ERR_AUDIT_STORE_INVALID\)\n$/);
});

test('verify --json prints the report as one JSON object', async (t) => {
  const { dir, keys } = await writtenLog(t);

  const result = await runCli('audit', 'verify', '--dir', dir, '--keys', keys, '--json');

  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 1);
  const report = JSON.parse(lines[0]!) as AuditReport;
  assert.equal(report.ok, true);
  assert.equal(report.logs[0]?.framesVerified, 4);
  assert.equal(report.logs[0]?.lastCheckpoint?.frameSequence, 4);
});

test('verify fails a witness head that is not in the log', async (t) => {
  const { dir, keys } = await writtenLog(t);
  const head = `${LOG_ID}:9:${'ab'.repeat(32)}`;

  const result = await runCli('audit', 'verify', '--dir', dir, '--keys', keys, '--head', head);

  assert.equal(result.code, 1, result.stderr + result.stdout);
  assert.match(field(result, 'break'), /^head_missing /);
});

test('export prints one verified JSON line per frame, in order', async (t) => {
  const { dir, keys } = await writtenLog(t);

  const result = await runCli('audit', 'export', '--dir', dir, '--keys', keys);

  assert.equal(result.code, 0, result.stderr);
  const records = result.stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line));
  assert.deepEqual(
    records.map((record) => [record.sequence, record.kind, record.status]),
    [
      [1, 'gatewayStopped', 'verified'],
      [2, 'gatewayStopped', 'verified'],
      [3, 'gatewayStopped', 'verified'],
      [4, 'checkpoint', 'verified'],
    ],
  );
  assert.deepEqual(records[0].event, { reason: 'first-stop' });
  assert.equal(records[0].logId, LOG_ID);
  assert.equal(records[0].time, '2023-11-14T22:13:20.123456Z');
  assert.match(records[3].event.signature, /^[0-9a-f]{128}$/);
});

test('export --out writes the lines to an owner-only file and marks broken frames', async (t) => {
  const { root, dir, keys } = await writtenLog(t);
  flipByteOf(dir, 'second-stop');
  const out = path.join(root, 'export.jsonl');

  const result = await runCli('audit', 'export', '--dir', dir, '--keys', keys, '--out', out);

  assert.equal(result.code, 1);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /log cli-gw has 1 breaks/);
  const lines = fs.readFileSync(out, 'utf8').trimEnd().split('\n');
  const statuses = lines.map((line) => (JSON.parse(line) as { status: string }).status);
  assert.deepEqual(statuses, ['broken', 'broken', 'broken', 'verified']);
  assert.equal(fs.statSync(out).mode & 0o777, 0o600);
  assert.equal(fs.existsSync(`${out}.partial`), false);
});

test('verify reads the store an infergate.yaml names', async (t) => {
  const { root, dir, keys } = await writtenLog(t);
  const config = path.join(root, 'infergate.yaml');
  const bare = path.join(root, 'bare.yaml');
  fs.writeFileSync(
    config,
    `upstreams: [{ name: models, address: 'grpc://127.0.0.1:8001' }]\n` +
      `audit: { files: { dir: frames }, signingKeyDir: keys }\n`,
  );
  fs.writeFileSync(bare, `upstreams: [{ name: models, address: 'grpc://127.0.0.1:8001' }]\n`);

  const verified = await runCli('audit', 'verify', '--config', config, '--keys', keys);
  const noAudit = await runCli('audit', 'verify', '--config', bare, '--keys', keys);

  assert.equal(verified.code, 0, verified.stderr);
  assert.match(verified.stdout, /^result: +ok$/m);
  assert.ok(fs.existsSync(dir));
  assert.equal(noAudit.code, 2);
  assert.match(noAudit.stderr, /has no audit section/);
});

test('usage errors exit 2', async (t) => {
  const { dir, keys } = await writtenLog(t);
  const cases: [string[], RegExp][] = [
    [['verify', '--keys', keys], /one of --dir, --pg and --config is required/],
    [['verify', '--dir', dir, '--pg', 'postgres://x/y', '--keys', keys], /give one of/],
    [['verify', '--dir', dir, '--config', 'x.yaml', '--keys', keys], /give one of/],
    [['verify', '--dir', dir], /--keys is required/],
    [['export', '--dir', dir], /--keys is required/],
    [['verify', '--dir', dir, '--table', 't', '--keys', keys], /--table needs --pg/],
    [['verify', '--dir', dir, '--keys', keys, '--head', 'x:1:zz'], /is not LOGID:SEQUENCE/],
  ];

  for (const [args, stderr] of cases) {
    const result = await runCli('audit', ...args);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, stderr);
    assert.equal(result.stdout, '');
  }
});
