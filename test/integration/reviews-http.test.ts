// Just-in-time review over HTTP through real TLS: a held request, its approval, the retry that
// uses the grant once, a wait that ends in approval or denial, and the frames they leave.

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { Agent, request } from 'undici';
import { DECISION_OUTCOME, REVIEW_EVENT_KIND } from '../../src/audit/audit-events';
import { startDemoHttpServer } from '../../src/demo/demo-http-server';
import { createIdGenerator } from '../../src/pipeline/exchange';
import type { ReviewBook } from '../../src/reviews/review-book';
import type { Reviewer } from '../../src/reviews/review-store';
import type { CapturedLogger } from '../fixtures/log-sink';
import { createAuditDatabase } from '../audit/postgres-fixtures';
import { auditSection, framesOf, readFrames } from '../fixtures/audit-fixture';
import { runCli } from '../fixtures/cli-run';
import { startTestGateway } from '../fixtures/gateway-fixture';
import { splitAddress } from '../fixtures/http-client';
import { MANY_TOKENS_RULE } from '../reviews/review-fixtures';
import { REVIEW_ID_HEADER } from '../../src/filters/review/review-filter';
import { makeTestIdentity, TEST_ROLES, type TestIdentity } from '../fixtures/identity-fixture';
import { startWebhookServer } from '../fixtures/webhook-server';

const RULE = MANY_TOKENS_RULE;

interface Reply {
  readonly status: number;
  readonly reviewId: string | undefined;
  readonly code: string | undefined;
  readonly message: string | undefined;
}

interface ReviewGateway {
  readonly book: ReviewBook;
  readonly identity: TestIdentity;
  readonly chat: (maxTokens: number, reviewId?: string, signal?: AbortSignal) => Promise<Reply>;
  readonly logs: CapturedLogger;
  readonly bob: Reviewer;
  /** `host:port` of the admin listener. */
  readonly admin: string;
  readonly close: () => Promise<void>;
}

async function startReviewGateway(
  t: TestContext,
  waitMs: number,
  audit?: Record<string, unknown>,
  store: Record<string, unknown> = {},
): Promise<ReviewGateway> {
  const identity = makeTestIdentity(t);
  const demo = await startDemoHttpServer({ tokenDelayMs: 0 });
  t.after(() => demo.close());
  const reviewer = { models: ['*'], operations: ['metadata'] };
  const { gateway, logs } = await startTestGateway(
    t,
    {
      upstreams: [{ name: 'demo-http', address: `http://${demo.address}` }],
      ...identity.sections(),
      roles: { ...TEST_ROLES, reviewer },
      reviews: { waitMs, rules: [RULE], ...store },
      ...(audit === undefined ? {} : { audit }),
    },
    {},
    { nextReviewId: createIdGenerator('review') },
  );
  const [, port] = splitAddress(gateway.addresses.http);
  const alice = identity.clients.alice;
  const agent = new Agent({ connect: { ca: identity.caPem, cert: alice.cert, key: alice.key } });
  t.after(() => agent.close());
  const token = `Bearer ${await identity.token('alice', ['chat'])}`;
  const chat = async (
    maxTokens: number,
    reviewId?: string,
    signal?: AbortSignal,
  ): Promise<Reply> => {
    const response = await request(`https://localhost:${port}/v1/chat/completions`, {
      dispatcher: agent,
      signal,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: token,
        ...(reviewId === undefined ? {} : { [REVIEW_ID_HEADER]: reviewId }),
      },
      body: JSON.stringify({
        model: 'echo',
        messages: [{ role: 'user', content: 'list every account' }],
        max_tokens: maxTokens,
      }),
    });
    const body = (await response.body.json()) as { error?: { code?: string; message?: string } };
    const header = response.headers[REVIEW_ID_HEADER];
    return {
      status: response.statusCode,
      reviewId: typeof header === 'string' ? header : undefined,
      code: body.error?.code,
      message: body.error?.message,
    };
  };
  const bob = {
    subject: 'bob',
    certificateThumbprint: identity.clients.bob.peer.thumbprint,
    roles: ['reviewer'],
  };
  const admin = `localhost:${splitAddress(gateway.addresses.admin)[1]}`;
  const close = () => gateway.close();
  return { book: gateway.reviews!, identity, chat, logs, bob, admin, close };
}

function verdict(reviewer: Reviewer, value: 'approve' | 'deny') {
  return { reviewer, verdict: value, reason: 'checked with the requester', atMs: Date.now() };
}

/** Decides once the review exists: the held request opens it while this runs. */
async function decideWhenOpen(
  book: ReviewBook,
  id: string,
  reviewer: Reviewer,
  value: 'approve' | 'deny',
) {
  for (let turn = 0; turn < 100_000; turn += 1) {
    const outcome = await book.decide(id, verdict(reviewer, value));
    if (outcome.ok || outcome.reason !== 'not_found') return outcome;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`review ${id} was never opened`);
}

