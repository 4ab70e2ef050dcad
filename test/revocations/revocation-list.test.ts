// Unit tests of the revocation list on a real PostgreSQL table: loaded whole at open, refreshed
// with only the rows after the last seen, reloaded when rows are deleted, stale once refreshes
// have failed for longer than maxStaleMs on an injected clock, and fresh again after.

import assert from 'node:assert/strict';
import { mock, test, type TestContext } from 'node:test';
import { isProxyError } from '../../src/errors/proxy-error';
import {
  PostgresRevocationStore,
  type RevocationChanges,
} from '../../src/revocations/postgres-revocation-store';
import type { Revocation } from '../../src/revocations/revocation-record';
import { RevocationList, type RevocationSource } from '../../src/revocations/revocation-list';
import { createAuditDatabase, type AuditDatabase } from '../audit/postgres-fixtures';
import { captureLogs, type CapturedLogger } from '../fixtures/log-sink';

const ALICE = 'A'.repeat(43);
const BOB = 'B'.repeat(43);
const TABLE = 'infergate_revocations';

/** Refreshes run only when a test calls them, unless it moves timers itself. */
const MANUAL_INTERVAL_MS = 3_600_000;
const MAX_STALE_MS = 60_000;

/** A source that keeps what each read returned, so a test sees how much was read. */
class RecordingSource implements RevocationSource {
  readonly fullReads: number[] = [];
  readonly changes: RevocationChanges[] = [];

  constructor(private readonly store: PostgresRevocationStore) {}

  get description(): string {
    return this.store.description;
  }

  open(): Promise<void> {
    return this.store.open();
  }

  async readAll(): Promise<readonly Revocation[]> {
    const rows = await this.store.readAll();
    this.fullReads.push(rows.length);
    return rows;
  }

