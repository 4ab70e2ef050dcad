// Tests the PostgreSQL audit store against a real server, one database per test.

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import pg from 'pg';
import { generateAuditSigningKey } from '../../src/audit/audit-signing';
import { PostgresAuditSource } from '../../src/audit/postgres-source';
import { PostgresAuditStore } from '../../src/audit/postgres-store';
import { ProxyError } from '../../src/errors/proxy-error';
import { countRows, createAuditDatabase, TestChain, type AuditDatabase } from './postgres-fixtures';

type StoreOptions = ConstructorParameters<typeof PostgresAuditStore>[0];

/** A store closed when the test ends: before `db` is dropped, when there is one. */
function openStore(
  owner: TestContext | AuditDatabase,
  options: Partial<StoreOptions> = {},
): PostgresAuditStore {
  const url = 'defer' in owner ? owner.url : 'postgres://127.0.0.1:1/audit';
  const store = new PostgresAuditStore({ connectionString: url, ...options });
  if ('defer' in owner) owner.defer(() => store.close());
  else owner.after(() => store.close());
  return store;
}

function hasCode(code: string, message?: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof ProxyError, `not a ProxyError: ${String(err)}`);
    assert.equal(err.code, code);
    if (message !== undefined) assert.match(err.message, message);
    return true;
  };
}

type Query = (...args: unknown[]) => Promise<pg.QueryResult>;

/** A pool, ended with `db`, whose next COMMIT can be made to fail once. */
interface FaultyPool {
  readonly pool: pg.Pool;
  /** Fails the next COMMIT before sending it, or after the server committed (answer lost). */
  failNextCommit(when: 'before' | 'after'): void;
}

function createFaultyPool(db: AuditDatabase): FaultyPool {
  const pool = new pg.Pool({ connectionString: db.url });
  db.defer(() => pool.end());
  let armed: 'before' | 'after' | undefined;
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as Query;
    client.query = (async (...args: unknown[]) => {
      const when = armed;
      if (when === undefined || args[0] !== 'COMMIT') return query(...args);
      armed = undefined;
      if (when === 'after') await query(...args);
      throw new Error('injected commit failure');
    }) as typeof client.query;
  });
  return { pool, failNextCommit: (when) => void (armed = when) };
}

test('opens an empty log with an empty tail and creates the table', async (t) => {
  const db = await createAuditDatabase(t);
  const store = openStore(db);

  const tail = await store.open('gw-1');

  assert.deepEqual(tail, {
    lastSequence: 0,
    lastHash: undefined,
    lastKeyId: undefined,
    torn: undefined,
  });
  assert.equal(await countRows(db, 'gw-1'), 0);
});

test('reopens at the tail of the appended batches, with the latest key id', async (t) => {
  const db = await createAuditDatabase(t);
  const first = generateAuditSigningKey();
  const second = generateAuditSigningKey();
  const chain = new TestChain('gw-1', first);
  const writer = openStore(db);
  await writer.open('gw-1');

  await writer.append(chain.events(3));
  await writer.append([chain.checkpoint(), ...chain.events(2)]);
  const hashAtSix = chain.lastHash;
  await writer.close();
  const reader = openStore(db);
  const tail = await reader.open('gw-1');
  await reader.append([chain.rotate(second), ...chain.events(1)]);
  const rotated = await openStore(db).open('gw-1');

  assert.deepEqual(tail, {
    lastSequence: 6,
    lastHash: hashAtSix,
    lastKeyId: first.keyId,
    torn: undefined,
  });
  assert.equal(rotated.lastSequence, 8);
  assert.deepEqual(rotated.lastHash, chain.lastHash);
  assert.equal(rotated.lastKeyId, second.keyId);
});

test('finds a checkpoint several pages back, and no key id in a log without one', async (t) => {
  const db = await createAuditDatabase(t);
  const key = generateAuditSigningKey();
  const signed = new TestChain('signed', key);
  const unsigned = new TestChain('unsigned', key);
  const store = openStore(db);
  await store.open('signed');
  await store.append([...signed.events(2), signed.checkpoint(), ...signed.events(600)]);
  await store.open('unsigned');
  await store.append(unsigned.events(300));

  const signedTail = await openStore(db).open('signed');
  const unsignedTail = await openStore(db).open('unsigned');

  assert.equal(signedTail.lastSequence, 603);
  assert.deepEqual(signedTail.lastHash, signed.lastHash);
  assert.equal(signedTail.lastKeyId, key.keyId);
  assert.equal(unsignedTail.lastSequence, 300);
  assert.equal(unsignedTail.lastKeyId, undefined);
});

