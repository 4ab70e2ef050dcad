// `infergate revocations add|list|remove` through the command line on a real PostgreSQL table,
// and the usage errors it stops at before connecting anywhere.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { stringify } from 'yaml';
import { createAuditDatabase, type AuditDatabase } from '../audit/postgres-fixtures';
import { runCli, type CliResult } from '../fixtures/cli-run';
import { makeTestIdentity } from '../fixtures/identity-fixture';

const THUMBPRINT = 'Q'.repeat(43);

/** Runs `revocations <args>` and asserts it succeeded. */
async function succeeded(...args: string[]): Promise<CliResult> {
  const result = await runCli('revocations', ...args);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, '');
  return result;
}

async function rows(db: AuditDatabase, table = 'infergate_revocations') {
  const result = await db.admin.query(
    `SELECT kind, value, reason, revoked_by FROM ${table} ORDER BY id`,
  );
  return result.rows;
}

function assertUsage(result: CliResult, message: string): void {
  assert.equal(result.code, 2, result.stderr);
  assert.equal(result.stdout, '');
  assert.equal(result.stderr, `infergate revocations: ${message} (ERR_USAGE)\n`);
}

test('add revokes a certificate file by its thumbprint and a token by its jti', async (t) => {
  const db = await createAuditDatabase(t);
  const identity = makeTestIdentity(t);
  const alice = identity.clients.alice;

  const byFile = await succeeded(
    'add',
    '--certificate',
    alice.certFile,
    '--reason',
    'laptop stolen',
    '--by',
    'carol',
    '--pg',
    db.url,
  );
  const byId = await succeeded('add', '--token-id', 'jti-7', '--reason', 'leaked', '--pg', db.url);

  assert.match(
    byFile.stdout,
    new RegExp(
      `^revoked certificate ${alice.peer.thumbprint}: id 1, revoked \\S+Z by "carol": "laptop stolen"\n$`,
    ),
  );
  assert.match(byId.stdout, /^revoked token jti-7: id 2, /);
  const stored = await rows(db);
  assert.equal(stored[1].revoked_by.length > 0, true, 'the OS user when --by is not given');
  assert.deepEqual(
    stored.map(({ kind, value, reason }) => ({ kind, value, reason })),
    [
      { kind: 'certificate', value: alice.peer.thumbprint, reason: 'laptop stolen' },
      { kind: 'token', value: 'jti-7', reason: 'leaked' },
    ],
  );
});

test('adding a revoked value again says so and keeps the first revocation', async (t) => {
  const db = await createAuditDatabase(t);
  await succeeded('add', '--thumbprint', THUMBPRINT, '--reason', 'first', '--pg', db.url);

  const again = await succeeded(
    'add',
    '--thumbprint',
    THUMBPRINT,
    '--reason',
    'second',
    '--pg',
    db.url,
  );

  assert.match(again.stdout, new RegExp(`^certificate ${THUMBPRINT} was revoked already: id 1, `));
  assert.deepEqual(
    (await rows(db)).map((row) => row.reason),
    ['first'],
  );
});

test('list prints a table, or JSON lines with --json, oldest first', async (t) => {
  const db = await createAuditDatabase(t);
  const table = 'team_revocations';
  const store = ['--pg', db.url, '--table', table];
  const empty = await succeeded('list', ...store);
  await succeeded(
    'add',
    '--thumbprint',
    THUMBPRINT,
    '--reason',
    'key\tleaked',
    '--by',
    'carol',
    ...store,
  );
  await succeeded('add', '--token-id', 'jti-1', '--reason', 'leaked', '--by', 'dave', ...store);

  const listed = await succeeded('list', ...store);
  const json = await succeeded('list', '--json', ...store);

  assert.equal(empty.stdout, 'no revocations\n');
  const lines = listed.stdout.trimEnd().split('\n');
  const cells = lines.map((line) => line.split(/ {2,}/));
  assert.deepEqual(cells[0], ['ID', 'KIND', 'VALUE', 'REVOKED', 'BY', 'REASON']);
  assert.deepEqual(
    cells[1]!.filter((_cell, column) => column !== 3),
    ['1', 'certificate', THUMBPRINT, 'carol', 'key leaked'],
  );
  assert.deepEqual(
    cells[2]!.filter((_cell, column) => column !== 3),
    ['2', 'token', 'jti-1', 'dave', 'leaked'],
  );
  assert.equal(lines[0]!.indexOf('BY'), lines[2]!.indexOf('dave'), 'columns are aligned');
  assert.ok(cells.slice(1).every((row) => !Number.isNaN(Date.parse(row[3]!))));
  const objects = json.stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.deepEqual(
    objects.map(({ id, kind, value, reason, revokedBy }) => ({
      id,
      kind,
      value,
      reason,
      revokedBy,
    })),
    [
      {
        id: '1',
        kind: 'certificate',
        value: THUMBPRINT,
        reason: 'key\tleaked',
        revokedBy: 'carol',
      },
      { id: '2', kind: 'token', value: 'jti-1', reason: 'leaked', revokedBy: 'dave' },
    ],
  );
  assert.ok(objects.every((object) => !Number.isNaN(Date.parse(String(object.revokedAt)))));
});

