// Tests of the PostgreSQL revocation table: created when missing, found in place by a role that
// cannot create it, one row per revoked value, rows after an id with the row count, deletion.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isProxyError } from '../../src/errors/proxy-error';
import { PostgresRevocationStore } from '../../src/revocations/postgres-revocation-store';
import { createAuditDatabase } from '../audit/postgres-fixtures';

const THUMBPRINT = 'x'.repeat(43);

test('open creates the table, and adding a value twice keeps the first revocation', async (t) => {
  const db = await createAuditDatabase(t);
  const store = new PostgresRevocationStore({ connectionString: db.url, table: 'revoked' });
  db.defer(() => store.close());

  await store.open();
  const first = await store.add({
    kind: 'certificate',
    value: THUMBPRINT,
    reason: 'key leaked',
    revokedBy: 'carol',
  });
  const second = await store.add({
    kind: 'certificate',
    value: THUMBPRINT,
    reason: 'again',
    revokedBy: 'dave',
  });
  const token = await store.add({ kind: 'token', value: THUMBPRINT, reason: 'r', revokedBy: 'x' });

  assert.equal(first.added, true);
  assert.equal(second.added, false);
  assert.deepEqual(second.revocation, first.revocation);
  assert.deepEqual([first.revocation.reason, first.revocation.revokedBy], ['key leaked', 'carol']);
  assert.ok(first.revocation.revokedAt instanceof Date);
  assert.equal(token.added, true, 'the same value of another kind is another revocation');
  const rows = await db.admin.query('SELECT kind, value FROM revoked ORDER BY id');
  assert.deepEqual(rows.rows, [
    { kind: 'certificate', value: THUMBPRINT },
    { kind: 'token', value: THUMBPRINT },
  ]);
});

test('readAfter returns the rows after an id, oldest first, and the row count', async (t) => {
  const db = await createAuditDatabase(t);
  const store = new PostgresRevocationStore({ connectionString: db.url });
  db.defer(() => store.close());
  await store.open();
  const made = [];
  for (const value of ['jti-1', 'jti-2', 'jti-3']) {
    made.push((await store.add({ kind: 'token', value, reason: 'r', revokedBy: 'x' })).revocation);
  }

  const after = await store.readAfter(made[0]!.id);
  const none = await store.readAfter(made[2]!.id);
  await store.remove('token', 'jti-2');
  const fewer = await store.readAfter(made[2]!.id);

  assert.deepEqual(
    after.rows.map((row) => row.value),
    ['jti-2', 'jti-3'],
  );
  assert.equal(after.total, 3);
  assert.deepEqual(none, { rows: [], total: 3 });
  assert.deepEqual(fewer, { rows: [], total: 2 });
});

test('remove resolves with the row it deleted, and undefined when there is none', async (t) => {
  const db = await createAuditDatabase(t);
  const store = new PostgresRevocationStore({ connectionString: db.url });
  db.defer(() => store.close());
  await store.open();
  const { revocation } = await store.add({
    kind: 'token',
    value: 'jti-9',
    reason: 'r',
    revokedBy: 'x',
  });

  const removed = await store.remove('token', 'jti-9');
  const again = await store.remove('token', 'jti-9');

  assert.deepEqual(removed, revocation);
  assert.equal(again, undefined);
  assert.deepEqual(await store.readAll(), []);
});

test('a role that cannot create tables reads a table made for it', async (t) => {
  const db = await createAuditDatabase(t);
  const owner = new PostgresRevocationStore({ connectionString: db.url });
  db.defer(() => owner.close());
  await owner.open();
  await owner.add({ kind: 'certificate', value: THUMBPRINT, reason: 'r', revokedBy: 'x' });
  const role = await db.createRole();
  await db.admin.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
  await db.admin.query(`GRANT SELECT ON infergate_revocations TO ${role}`);
  const reader = new PostgresRevocationStore({ connectionString: db.urlFor(role) });
  db.defer(() => reader.close());

  await reader.open();
  const rows = await reader.readAll();

  assert.deepEqual(
    rows.map((row) => row.value),
    [THUMBPRINT],
  );
});

test('failures name the table and never the password', async (t) => {
  const db = await createAuditDatabase(t);
  const url = `postgres://postgres:s3cret-pw@127.0.0.1:5432/${db.name}`;
  const store = new PostgresRevocationStore({ connectionString: url, table: 'not_there' });
  db.defer(() => store.close());

  await assert.rejects(store.readAll(), (err: unknown) => {
    assert.ok(isProxyError(err));
    assert.equal(err.code, 'ERR_IDENTITY_UNAVAILABLE');
    assert.equal(
      err.message,
      `cannot read revocations in PostgreSQL 127.0.0.1:5432/${db.name} table not_there`,
    );
    assert.doesNotMatch(err.message, /s3cret/);
    return true;
  });
});

test('a table name that is not an identifier is refused before any connection', () => {
  assert.throws(
    () => new PostgresRevocationStore({ connectionString: 'postgres://x', table: 'a; drop' }),
    (err: unknown) => isProxyError(err) && err.code === 'ERR_CONFIG_INVALID',
  );
});
