// Just-in-time review over HTTP through real TLS: a held request, its approval, the retry that
// uses the grant once, a wait that ends in approval or denial, and the frames they leave.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DECISION_OUTCOME, REVIEW_EVENT_KIND } from '../../src/audit/audit-events';
import { createAuditDatabase } from '../audit/postgres-fixtures';
import { auditSection, ControlledStore, framesOf, readFrames } from '../fixtures/audit-fixture';
import { runCli } from '../fixtures/cli-run';
import {
  approveOverAdmin,
  decideWhenOpen,
  opened,
  startReviewGateway,
  verdict,
  type ReviewGateway,
} from '../fixtures/review-gateway';
import { startWebhookServer } from '../fixtures/webhook-server';
import { MANY_TOKENS_RULE } from '../reviews/review-fixtures';

test('a held request is refused with its review id; the approved retry passes once', async (t) => {
  const audit = auditSection(t);
  const gateway = await startReviewGateway(t, { audit: audit.section });
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
  const retry = await gateway.chat(80, { reviewId: 'review-1' });
  const again = await gateway.chat(80, { reviewId: 'review-1' });
  const other = await gateway.chat(90, { reviewId: 'review-1' });
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
  const gateway = await startReviewGateway(t, { audit: audit.section });
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
  const retry = await gateway.chat(80, { reviewId: 'review-1' });
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

test('a grant is for its requester only, and needs every approval its rule asks for', async (t) => {
  const rule = { ...MANY_TOKENS_RULE, approvals: 2 };
  const gateway = await startReviewGateway(t, { reviews: { rules: [rule] } });
  const carol = { subject: 'carol', certificateThumbprint: 'thumb-carol', roles: ['reviewer'] };

  await gateway.chat(80);
  // Without the reviewer role bob may not decide; with it, his approval is one of two.
  const stranger = await gateway.book.decide(
    'review-1',
    verdict({ ...gateway.bob, roles: ['chat'] }, 'approve'),
  );
  const first = await approveOverAdmin(t, gateway, 'review-1');
  const early = await gateway.chat(80, { reviewId: 'review-1' });
  const second = await gateway.book.decide('review-1', verdict(carol, 'approve'));
  const byBob = await gateway.chat(80, { reviewId: 'review-1', as: 'bob' });
  const retry = await gateway.chat(80, { reviewId: 'review-1' });

  assert.deepEqual(stranger, { ok: false, reason: 'not_a_reviewer' });
  assert.equal(first.status, 200);
  assert.deepEqual([early.status, early.code], [403, 'no_grant']);
  assert.equal(second.ok, true);
  assert.deepEqual([byBob.status, byBob.code], [403, 'other_requester']);
  assert.equal(retry.status, 200);
});

test('a request that waits proceeds once it is approved', async (t) => {
  const gateway = await startReviewGateway(t, { waitMs: 60_000 });

  const pending = gateway.chat(80);
  const approval = await decideWhenOpen(gateway.book, 'review-1', gateway.bob, 'approve');
  const reply = await pending;
  const retry = await gateway.chat(80, { reviewId: 'review-1' });

  assert.equal(approval.ok, true);
  assert.equal(reply.status, 200);
  // The waiting request used the grant: nothing is left for a retry.
  assert.deepEqual([retry.status, retry.code], [403, 'grant_used']);
});

test('a request that waits is refused when it is denied', async (t) => {
  const gateway = await startReviewGateway(t, { waitMs: 60_000 });

  const pending = gateway.chat(80);
  const denial = await decideWhenOpen(gateway.book, 'review-1', gateway.bob, 'deny');
  const reply = await pending;
  const retry = await gateway.chat(80, { reviewId: 'review-1' });

  assert.equal(denial.ok, true);
  assert.deepEqual([reply.status, reply.reviewId, reply.code], [403, 'review-1', 'review_denied']);
  assert.deepEqual([retry.status, retry.code], [403, 'no_grant']);
});

test('a client that goes away ends its wait, and its approved retry still passes', async (t) => {
  const gateway = await startReviewGateway(t, { waitMs: 60_000 });
  const leaving = new AbortController();

  const pending = gateway.chat(80, { signal: leaving.signal });
  await opened(gateway.book, 'review-1');
  leaving.abort();
  const gone = await pending.then(
    () => 'answered',
    () => 'aborted',
  );
  await gateway.logs.waitFor((line) => line.msg === 'access');
  const approval = await gateway.book.decide('review-1', verdict(gateway.bob, 'approve'));
  const retry = await gateway.chat(80, { reviewId: 'review-1' });

  assert.equal(gone, 'aborted');
  assert.equal(approval.ok, true);
  assert.equal(retry.status, 200);
});

test('reviews kept in PostgreSQL are held, approved and redeemed the same way', async (t) => {
  const db = await createAuditDatabase(t);
  const postgres = { connectionString: db.url, table: 'gateway_reviews' };
  const gateway = await startReviewGateway(t, { reviews: { postgres } });

  const held = await gateway.chat(80);
  const approval = await gateway.book.decide('review-1', verdict(gateway.bob, 'approve'));
  const retry = await gateway.chat(80, { reviewId: 'review-1' });
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
    const gateway = await startReviewGateway(t, {
      audit: audit.section,
      reviews: { webhook: { url: webhook.url, headers } },
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
    assert.equal(approval.status, 200);
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

test('no decision is made while the audit log cannot record it', async (t) => {
  const audit = auditSection(t);
  const store = new ControlledStore(audit.dir);
  const gateway = await startReviewGateway(t, { audit: audit.section, auditStore: store });
  await gateway.chat(80);
  await gateway.chat(80);
  store.failing = 'all';

  const unrecorded = await approveOverAdmin(t, gateway, 'review-1');
  const undecided = await approveOverAdmin(t, gateway, 'review-2');
  const [first, second] = await Promise.all(['review-1', 'review-2'].map(stateOf(gateway)));
  store.failing = undefined;
  await gateway.logs.waitFor((line) => line.msg === 'audit log writable again');
  const decided = await approveOverAdmin(t, gateway, 'review-2');
  await gateway.close();
  const reviews = framesOf(await readFrames(audit.dir), 'review');

  // The first decision was stored before its frame failed: the reviewer is told, the frame kept.
  assert.deepEqual(unrecorded, { status: 503, type: 'audit_unavailable' });
  assert.deepEqual(undecided, { status: 503, type: 'audit_unavailable' });
  assert.deepEqual([first, second], ['approved', 'pending']);
  assert.equal(decided.status, 200);
  assert.deepEqual(
    reviews.map((r) => [r.kind, r.reviewId]),
    [
      [REVIEW_EVENT_KIND.CREATED, 'review-1'],
      [REVIEW_EVENT_KIND.CREATED, 'review-2'],
      [REVIEW_EVENT_KIND.APPROVED, 'review-1'],
      [REVIEW_EVENT_KIND.APPROVED, 'review-2'],
    ],
  );
});

/** Reads a review's state from the gateway's book. */
function stateOf(gateway: ReviewGateway) {
  return async (id: string) => (await gateway.book.waitForDecision(id, 0))?.state;
}

/** The part of a webhook body the test checks. */
interface WebhookNotice {
  readonly event: string;
  readonly review: { readonly id: string; readonly state: string; readonly approvals: number };
}
