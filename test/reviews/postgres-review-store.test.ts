// Tests the PostgreSQL review store against a real server, one database per test.

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import pg from 'pg';
import { ProxyError } from '../../src/errors/proxy-error';
import { PostgresReviewStore } from '../../src/reviews/postgres-review-store';
import type { Review } from '../../src/reviews/review-store';
import { createAuditDatabase, type AuditDatabase } from '../audit/postgres-fixtures';

type StoreOptions = ConstructorParameters<typeof PostgresReviewStore>[0];

/** A store closed when the test ends: before `db` is dropped, when there is one. */
function openStore(
  owner: TestContext | AuditDatabase,
  options: Partial<StoreOptions> = {},
): PostgresReviewStore {
  const url = 'defer' in owner ? owner.url : 'postgres://127.0.0.1:1/reviews';
  const store = new PostgresReviewStore({ connectionString: url, ...options });
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

/** A pending review at version 1, as the review rules would first create it. */
function makeReview(id: string, overrides: Partial<Review> = {}): Review {
  return {
    id,
    version: 1,
    createdAtMs: 1_700_000_000_000,
    expiresAtMs: 1_700_000_600_000,
    requester: {
      subject: 'svc-batch',
      certificateThumbprint: 'q3ZpTh8k2mN0',
      roles: ['batch', 'reader'],
    },
    rule: 'large-export',
    requestDigest: 'ab'.repeat(32),
    request: {
      listener: 'openai',
      operation: 'chat.completions',
      model: undefined,
      route: 'default',
      facts: { maxTokens: '4096', '': 'empty key' },
      maskedPrompt: ['card ****1111', ''],
    },
    reviewerRoles: ['approver'],
    approvalsRequired: 2,
    grantTtlMs: 300_000,
    decisions: [],
    state: 'pending',
    grant: undefined,
    ...overrides,
  };
}

/** The version after `review` with one approval from `subject`. */
function approvedBy(review: Review, subject: string): Review {
  const reviewer = { subject, certificateThumbprint: `tp-${subject}`, roles: ['approver'] };
  const decision = { reviewer, verdict: 'approve' as const, reason: 'ok', atMs: 1.5 };
  return { ...review, version: review.version + 1, decisions: [...review.decisions, decision] };
}

test('creates the table and reads a review back exactly as stored', async (t) => {
  const db = await createAuditDatabase(t);
  const store = openStore(db);
  const review = makeReview('r-1');

  await store.create(review);

  assert.deepStrictEqual(await store.get('r-1'), review);
  const row = await db.admin.query('SELECT version, state, created_at_ms FROM infergate_reviews');
  assert.deepEqual(row.rows, [{ version: 1, state: 'pending', created_at_ms: '1700000000000' }]);
});

test('round-trips decisions, a used grant and an unused one', async (t) => {
  const db = await createAuditDatabase(t);
  const store = openStore(db);
  const first = makeReview('r-1', { request: { ...makeReview('r-1').request, model: 'llama' } });
  const approved = {
    ...approvedBy(approvedBy(first, 'alice'), 'bob'),
    state: 'approved' as const,
    grant: { expiresAtMs: 1_700_000_300_000, usedAtMs: undefined },
  };
  const used = {
    ...approved,
    version: 4,
    grant: { ...approved.grant, usedAtMs: 1_700_000_001_000 },
  };

  await store.create(first);
  assert.equal(await store.compareAndSet(1, { ...approved, version: 2 }), true);
  assert.deepStrictEqual(await store.get('r-1'), { ...approved, version: 2 });
  assert.equal(await store.compareAndSet(2, { ...used, version: 3 }), true);

  assert.deepStrictEqual(await store.get('r-1'), { ...used, version: 3 });
});

test('answers undefined for a review that does not exist', async (t) => {
  const db = await createAuditDatabase(t);
  const store = openStore(db);

  assert.equal(await store.get('missing'), undefined);
});

test('refuses a second review with the same id, naming it', async (t) => {
  const db = await createAuditDatabase(t);
  const store = openStore(db);
  await store.create(makeReview('r-dup'));

  await assert.rejects(
    store.create(makeReview('r-dup', { rule: 'other' })),
    hasCode('ERR_REVIEW_STORE_INVALID', /review r-dup already exists/),
  );
  assert.equal((await store.get('r-dup'))?.rule, 'large-export');
});

test('refuses to create a review whose version is not 1', async (t) => {
  const db = await createAuditDatabase(t);
  const store = openStore(db);

  await assert.rejects(
    store.create(makeReview('r-2', { version: 2 })),
    hasCode('ERR_REVIEW_STORE_INVALID', /review r-2 has version 2 where version 1/),
  );
});

test('lists pending reviews oldest first, up to the limit', async (t) => {
  const db = await createAuditDatabase(t);
  const store = openStore(db);
  for (const [id, createdAtMs] of [
    ['c', 30],
    ['a', 10],
    ['d', 40],
    ['b', 20],
  ] as const) {
    await store.create(makeReview(id, { createdAtMs }));
  }
  const b = (await store.get('b'))!;
  await store.compareAndSet(1, { ...b, version: 2, state: 'denied' });

  const all = await store.listPending(10);
  const two = await store.listPending(2);

  assert.deepEqual(
    all.map((r) => r.id),
    ['a', 'c', 'd'],
  );
  assert.deepEqual(
    two.map((r) => r.id),
    ['a', 'c'],
  );
  assert.deepStrictEqual(all[0], makeReview('a', { createdAtMs: 10 }));
  assert.deepEqual(await store.listPending(0), []);
});

test('compare-and-set replaces only the expected version', async (t) => {
  const db = await createAuditDatabase(t);
  const store = openStore(db);
  const review = makeReview('r-1');
  await store.create(review);
  const second = approvedBy(review, 'alice');

  assert.equal(await store.compareAndSet(1, second), true);
  assert.equal(await store.compareAndSet(1, approvedBy(review, 'bob')), false);
  assert.equal(await store.compareAndSet(1, makeReview('absent', { version: 2 })), false);

  assert.deepStrictEqual(await store.get('r-1'), second);
});

test('refuses a compare-and-set that skips a version', async (t) => {
  const db = await createAuditDatabase(t);
  const store = openStore(db);
  const review = makeReview('r-1');
  await store.create(review);

  await assert.rejects(
    store.compareAndSet(1, { ...approvedBy(review, 'alice'), version: 3 }),
    hasCode('ERR_REVIEW_STORE_INVALID', /version 3 where version 2/),
  );
  assert.equal((await store.get('r-1'))?.version, 1);
});

test('of two replicas deciding from the same version, exactly one wins', async (t) => {
  const db = await createAuditDatabase(t);
  const one = openStore(db);
  const two = openStore(db);
  await one.create(makeReview('r-race'));

  for (let version = 1; version <= 20; version += 1) {
    const current = (await two.get('r-race'))!;
    const [wonOne, wonTwo] = await Promise.all([
      one.compareAndSet(version, approvedBy(current, `one-${version}`)),
      two.compareAndSet(version, approvedBy(current, `two-${version}`)),
    ]);

    assert.equal(Number(wonOne) + Number(wonTwo), 1, `round ${version}`);
    const stored = (await one.get('r-race'))!;
    const winner = wonOne ? `one-${version}` : `two-${version}`;
    assert.equal(stored.version, version + 1);
    assert.equal(stored.decisions.at(-1)?.reviewer.subject, winner);
  }
  assert.equal((await two.get('r-race'))?.decisions.length, 20);
});

test('uses the table it is given and a pool it does not end', async (t) => {
  const db = await createAuditDatabase(t);
  const pool = new pg.Pool({ connectionString: db.url });
  db.defer(() => pool.end());
  const store = new PostgresReviewStore({ connectionString: db.url, table: 'team_reviews', pool });

  await store.create(makeReview('r-1'));
  await store.close();

  assert.equal(store.description, `PostgreSQL 127.0.0.1:5432/${db.name} table team_reviews`);
  const count = await pool.query<{ n: string }>('SELECT count(*) AS n FROM team_reviews');
  assert.equal(count.rows[0]!.n, '1');
});

test('ends the pool it made when closed', async (t) => {
  const db = await createAuditDatabase(t);
  const store = new PostgresReviewStore({ connectionString: db.url });
  await store.create(makeReview('r-1'));

  await store.close();

  await assert.rejects(store.get('r-1'), hasCode('ERR_REVIEW_STORE_UNAVAILABLE'));
});

test('refuses a table name that is not a lowercase identifier', () => {
  assert.throws(
    () => new PostgresReviewStore({ connectionString: 'postgres://x/y', table: 'x; DROP' }),
    hasCode('ERR_REVIEW_STORE_INVALID', /review table name "x; DROP"/),
  );
});

test('rejects an unreachable database without naming the password', async (t) => {
  const store = openStore(t, { connectionString: 'postgres://gw:s3cret-pw@127.0.0.1:1/reviews' });
  const calls = [
    () => store.create(makeReview('r-1')),
    () => store.get('r-1'),
    () => store.listPending(5),
    () => store.compareAndSet(1, makeReview('r-1', { version: 2 })),
  ];

  for (const call of calls) {
    await assert.rejects(call(), (err) => {
      hasCode('ERR_REVIEW_STORE_UNAVAILABLE', /127\.0\.0\.1:1\/reviews/)(err);
      assert.doesNotMatch((err as Error).message, /s3cret/);
      return true;
    });
  }
  assert.equal(store.description, 'PostgreSQL 127.0.0.1:1/reviews table infergate_reviews');
});

test('rejects a role that may not create the table as invalid', async (t) => {
  const db = await createAuditDatabase(t);
  const store = openStore(db, { connectionString: db.urlFor(await db.createRole()) });

  await assert.rejects(
    store.create(makeReview('r-1')),
    hasCode('ERR_REVIEW_STORE_INVALID', /cannot create review r-1/),
  );
});

test('refuses a database that does not make commits durable', async (t) => {
  const db = await createAuditDatabase(t);
  await db.admin.query(`ALTER DATABASE ${db.name} SET synchronous_commit = off`);
  const store = openStore(db);

  await assert.rejects(store.get('r-1'), hasCode('ERR_REVIEW_STORE_INVALID', /synchronous_commit/));
});

test('rejects a stored row that does not read as a review', async (t) => {
  const db = await createAuditDatabase(t);
  const store = openStore(db);
  await store.create(makeReview('r-1'));
  await store.create(makeReview('r-2'));
  await db.admin.query(
    `UPDATE infergate_reviews SET review = jsonb_set(review, '{requester,roles,1}', '7')
     WHERE id = 'r-1'`,
  );
  await db.admin.query(`UPDATE infergate_reviews SET version = 5 WHERE id = 'r-2'`);

  await assert.rejects(
    store.get('r-1'),
    hasCode(
      'ERR_REVIEW_STORE_INVALID',
      /review r-1 .* field requester\.roles\[1\] is not a string/,
    ),
  );
  await assert.rejects(
    store.get('r-2'),
    hasCode('ERR_REVIEW_STORE_INVALID', /stored as r-2 version 5 pending .* reads r-2 version 1/),
  );
});