test('remove withdraws a revocation and prints what it was, who withdrew it and why', async (t) => {
  const db = await createAuditDatabase(t);
  await succeeded(
    'add',
    '--token-id',
    'jti-1',
    '--reason',
    'leaked',
    '--by',
    'carol',
    '--pg',
    db.url,
  );

  const removed = await succeeded(
    'remove',
    '--token-id',
    'jti-1',
    '--reason',
    'wrong token',
    '--by',
    'dave',
    '--pg',
    db.url,
  );
  const again = await runCli(
    'revocations',
    'remove',
    '--token-id',
    'jti-1',
    '--reason',
    'twice',
    '--pg',
    db.url,
  );

  assert.match(
    removed.stdout,
    /^withdrew the revocation of token jti-1 \(id 1, revoked \S+Z by "carol": "leaked"\) by "dave": "wrong token"\n$/,
  );
  assert.deepEqual(await rows(db), []);
  assert.deepEqual(again, {
    code: 1,
    stdout: '',
    stderr: 'infergate revocations: token jti-1 is not revoked\n',
  });
});

test('--config reads the table the revocations section names', async (t) => {
  const db = await createAuditDatabase(t);
  const identity = makeTestIdentity(t);
  const file = path.join(identity.dir, 'infergate.yaml');
  const document = {
    upstreams: [{ name: 'models', address: 'grpc://127.0.0.1:8001' }],
    ...identity.sections(),
    revocations: { postgres: { connectionString: db.url, table: 'from_config' } },
  };
  fs.writeFileSync(file, stringify(document));

  await succeeded('add', '--thumbprint', THUMBPRINT, '--reason', 'r', '--config', file);

  assert.deepEqual(
    (await rows(db, 'from_config')).map((row) => row.value),
    [THUMBPRINT],
  );
});

test('a database that cannot be reached fails with 1 and names it without the password', async () => {
  const url = 'postgres://postgres:s3cret@127.0.0.1:1/nowhere';

  const result = await runCli('revocations', 'list', '--pg', url);

  assert.equal(result.code, 1);
  assert.equal(
    result.stderr,
    'infergate revocations: cannot open revocations in PostgreSQL 127.0.0.1:1/nowhere table infergate_revocations (ERR_IDENTITY_UNAVAILABLE)\n',
  );
});

test('bad usage is refused before anything is read or written', async (t: TestContext) => {
  const pg = ['--pg', 'postgres://postgres@127.0.0.1:1/never'];
  const jwt = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhIn0.c2ln';
  const cases: [string[], string][] = [
    [['add', '--reason', 'r', ...pg], 'give one of --certificate, --thumbprint and --token-id'],
    [
      ['add', '--thumbprint', THUMBPRINT, '--token-id', 'j', '--reason', 'r', ...pg],
      'give one of --certificate, --thumbprint and --token-id',
    ],
    [['add', '--token-id', 'j', ...pg], '--reason is required'],
    [['remove', '--token-id', 'j', ...pg], '--reason is required'],
    [['add', '--token-id', 'j', '--reason', 'r'], 'give one of --pg and --config'],
    [
      ['add', '--token-id', 'j', '--reason', 'r', ...pg, '--config', 'x.yaml'],
      'give one of --pg and --config',
    ],
    [['list', '--table', 't', '--config', 'x.yaml'], '--table needs --pg'],
    [['list', '--table', 't'], 'give one of --pg and --config'],
    [
      ['add', '--thumbprint', 'abc', '--reason', 'r', ...pg],
      '--thumbprint "abc" is not an x5t#S256 thumbprint (43 base64url characters)',
    ],
    [
      ['add', '--token-id', jwt, '--reason', 'r', ...pg],
      "--token-id takes the token's jti claim, not the token",
    ],
    [
      ['add', '--token-id', 'a b', '--reason', 'r', ...pg],
      '--token-id must be 1-256 printable ASCII characters without spaces',
    ],
    [
      ['add', '--token-id', 'j', '--reason', 'x'.repeat(501), ...pg],
      '--reason has 501 characters; at most 500 are kept',
    ],
    [
      ['add', '--token-id', 'j', '--reason', 'r', '--by', '', ...pg],
      '--by must be 1-200 characters',
    ],
  ];
  for (const [args, message] of cases) {
    await t.test(args.join(' '), async () => {
      assertUsage(await runCli('revocations', ...args), message);
    });
  }
});

test('unknown subcommands and flags are refused and --help describes each one', async () => {
  const unknown = await runCli('revocations', 'purge');
  const flag = await runCli('revocations', 'list', '--reason', 'r', '--pg', 'postgres://x');
  const help = await succeeded('add', '--help');

  assertUsage(unknown, 'unknown subcommand "purge"; run infergate revocations --help for the list');
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /^infergate revocations: Unknown option '--reason'/);
  assert.match(help.stdout, /^Usage: infergate revocations add \(--certificate FILE/);
});