test('keeps two replicas apart in one table, and the source reads both in order', async (t) => {
  const db = await createAuditDatabase(t);
  const key = generateAuditSigningKey();
  const a = new TestChain('replica-a', key);
  const b = new TestChain('replica-b', key);
  const storeA = openStore(db);
  const storeB = openStore(db);
  await Promise.all([storeA.open('replica-a'), storeB.open('replica-b')]);
  const framesB = [...b.events(2, 'b'), ...b.events(2, 'b')];
  const framesA = [...a.events(3, 'a'), a.checkpoint()];

  await storeB.append(framesB.slice(0, 2));
  await storeA.append(framesA.slice(0, 2));
  await storeB.append(framesB.slice(2));
  await storeA.append(framesA.slice(2));
  const records = [];
  for await (const record of new PostgresAuditSource({ connectionString: db.url }).records()) {
    records.push(record);
  }

  const expected = [
    ...framesA.map((f) => ({ logId: 'replica-a', where: `row replica-a/${f.sequence}`, f })),
    ...framesB.map((f) => ({ logId: 'replica-b', where: `row replica-b/${f.sequence}`, f })),
  ].map(({ logId, where, f }) => ({ kind: 'frame', logId, where, bytes: f.bytes }));
  assert.deepEqual(records, expected);
});

test('refuses a second writer on the same log id with a clear error', async (t) => {
  const db = await createAuditDatabase(t);
  const key = generateAuditSigningKey();
  const chain = new TestChain('gw-shared', key);
  const first = openStore(db);
  await first.open('gw-shared');
  await first.append(chain.events(3));
  const second = openStore(db);
  const secondTail = await second.open('gw-shared');
  const rival = new TestChain('gw-shared', key);
  rival.events(3);

  await first.append(chain.events(1, 'first'));
  const refused = second.append(rival.events(1, 'second'));

  assert.equal(secondTail.lastSequence, 3);
  await assert.rejects(
    refused,
    hasCode('ERR_AUDIT_STORE_INVALID', /two writers share audit log id gw-shared/),
  );
  assert.equal(await countRows(db, 'gw-shared'), 4);
});

test('rolls back a failed append, and the same frames then append once', async (t) => {
  const db = await createAuditDatabase(t);
  const { pool, failNextCommit } = createFaultyPool(db);
  const chain = new TestChain('gw-1', generateAuditSigningKey());
  const store = openStore(db, { pool });
  await store.open('gw-1');
  await store.append(chain.events(2));
  const frames = chain.events(3);
  failNextCommit('before');

  await assert.rejects(store.append(frames), (err) => {
    assert.ok(hasCode('ERR_AUDIT_UNAVAILABLE', /frames 3-5 of audit log gw-1/)(err));
    assert.match(String((err as ProxyError).cause), /injected commit failure/);
    return true;
  });
  const afterFailure = await countRows(db, 'gw-1');
  await store.append(frames);

  assert.equal(afterFailure, 2);
  assert.equal(await countRows(db, 'gw-1'), 5);
  assert.equal(pool.ended, false);
});

test('accepts a retry of frames whose commit succeeded but whose answer was lost', async (t) => {
  const db = await createAuditDatabase(t);
  const { pool, failNextCommit } = createFaultyPool(db);
  const chain = new TestChain('gw-1', generateAuditSigningKey());
  const store = openStore(db, { pool });
  await store.open('gw-1');
  const frames = chain.events(3);
  failNextCommit('after');

  await assert.rejects(store.append(frames), hasCode('ERR_AUDIT_UNAVAILABLE'));
  await store.append(frames);

  assert.equal(await countRows(db, 'gw-1'), 3);
});

test('rejects an append on an ended pool with ERR_AUDIT_UNAVAILABLE', async (t) => {
  const db = await createAuditDatabase(t);
  const pool = new pg.Pool({ connectionString: db.url });
  const store = openStore(db, { pool });
  await store.open('gw-1');

  await pool.end();

  const chain = new TestChain('gw-1', generateAuditSigningKey());
  await assert.rejects(store.append(chain.events(1)), hasCode('ERR_AUDIT_UNAVAILABLE'));
  assert.equal(await countRows(db, 'gw-1'), 0);
});

test('refuses UPDATE, DELETE and TRUNCATE on the table through its trigger', async (t) => {
  const db = await createAuditDatabase(t);
  const store = openStore(db);
  await store.open('gw-1');
  await store.append(new TestChain('gw-1', generateAuditSigningKey()).events(2));
  const refused =
    /audit frames are append-only: (UPDATE|DELETE|TRUNCATE) on infergate_audit_frames refused/;

  for (const sql of [
    "UPDATE infergate_audit_frames SET frame = '\\x00' WHERE sequence = 2",
    'DELETE FROM infergate_audit_frames WHERE sequence = 2',
    'TRUNCATE infergate_audit_frames',
  ]) {
    await assert.rejects(db.admin.query(sql), (err: Error) => refused.test(err.message), sql);
  }

  assert.equal(await countRows(db, 'gw-1'), 2);
});

