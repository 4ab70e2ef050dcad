// `infergate audit keys`: init, rotate, list and sealing through the command line, and its errors.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { readKeyDirectory } from '../../src/audit/audit-key-directory';
import { sealingKeyIdOf, sealingPublicKeyFromPem } from '../../src/audit/sealing-key';
import { runCli, type CliResult } from '../fixtures/cli-run';
import { fileMode, pkiTempDir } from '../fixtures/pki-temp-dir';

/** The value of a `label:` line of a report. */
function field(result: CliResult, label: string): string {
  const line = result.stdout.split('\n').find((candidate) => candidate.startsWith(`${label}:`));
  assert.ok(line !== undefined, `no ${label} in ${result.stdout}`);
  return line.slice(label.length + 1).trim();
}

function assertFailure(result: CliResult, code: number, stderr: string): void {
  assert.equal(result.code, code, result.stderr);
  assert.equal(result.stdout, '');
  assert.equal(result.stderr, stderr);
}

test('init writes a key directory and prints the current key', async (t) => {
  const dir = path.join(pkiTempDir(t), 'audit-keys');

  const result = await runCli('audit', 'keys', 'init', '--dir', dir);

  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, '');
  const keyId = field(result, 'current key');
  assert.equal(readKeyDirectory(dir).current.keyId, keyId);
  const privateKey = path.join(dir, `${keyId}.key.pem`);
  assert.equal(fileMode(privateKey), 0o600);
  assert.match(
    result.stdout,
    new RegExp(`^wrote ${privateKey}\nwrote ${dir}/${keyId}\\.pub\\.pem\n`),
  );
});

test('init twice is refused and leaves the keys as they were', async (t) => {
  const dir = pkiTempDir(t);
  const first = await runCli('audit', 'keys', 'init', '--dir', dir);
  const before = fs.readdirSync(dir).sort();

  const second = await runCli('audit', 'keys', 'init', '--dir', dir);

  assert.equal(first.code, 0, first.stderr);
  assertFailure(
    second,
    1,
    `infergate audit: ${dir} already holds audit keys (${dir}/current exists); rotate instead ` +
      '(ERR_AUDIT_KEY_INVALID)\n',
  );
  assert.deepEqual(fs.readdirSync(dir).sort(), before);
});

test('rotate makes a new key current, keeps the old one and mentions SIGHUP', async (t) => {
  const dir = pkiTempDir(t);
  const init = await runCli('audit', 'keys', 'init', '--dir', dir);
  const first = field(init, 'current key');

  const result = await runCli('audit', 'keys', 'rotate', '--dir', dir);

  assert.equal(result.code, 0, result.stderr);
  const next = field(result, 'current key');
  assert.notEqual(next, first);
  assert.equal(field(result, 'previous key'), first);
  assert.match(result.stdout, /SIGHUP/);
  const keys = readKeyDirectory(dir);
  assert.equal(keys.current.keyId, next);
  assert.ok(keys.keys.has(first));
  assert.equal(fileMode(path.join(dir, `${next}.key.pem`)), 0o600);
});

test('list prints each key, marks the current one and names its public key', async (t) => {
  const dir = pkiTempDir(t);
  const first = field(await runCli('audit', 'keys', 'init', '--dir', dir), 'current key');
  const next = field(await runCli('audit', 'keys', 'rotate', '--dir', dir), 'current key');
  fs.rmSync(path.join(dir, `${first}.pub.pem`));

  const result = await runCli('audit', 'keys', 'list', '--dir', dir);

  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^KEY ID\s+CURRENT\s+PUBLIC KEY$/);
  const rows = lines.slice(1).map((line) => line.split(/\s+/));
  assert.deepEqual(
    rows.sort((a, b) => a[0]!.localeCompare(b[0]!)),
    [
      [first, 'missing'],
      [next, 'current', path.join(dir, `${next}.pub.pem`)],
    ].sort((a, b) => a[0]!.localeCompare(b[0]!)),
  );
});

test('list and rotate report a directory they cannot read', async (t) => {
  const dir = path.join(pkiTempDir(t), 'absent');

  const list = await runCli('audit', 'keys', 'list', '--dir', dir);
  const rotate = await runCli('audit', 'keys', 'rotate', '-d', dir);

  const stderr = `infergate audit: audit key directory ${dir} does not exist (ERR_AUDIT_KEY_INVALID)\n`;
  assertFailure(list, 1, stderr);
  assertFailure(rotate, 1, stderr);
});

test('sealing writes an owner-only private key and prints the sealing key id', async (t) => {
  const prefix = path.join(pkiTempDir(t), 'security-team');

  const result = await runCli('audit', 'keys', 'sealing', '--out', prefix);

  assert.equal(result.code, 0, result.stderr);
  assert.equal(fileMode(`${prefix}.key.pem`), 0o600);
  const publicKey = sealingPublicKeyFromPem(fs.readFileSync(`${prefix}.pub.pem`), 'pub');
  assert.equal(field(result, 'sealing key'), sealingKeyIdOf(publicKey));
  assert.match(
    result.stdout,
    new RegExp(`^wrote ${prefix}\\.key\\.pem\nwrote ${prefix}\\.pub\\.pem\n`),
  );

  const again = await runCli('audit', 'keys', 'sealing', '-o', prefix);
  assertFailure(
    again,
    1,
    `infergate audit: ${prefix}.key.pem exists already; choose another --out ` +
      '(ERR_AUDIT_KEY_INVALID)\n',
  );
});

test('help lists the subcommands at each level', async () => {
  const audit = await runCli('audit', '--help');
  const bare = await runCli('audit');
  const keys = await runCli('audit', 'keys', '--help');
  const init = await runCli('audit', 'keys', 'init', '--help');
  const top = await runCli('--help');

  assert.equal(audit.code, 0);
  assert.match(audit.stdout, /^Usage: infergate audit <subcommand>/);
  assert.match(audit.stdout, /\n {2}keys {6}make, rotate and list signing keys/);
  assert.equal(bare.code, 2);
  assert.equal(bare.stdout, audit.stdout);
  assert.equal(keys.code, 0);
  for (const name of ['init', 'rotate', 'list', 'sealing']) {
    assert.match(keys.stdout, new RegExp(`\n  ${name} +\\S`));
  }
  assert.equal(init.code, 0);
  assert.match(init.stdout, /^Usage: infergate audit keys init --dir DIR/);
  assert.match(top.stdout, /\n {2}audit +verify and export the audit log, and manage its keys/);
});

test('usage errors exit 2 with ERR_USAGE', async () => {
  const cases: [string[], string][] = [
    [['audit', 'nope'], 'unknown subcommand "nope"; run infergate audit --help for the list'],
    [['audit', 'keys'], ''],
    [
      ['audit', 'keys', 'nope'],
      'unknown subcommand "nope"; run infergate audit keys --help for the list',
    ],
    [['audit', 'keys', 'init'], '--dir is required'],
    [['audit', 'keys', 'rotate'], '--dir is required'],
    [['audit', 'keys', 'list'], '--dir is required'],
    [['audit', 'keys', 'sealing'], '--out is required'],
    [['audit', 'keys', 'init', '--dir', 'x', '--days', '3'], "Unknown option '--days'"],
  ];

  for (const [args, message] of cases) {
    const result = await runCli(...args);
    assert.equal(result.code, 2, args.join(' '));
    if (message === '') continue;
    assertFailure(result, 2, `infergate audit: ${message} (ERR_USAGE)\n`);
  }
});
