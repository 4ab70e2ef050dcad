// Two gateways sharing one PostgreSQL review table: a request held on one is approved through the
// other, its retry passes on either, and the grant is used once across both.

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { Agent, request } from 'undici';
import { startDemoHttpServer } from '../../src/demo/demo-http-server';
import type { Gateway } from '../../src/gateway';
import { createIdGenerator } from '../../src/pipeline/exchange';
import { createAuditDatabase } from '../audit/postgres-fixtures';
import { startTestGateway } from '../fixtures/gateway-fixture';
import { splitAddress } from '../fixtures/http-client';
import { MANY_TOKENS_RULE } from '../reviews/review-fixtures';
import { REVIEW_ID_HEADER } from '../../src/filters/review/review-filter';
import { makeTestIdentity, TEST_ROLES, type TestIdentity } from '../fixtures/identity-fixture';

const RULE = MANY_TOKENS_RULE;

interface Reply {
  readonly status: number;
  readonly reviewId: string | undefined;
  readonly code: string | undefined;
}

/** What both replicas share: the identity, the upstream and the review table. */
interface Cluster {
  readonly identity: TestIdentity;
  readonly document: Record<string, unknown>;
  readonly rows: () => Promise<{ id: string; state: string }[]>;
  /** Runs `close` before the database is dropped, so no replica sees its connections cut. */
  readonly defer: (close: () => Promise<unknown>) => void;
}

async function makeCluster(t: TestContext): Promise<Cluster> {
  const db = await createAuditDatabase(t);
  const identity = makeTestIdentity(t);
  const demo = await startDemoHttpServer({ tokenDelayMs: 0 });
  t.after(() => demo.close());
  const table = 'shared_reviews';
  const reviewer = { models: ['*'], operations: ['metadata'] };
  const document = {
    upstreams: [{ name: 'demo-http', address: `http://${demo.address}` }],
    ...identity.sections(),
    roles: { ...TEST_ROLES, reviewer },
    reviews: { waitMs: 0, rules: [RULE], postgres: { connectionString: db.url, table } },
  };
  const rows = async () =>
    (await db.admin.query<{ id: string; state: string }>(`SELECT id, state FROM ${table}`)).rows;
  return { identity, document, rows, defer: (close) => db.defer(close) };
}

/** Starts one replica; its review ids start with `name`, so the two never collide. */
async function startReplica(t: TestContext, cluster: Cluster, name: string): Promise<Gateway> {
  const { gateway } = await startTestGateway(
    t,
    cluster.document,
    {},
    { nextReviewId: createIdGenerator(name) },
  );
  cluster.defer(() => gateway.close());
  return gateway;
}

/** An mTLS agent for test client `name`, closed after the test. */
function agentOf(t: TestContext, identity: TestIdentity, name: 'alice' | 'bob'): Agent {
  const { cert, key } = identity.clients[name];
  const agent = new Agent({ connect: { ca: identity.caPem, cert, key } });
  t.after(() => agent.close());
  return agent;
}

/** Alice's chat asking for `maxTokens` on `gateway`, naming `reviewId` when given. */
async function chat(
  t: TestContext,
  cluster: Cluster,
  gateway: Gateway,
  maxTokens: number,
  reviewId?: string,
): Promise<Reply> {
  const [, port] = splitAddress(gateway.addresses.http);
  const token = await cluster.identity.token('alice', ['chat']);
  const response = await request(`https://localhost:${port}/v1/chat/completions`, {
    dispatcher: agentOf(t, cluster.identity, 'alice'),
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
      ...(reviewId === undefined ? {} : { [REVIEW_ID_HEADER]: reviewId }),
    },
    body: JSON.stringify({
      model: 'echo',
      messages: [{ role: 'user', content: 'list every account' }],
      max_tokens: maxTokens,
    }),
  });
  const body = (await response.body.json()) as { error?: { code?: string } };
  const header = response.headers[REVIEW_ID_HEADER];
  const named = typeof header === 'string' ? header : undefined;
  return { status: response.statusCode, reviewId: named, code: body.error?.code };
}

/** Bob approves review `id` through `gateway`'s admin listener; resolves with the status. */
async function approveOn(
  t: TestContext,
  cluster: Cluster,
  gateway: Gateway,
  id: string,
): Promise<number> {
  const [, port] = splitAddress(gateway.addresses.admin);
  const token = await cluster.identity.token('bob', ['reviewer']);
  const response = await request(`https://localhost:${port}/reviews/${id}/approve`, {
    dispatcher: agentOf(t, cluster.identity, 'bob'),
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ reason: 'checked with the requester' }),
  });
  await response.body.dump();
  return response.statusCode;
}

test('a request held on one replica is approved and redeemed on the other, once', async (t) => {
  const cluster = await makeCluster(t);
  const a = await startReplica(t, cluster, 'replica-a');
  const b = await startReplica(t, cluster, 'replica-b');

  const held = await chat(t, cluster, a, 80);
  const approval = await approveOn(t, cluster, b, 'replica-a-1');
  const retry = await chat(t, cluster, b, 80, 'replica-a-1');
  const again = await chat(t, cluster, a, 80, 'replica-a-1');
  const rows = await cluster.rows();

  assert.deepEqual(
    [held.status, held.reviewId, held.code],
    [403, 'replica-a-1', 'review_required'],
  );
  assert.equal(approval, 200);
  assert.equal(retry.status, 200);
  assert.deepEqual([again.status, again.code], [403, 'grant_used']);
  assert.deepEqual(rows, [{ id: 'replica-a-1', state: 'approved' }]);
});

test("an approval through the other replica's book is redeemed once", async (t) => {
  const cluster = await makeCluster(t);
  const a = await startReplica(t, cluster, 'replica-a');
  const b = await startReplica(t, cluster, 'replica-b');
  const bob = {
    subject: 'bob',
    certificateThumbprint: cluster.identity.clients.bob.peer.thumbprint,
    roles: ['reviewer'],
  };

  const held = await chat(t, cluster, b, 80);
  const decision = { reviewer: bob, verdict: 'approve' as const, reason: 'ok', atMs: Date.now() };
  const approval = await a.reviews!.decide('replica-b-1', decision);
  const retry = await chat(t, cluster, b, 80, 'replica-b-1');
  const again = await chat(t, cluster, a, 80, 'replica-b-1');

  assert.deepEqual([held.status, held.reviewId], [403, 'replica-b-1']);
  assert.equal(approval.ok, true);
  assert.equal(retry.status, 200);
  assert.deepEqual([again.status, again.code], [403, 'grant_used']);
});