test('works under a role granted only SELECT and INSERT, which cannot delete', async (t) => {
  const db = await createAuditDatabase(t);
  await openStore(db).open('setup');
  const role = await db.createRole();
  await db.admin.query(`REVOKE ALL ON infergate_audit_frames FROM PUBLIC;
    REVOKE UPDATE, DELETE, TRUNCATE ON infergate_audit_frames FROM ${role};
    GRANT USAGE ON SCHEMA public TO ${role};
    GRANT SELECT, INSERT ON infergate_audit_frames TO ${role}`);
  const chain = new TestChain('gw-1', generateAuditSigningKey());
  const store = openStore(db, { connectionString: db.urlFor(role) });

  await store.open('gw-1');
  await store.append(chain.events(2));
  const client = new pg.Client({ connectionString: db.urlFor(role) });
  await client.connect();
  db.defer(() => client.end());

  await assert.rejects(client.query('DELETE FROM infergate_audit_frames'), {
    message: /permission denied/,
  });
  assert.equal(await countRows(db, 'gw-1'), 2);
});

test('refuses to write behind a disabled trigger until its owner restores it', async (t) => {
  const db = await createAuditDatabase(t);
  await openStore(db).open('setup');
  const role = await db.createRole();
  await db.admin.query(`GRANT SELECT, INSERT ON infergate_audit_frames TO ${role}`);
  await db.admin.query(
    'ALTER TABLE infergate_audit_frames DISABLE TRIGGER infergate_audit_frames_append_only',
  );

  const asGateway = openStore(db, { connectionString: db.urlFor(role) }).open('gw-1');
  await assert.rejects(asGateway, hasCode('ERR_AUDIT_STORE_INVALID', /cannot open audit log gw-1/));
  await openStore(db).open('gw-1');

  await assert.rejects(db.admin.query('DELETE FROM infergate_audit_frames'), /append-only/);
});

test('rejects an unreachable database without naming the password', async (t) => {
  const store = openStore(t, { connectionString: 'postgres://gw:s3cret-pw@127.0.0.1:1/audit' });

  const opening = store.open('gw-1');

  await assert.rejects(opening, (err) => {
    assert.ok(hasCode('ERR_AUDIT_UNAVAILABLE', /127\.0\.0\.1:1\/audit/)(err));
    assert.doesNotMatch((err as Error).message, /s3cret/);
    return true;
  });
  assert.equal(store.description, 'PostgreSQL 127.0.0.1:1/audit table infergate_audit_frames');
});

test('rejects a stored row that does not decode, or holds another frame', async (t) => {
  const db = await createAuditDatabase(t);
  const store = openStore(db);
  await store.open('gw-1');
  const other = new TestChain('gw-2', generateAuditSigningKey()).events(1)[0]!;
  const insert = 'INSERT INTO infergate_audit_frames (log_id, sequence, frame) VALUES ($1, 1, $2)';
  await db.admin.query(insert, ['truncated', Buffer.from([0x0a, 0x05, 0x61])]);
  await db.admin.query(insert, ['misfiled', other.bytes]);

  const truncated = openStore(db);
  const misfiled = openStore(db);

  await assert.rejects(
    truncated.open('truncated'),
    hasCode('ERR_AUDIT_STORE_INVALID', /row truncated\/1 does not decode/),
  );
  await assert.rejects(
    misfiled.open('misfiled'),
    hasCode('ERR_AUDIT_STORE_INVALID', /row misfiled\/1 holds frame gw-2\/1/),
  );
});

test('rejects a database where commits are not durable', async (t) => {
  const db = await createAuditDatabase(t);
  const url = `${db.url}?options=${encodeURIComponent('-c synchronous_commit=off')}`;

  const opening = openStore(db, { connectionString: url }).open('gw-1');

  await assert.rejects(opening, hasCode('ERR_AUDIT_STORE_INVALID', /synchronous_commit off/));
});

test('rejects a table name that is not a plain identifier', () => {
  assert.throws(
    () => new PostgresAuditStore({ connectionString: 'postgres://x/y', table: 'frames; DROP' }),
    hasCode('ERR_AUDIT_STORE_INVALID', /not a lowercase identifier/),
  );
});

test('rejects an append before open', async (t) => {
  const store = openStore(t, { connectionString: 'postgres://127.0.0.1:1/audit' });

  await assert.rejects(store.append([]), hasCode('ERR_AUDIT_UNAVAILABLE', /is not open/));
});