test('a held request is refused with its review id; the approved retry passes once', async (t) => {
  const audit = auditSection(t);
  const gateway = await startReviewGateway(t, 0, audit.section);
  const alice = gateway.identity.clients.alice;

  const small = await gateway.chat(20);
  const held = await gateway.chat(80);
  const selfApproval = await gateway.book.decide(
    'review-1',
    verdict(
      { subject: 'alice', certificateThumbprint: alice.peer.thumbprint, roles: ['reviewer'] },
      'approve',
    ),
  );
  const approval = await gateway.book.decide('review-1', verdict(gateway.bob, 'approve'));
  const retry = await gateway.chat(80, 'review-1');
  const again = await gateway.chat(80, 'review-1');
  const other = await gateway.chat(90, 'review-1');
  await gateway.close();
  const frames = await readFrames(audit.dir);

  assert.equal(small.status, 200);
  assert.deepEqual([held.status, held.reviewId, held.code], [403, 'review-1', 'review_required']);
  assert.match(held.message ?? '', /review-1/);
  assert.deepEqual(selfApproval, { ok: false, reason: 'self_review' });
  assert.equal(approval.ok, true);
  assert.equal(retry.status, 200);
  assert.deepEqual([again.status, again.code], [403, 'grant_used']);
  assert.deepEqual([other.status, other.code], [403, 'other_request']);
  const reviews = framesOf(frames, 'review');
  assert.deepEqual(
    reviews.map((r) => [r.kind, r.reviewId, r.rule, r.actor?.tokenSubject]),
    [
      [REVIEW_EVENT_KIND.CREATED, 'review-1', 'many-tokens', 'alice'],
      [REVIEW_EVENT_KIND.GRANT_USED, 'review-1', 'many-tokens', 'alice'],
    ],
  );
  const decisions = framesOf(frames, 'decision');
  assert.deepEqual(
    decisions.map((d) => [d.outcome, d.detail ?? d.role, d.reviewId ?? '']),
    [
      [DECISION_OUTCOME.ALLOWED, 'chat', ''],
      [DECISION_OUTCOME.REVIEW_REQUIRED, 'review_required', 'review-1'],
      [DECISION_OUTCOME.ALLOWED, 'chat', 'review-1'],
      [DECISION_OUTCOME.DENIED, 'grant_used', 'review-1'],
      [DECISION_OUTCOME.DENIED, 'other_request', 'review-1'],
    ],
  );
});

test('a reviewer approves through the admin listener with infergate reviews', async (t) => {
  const audit = auditSection(t);
  const gateway = await startReviewGateway(t, 0, audit.section);
  const bob = gateway.identity.clients.bob;
  const reviewerToken = await gateway.identity.token('bob', ['reviewer']);
  const as = (...args: string[]) =>
    runCli(
      'reviews',
      ...args,
      '--admin',
      gateway.admin,
      '--ca',
      gateway.identity.caFile,
      '--cert',
      bob.certFile,
      '--key',
      bob.keyFile,
      '--token',
      reviewerToken,
    );

  const held = await gateway.chat(80);
  const listed = await as('list');
  const approved = await as('approve', 'review-1', '--reason', 'ticket 4711');
  const retry = await gateway.chat(80, 'review-1');
  await gateway.close();
  const reviews = framesOf(await readFrames(audit.dir), 'review');

  assert.equal(held.status, 403);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /review-1/);
  assert.equal(approved.code, 0, approved.stderr);
  assert.equal(retry.status, 200);
  assert.deepEqual(
    reviews.map((r) => [r.kind, r.actor?.tokenSubject, r.reason ?? '']),
    [
      [REVIEW_EVENT_KIND.CREATED, 'alice', ''],
      [REVIEW_EVENT_KIND.APPROVED, 'bob', 'ticket 4711'],
      [REVIEW_EVENT_KIND.GRANT_USED, 'alice', ''],
    ],
  );
});

test('a grant is for its requester only', async (t) => {
  const gateway = await startReviewGateway(t, 0);

  await gateway.chat(80);
  // Without the reviewer role bob may not decide; with it, his approval is for alice alone.
  const stranger = await gateway.book.decide(
    'review-1',
    verdict({ ...gateway.bob, roles: ['chat'] }, 'approve'),
  );
  await gateway.book.decide('review-1', verdict(gateway.bob, 'approve'));
  const mallory = { subject: 'mallory', certificateThumbprint: 'other', roles: ['chat'] };
  const outcome = await gateway.book.useGrant('review-1', mallory, 'any');
  const retry = await gateway.chat(80, 'review-1');

  assert.deepEqual(stranger, { ok: false, reason: 'not_a_reviewer' });
  assert.deepEqual(outcome, { ok: false, reason: 'other_requester' });
  assert.equal(retry.status, 200);
});

test('a request that waits proceeds once it is approved', async (t) => {
  const gateway = await startReviewGateway(t, 60_000);

  const pending = gateway.chat(80);
  const approval = await decideWhenOpen(gateway.book, 'review-1', gateway.bob, 'approve');
  const reply = await pending;
  const retry = await gateway.chat(80, 'review-1');

  assert.equal(approval.ok, true);
  assert.equal(reply.status, 200);
  // The waiting request used the grant: nothing is left for a retry.
  assert.deepEqual([retry.status, retry.code], [403, 'grant_used']);
});