  async readAfter(afterId: string): Promise<RevocationChanges> {
    const changes = await this.store.readAfter(afterId);
    this.changes.push(changes);
    return changes;
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

interface ListUnderTest {
  readonly db: AuditDatabase;
  /** Writes as the superuser, as an operator's command would. */
  readonly writer: PostgresRevocationStore;
  readonly source: RecordingSource;
  readonly list: RevocationList;
  readonly logs: CapturedLogger;
  readonly clock: { ms: number };
  /** Takes the gateway role's right to read the table away, or gives it back. */
  readable(allowed: boolean): Promise<unknown>;
}

/**
 * A table written as the superuser and a list reading it as a role that may only SELECT, not
 * opened yet; everything is closed before the database is dropped.
 */
async function makeList(t: TestContext, intervalMs = MANUAL_INTERVAL_MS): Promise<ListUnderTest> {
  const db = await createAuditDatabase(t);
  const writer = new PostgresRevocationStore({ connectionString: db.url });
  db.defer(() => writer.close());
  await writer.open();
  const role = await db.createRole();
  await db.admin.query(`GRANT SELECT ON ${TABLE} TO ${role}`);
  const source = new RecordingSource(
    new PostgresRevocationStore({ connectionString: db.urlFor(role) }),
  );
  const logs = captureLogs();
  const clock = { ms: 1_000_000 };
  const list = new RevocationList(source, {
    refreshIntervalMs: intervalMs,
    maxStaleMs: MAX_STALE_MS,
    logger: logs.logger,
    now: () => clock.ms,
  });
  db.defer(() => list.close());
  const readable = (allowed: boolean) =>
    db.admin.query(
      allowed ? `GRANT SELECT ON ${TABLE} TO ${role}` : `REVOKE SELECT ON ${TABLE} FROM ${role}`,
    );
  return { db, writer, source, list, logs, clock, readable };
}

function revoke(writer: PostgresRevocationStore, kind: 'certificate' | 'token', value: string) {
  return writer.add({ kind, value, reason: 'lost laptop', revokedBy: 'carol' });
}

function messages(logs: CapturedLogger, msg: string) {
  return logs.lines.filter((line) => line.msg === msg);
}

test('loads every revocation at open and answers lookups from memory', async (t) => {
  const { writer, list, logs, source } = await makeList(t);
  await revoke(writer, 'certificate', ALICE);
  await revoke(writer, 'token', 'jti-1');

  await list.open();

  assert.equal(list.isCertificateRevoked(ALICE), true);
  assert.equal(list.isCertificateRevoked(BOB), false);
  assert.equal(list.isTokenRevoked('jti-1'), true);
  assert.equal(list.isTokenRevoked(ALICE), false, 'a thumbprint is no token id');
  assert.equal(list.stale, false);
  assert.deepEqual(source.fullReads, [2]);
  const loaded = messages(logs, 'revocations loaded');
  assert.deepEqual(
    loaded.map(({ certificates, tokens }) => ({ certificates, tokens })),
    [{ certificates: 1, tokens: 1 }],
  );
});

test('a refresh reads only the rows after the last one seen', async (t) => {
  const { writer, list, logs, source } = await makeList(t);
  await revoke(writer, 'certificate', ALICE);
  await list.open();

  await revoke(writer, 'token', 'jti-2');
  await list.refresh();
  await list.refresh();

  assert.equal(list.isTokenRevoked('jti-2'), true);
  assert.equal(list.isCertificateRevoked(ALICE), true);
  assert.deepEqual(
    source.changes.map((changes) => [changes.rows.map((row) => row.value), changes.total]),
    [
      [['jti-2'], 2],
      [[], 2],
    ],
  );
  assert.deepEqual(source.fullReads, [1], 'no whole read after the first');
  const applied = messages(logs, 'revocation applied');
  assert.deepEqual(
    applied.map(({ kind, value, reason, revokedBy }) => ({ kind, value, reason, revokedBy })),
    [{ kind: 'token', value: 'jti-2', reason: 'lost laptop', revokedBy: 'carol' }],
  );
});

test('a withdrawn revocation is noticed by the row count and the table read again', async (t) => {
  const { writer, list, logs, source } = await makeList(t);
  await revoke(writer, 'certificate', ALICE);
  await revoke(writer, 'certificate', BOB);
  await list.open();

  await writer.remove('certificate', ALICE);
  await list.refresh();

  assert.equal(list.isCertificateRevoked(ALICE), false);
  assert.equal(list.isCertificateRevoked(BOB), true);
  assert.deepEqual(source.fullReads, [2, 1]);
  const withdrawn = messages(logs, 'revocation withdrawn');
  assert.deepEqual(
    withdrawn.map(({ kind, value }) => ({ kind, value })),
    [{ kind: 'certificate', value: ALICE }],
  );
});

test('a value withdrawn and revoked again stays revoked', async (t) => {
  const { writer, list } = await makeList(t);
  await revoke(writer, 'token', 'jti-3');
  await list.open();

  await writer.remove('token', 'jti-3');
  await revoke(writer, 'token', 'jti-3');
  await list.refresh();

  assert.equal(list.isTokenRevoked('jti-3'), true);
});

test('failed refreshes make the list stale only after maxStaleMs, logged once', async (t) => {
  const { list, logs, clock, readable } = await makeList(t);
  await list.open();
  await readable(false);

  clock.ms += MAX_STALE_MS;
  await list.refresh();
  const staleAtLimit = list.stale;
  clock.ms += 1;
  await list.refresh();
  await list.refresh();

  assert.equal(staleAtLimit, false, 'not stale at exactly maxStaleMs');
  assert.equal(list.stale, true);
  assert.equal(messages(logs, 'revocations not refreshed').length, 1);
  const stale = messages(logs, 'revocations stale, refusing every exchange');
  assert.equal(stale.length, 1);
  assert.equal(stale[0]!.level, 50);
  assert.equal(stale[0]!.sinceMs, MAX_STALE_MS + 1);
});

test('a stale list recovers at the next refresh that succeeds, and says so once', async (t) => {
  const { writer, list, logs, clock, readable } = await makeList(t);
  await list.open();
  await readable(false);
  clock.ms += MAX_STALE_MS + 1;
  await list.refresh();
  await revoke(writer, 'certificate', BOB);

  await readable(true);
  await list.refresh();
  await list.refresh();

  assert.equal(list.stale, false);
  assert.equal(list.isCertificateRevoked(BOB), true, 'what was missed is read');
  const recovered = messages(logs, 'revocations refreshed again');
  assert.deepEqual(
    recovered.map((line) => line.wasStale),
    [true],
  );
});

test('a refresh failing within maxStaleMs of a success leaves the list fresh', async (t) => {
  const { list, logs, clock, readable } = await makeList(t);
  await list.open();
  await readable(false);
  clock.ms += MAX_STALE_MS / 2;
  await list.refresh();
  await readable(true);
  clock.ms += MAX_STALE_MS / 2;
  await list.refresh();
  clock.ms += MAX_STALE_MS / 2;

  await readable(false);
  await list.refresh();

  assert.equal(list.stale, false, 'the clock restarts at the last success');
  assert.deepEqual(
    messages(logs, 'revocations refreshed again').map((line) => line.wasStale),
    [false],
  );
  assert.equal(messages(logs, 'revocations not refreshed').length, 2);
});

test('the interval timer refreshes, and judges staleness even while a refresh hangs', async (t) => {
  const { writer, list, clock } = await makeList(t, 1_000);
  mock.timers.enable({ apis: ['setInterval'] });
  t.after(() => mock.timers.reset());
  await list.open();

  await revoke(writer, 'token', 'jti-4');
  mock.timers.tick(1_000);
  await list.refresh();
  const seen = list.isTokenRevoked('jti-4');
  let release: () => void = () => undefined;
  const hanging = new Promise<void>((resolve) => (release = resolve));
  const realRefresh = list.refresh.bind(list);
  list.refresh = () => hanging;
  clock.ms += MAX_STALE_MS + 1;
  mock.timers.tick(1_000);
  const staleWhileHanging = list.stale;
  list.refresh = realRefresh;
  release();

  assert.equal(seen, true);
  assert.equal(staleWhileHanging, true);
});

test('open rejects when the table cannot be read, so the gateway does not start', async (t) => {
  const { list, readable } = await makeList(t);
  await readable(false);

  await assert.rejects(list.open(), (err: unknown) => {
    assert.ok(isProxyError(err));
    assert.equal(err.code, 'ERR_IDENTITY_UNAVAILABLE');
    assert.match(err.message, /cannot load revocations from PostgreSQL 127\.0\.0\.1:5432\//);
    return true;
  });
});
