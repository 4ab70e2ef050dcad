// Tests reading audit logs back from a real PostgreSQL table.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateAuditSigningKey } from '../../src/audit/audit-signing';
import type { StoredRecord } from '../../src/audit/audit-store';
import { PostgresAuditSource } from '../../src/audit/postgres-source';
import { PostgresAuditStore } from '../../src/audit/postgres-store';
import { ProxyError } from '../../src/errors/proxy-error';
import { createAuditDatabase, TestChain, type AuditDatabase } from './postgres-fixtures';

/** Stores `counts[logId]` frames under each log id, one store per log as replicas would. */
async function fillLogs(db: AuditDatabase, counts: Record<string, number>): Promise<void> {
  const key = generateAuditSigningKey();
  for (const [logId, count] of Object.entries(counts)) {
    const store = new PostgresAuditStore({ connectionString: db.url });
    db.defer(() => store.close());
    await store.open(logId);
    await store.append(new TestChain(logId, key).events(count, logId));
  }
}

async function readAll(source: PostgresAuditSource): Promise<StoredRecord[]> {
  const records: StoredRecord[] = [];
  for await (const record of source.records()) records.push(record);
  return records;
}

function wheres(records: readonly StoredRecord[]): string[] {
  return records.map((r) => r.where);
}

function rowNames(logId: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `row ${logId}/${i + 1}`);
}

test('pages through logs longer than a page in log id and sequence order', async (t) => {
  const db = await createAuditDatabase(t);
  await fillLogs(db, { 'gw-b': 5, 'gw-a': 1200, 'gw-c': 1000 });

  const records = await readAll(new PostgresAuditSource({ connectionString: db.url }));

  assert.deepEqual(wheres(records), [
    ...rowNames('gw-a', 1200),
    ...rowNames('gw-b', 5),
    ...rowNames('gw-c', 1000),
  ]);
  assert.ok(records.every((r) => r.kind === 'frame' && r.where.startsWith(`row ${r.logId}/`)));
});

test('reads only the logs it is asked for', async (t) => {
  const db = await createAuditDatabase(t);
  await fillLogs(db, { 'gw-a': 3, 'gw-b': 2, 'gw-c': 4 });
  const source = new PostgresAuditSource({ connectionString: db.url, logIds: ['gw-c', 'gw-a'] });

  const records = await readAll(source);

  assert.deepEqual(wheres(records), [...rowNames('gw-a', 3), ...rowNames('gw-c', 4)]);
});

test('yields the stored bytes of each frame', async (t) => {
  const db = await createAuditDatabase(t);
  const chain = new TestChain('gw-a', generateAuditSigningKey());
  const frames = [...chain.events(2), chain.checkpoint()];
  const store = new PostgresAuditStore({ connectionString: db.url });
  db.defer(() => store.close());
  await store.open('gw-a');
  await store.append(frames);

  const records = await readAll(new PostgresAuditSource({ connectionString: db.url }));

  assert.deepEqual(
    records,
    frames.map((f) => ({
      kind: 'frame',
      logId: 'gw-a',
      where: `row gw-a/${f.sequence}`,
      bytes: f.bytes,
    })),
  );
});

test('rejects a database without the table with ERR_AUDIT_STORE_INVALID', async (t) => {
  const db = await createAuditDatabase(t);
  const source = new PostgresAuditSource({ connectionString: db.url, table: 'no_such_frames' });

  await assert.rejects(readAll(source), (err) => {
    assert.ok(err instanceof ProxyError);
    assert.equal(err.code, 'ERR_AUDIT_STORE_INVALID');
    assert.match(err.message, /table no_such_frames/);
    return true;
  });
});

test('rejects an unreachable database without naming the password', async () => {
  const source = new PostgresAuditSource({
    connectionString: 'postgres://auditor:s3cret-pw@127.0.0.1:1/audit',
  });

  await assert.rejects(readAll(source), (err) => {
    assert.ok(err instanceof ProxyError);
    assert.equal(err.code, 'ERR_AUDIT_UNAVAILABLE');
    assert.match(err.message, /PostgreSQL 127\.0\.0\.1:1\/audit/);
    assert.doesNotMatch(err.message, /s3cret/);
    return true;
  });
  assert.equal(source.description, 'PostgreSQL 127.0.0.1:1/audit table infergate_audit_frames');
});