test('a request that waits is refused when it is denied', async (t) => {
  const gateway = await startReviewGateway(t, 60_000);

  const pending = gateway.chat(80);
  const denial = await decideWhenOpen(gateway.book, 'review-1', gateway.bob, 'deny');
  const reply = await pending;
  const retry = await gateway.chat(80, 'review-1');

  assert.equal(denial.ok, true);
  assert.deepEqual([reply.status, reply.reviewId, reply.code], [403, 'review-1', 'review_denied']);
  assert.deepEqual([retry.status, retry.code], [403, 'no_grant']);
});

test('a client that goes away ends its wait, and its approved retry still passes', async (t) => {
  const gateway = await startReviewGateway(t, 60_000);
  const leaving = new AbortController();

  const pending = gateway.chat(80, undefined, leaving.signal);
  await opened(gateway.book, 'review-1');
  leaving.abort();
  const gone = await pending.then(
    () => 'answered',
    () => 'aborted',
  );
  await gateway.logs.waitFor((line) => line.msg === 'access');
  const approval = await gateway.book.decide('review-1', verdict(gateway.bob, 'approve'));
  const retry = await gateway.chat(80, 'review-1');

  assert.equal(gone, 'aborted');
  assert.equal(approval.ok, true);
  assert.equal(retry.status, 200);
});

/** Resolves once the held request has opened review `id`. */
async function opened(book: ReviewBook, id: string): Promise<void> {
  for (let turn = 0; turn < 100_000; turn += 1) {
    if ((await book.waitForDecision(id, 0)) !== undefined) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`review ${id} was never opened`);
}

test('reviews kept in PostgreSQL are held, approved and redeemed the same way', async (t) => {
  const db = await createAuditDatabase(t);
  const postgres = { connectionString: db.url, table: 'gateway_reviews' };
  const gateway = await startReviewGateway(t, 0, undefined, { postgres });

  const held = await gateway.chat(80);
  const approval = await gateway.book.decide('review-1', verdict(gateway.bob, 'approve'));
  const retry = await gateway.chat(80, 'review-1');
  await gateway.close();
  const rows = await db.admin.query<{ id: string; state: string }>(
    'SELECT id, state FROM gateway_reviews',
  );

  assert.deepEqual([held.status, held.code], [403, 'review_required']);
  assert.equal(approval.ok, true);
  assert.equal(retry.status, 200);
  assert.deepEqual(rows.rows, [{ id: 'review-1', state: 'approved' }]);
});

// A notice never delivered would leave the log waits hanging; the timeout makes that a failure.
test(
  'a webhook hears of a held request and its approval; the trail records both',
  { timeout: 30_000 },
  async (t) => {
    const audit = auditSection(t);
    const webhook = await startWebhookServer(t);
    const headers = { authorization: 'Bearer hook-token' };
    const gateway = await startReviewGateway(t, 0, audit.section, {
      webhook: { url: webhook.url, headers },
    });
    const delivered = (event: string) =>
      gateway.logs.waitFor(
        (line) => line.msg === 'review notice delivered' && line.event === event,
      );

    const held = await gateway.chat(80);
    await delivered('created');
    const approval = await approveOverAdmin(t, gateway, 'review-1');
    await delivered('approved');
    await gateway.close();
    const reviews = framesOf(await readFrames(audit.dir), 'review');

    assert.equal(held.status, 403);
    assert.equal(approval, 200);
    const bodies = webhook.deliveries.map((d) => d.body as WebhookNotice);
    assert.deepEqual(
      bodies.map(({ event, review }) => [event, review.id, review.state, review.approvals]),
      [
        ['created', 'review-1', 'pending', 0],
        ['approved', 'review-1', 'approved', 1],
      ],
    );
    assert.deepEqual(
      webhook.deliveries.map((d) => d.headers.authorization),
      ['Bearer hook-token', 'Bearer hook-token'],
    );
    assert.deepEqual(
      reviews.map((r) => [r.kind, r.reason ?? '']),
      [
        [REVIEW_EVENT_KIND.CREATED, ''],
        [REVIEW_EVENT_KIND.NOTIFIED, 'created'],
        [REVIEW_EVENT_KIND.APPROVED, 'checked'],
        [REVIEW_EVENT_KIND.NOTIFIED, 'approved'],
      ],
    );
  },
);

/** The part of a webhook body the test checks. */
interface WebhookNotice {
  readonly event: string;
  readonly review: { readonly id: string; readonly state: string; readonly approvals: number };
}

/** Bob approves review `id` through the admin listener; resolves with the status. */
async function approveOverAdmin(
  t: TestContext,
  gateway: ReviewGateway,
  id: string,
): Promise<number> {
  const bob = gateway.identity.clients.bob;
  const agent = new Agent({
    connect: { ca: gateway.identity.caPem, cert: bob.cert, key: bob.key },
  });
  t.after(() => agent.close());
  const token = await gateway.identity.token('bob', ['reviewer']);
  const response = await request(`https://${gateway.admin}/reviews/${id}/approve`, {
    dispatcher: agent,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ reason: 'checked' }),
  });
  await response.body.dump();
  return response.statusCode;
}
