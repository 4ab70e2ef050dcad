// Reviews through a real admin listener over mTLS: listing, showing, approving and denying, the
// book's refusals as answers, and the audit events each decision yields.

import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { REVIEW_EVENT_KIND } from '../../src/audit/audit-events';
import { AdminListener } from '../../src/listeners/admin-listener';
import { ReviewEndpoint } from '../../src/listeners/admin-review-endpoint';
import { MemoryReviewStore } from '../../src/reviews/memory-review-store';
import { ReviewBook } from '../../src/reviews/review-book';
import { captureLogs } from '../fixtures/log-sink';
import { REVIEW_EPOCH_MS, startReviewAdmin } from '../fixtures/review-admin-fixture';
import { reviewInput, seededIds } from '../reviews/review-fixtures';

const REASON = { reason: 'ticket SEC-12 checked' };

test('lists pending reviews with their summary and progress, oldest first', async (t) => {
  const admin = await startReviewAdmin(t);
  await admin.open();
  admin.clock.ms += 1_000;
  await admin.open({ rule: { name: 'night', reviewers: ['security'], approvals: 2 } });
  const decided = await admin.open();
  await admin.book.decide(decided.id, {
    reviewer: { subject: 'dave', certificateThumbprint: 'thumb-dave', roles: ['security'] },
    verdict: 'deny',
    reason: 'no',
    atMs: admin.clock.ms,
  });

  const reply = await admin.send('bob', 'GET', '/reviews', {
    authorization: await admin.bearer('bob', []),
  });

  assert.equal(reply.status, 200);
  const reviews = reply.body.reviews as Record<string, unknown>[];
  assert.deepEqual(
    reviews.map((review) => [review.id, review.rule, review.approvalsRequired]),
    [
      ['review-1', 'bulk-tokens', 1],
      ['review-2', 'night', 2],
    ],
  );
  const { listener, operation, model, route, facts } = reviewInput().request;
  assert.deepEqual(reviews[0], {
    id: 'review-1',
    state: 'pending',
    rule: 'bulk-tokens',
    requester: 'carol',
    createdAt: new Date(REVIEW_EPOCH_MS).toISOString(),
    expiresAt: new Date(REVIEW_EPOCH_MS + 60_000).toISOString(),
    request: { listener, operation, model, route, facts },
    approvals: 0,
    approvalsRequired: 1,
  });
});

test('shows one review whole, with its masked prompt', async (t) => {
  const admin = await startReviewAdmin(t);
  const opened = await admin.open();

  const reply = await admin.send('bob', 'GET', `/reviews/${opened.id}`, {
    authorization: await admin.bearer('bob', []),
  });
  const missing = await admin.send('bob', 'GET', '/reviews/review-9', {
    authorization: await admin.bearer('bob', []),
  });

  assert.equal(reply.status, 200);
  const review = reply.body.review as Record<string, unknown>;
  assert.deepEqual(review.request, opened.request);
  assert.deepEqual(review.requester, opened.requester);
  assert.deepEqual(review.reviewerRoles, ['security']);
  assert.equal(review.requestDigest, opened.requestDigest);
  assert.deepEqual(review.decisions, []);
  assert.equal(missing.status, 404);
});

test('a reviewer approves; the grant starts and an APPROVED event is recorded', async (t) => {
  const admin = await startReviewAdmin(t);
  const opened = await admin.open();
  admin.clock.ms += 5_000;

  const reply = await admin.send('bob', 'POST', `/reviews/${opened.id}/approve`, {
    authorization: await admin.bearer('bob', ['security']),
    body: REASON,
  });

  assert.equal(reply.status, 200);
  const review = reply.body.review as Record<string, unknown>;
  assert.equal(review.state, 'approved');
  assert.equal(review.approvals, 1);
  assert.deepEqual(review.grant, {
    expiresAt: new Date(REVIEW_EPOCH_MS + 5_000 + 10_000).toISOString(),
  });
  assert.deepEqual(review.decisions, [
    {
      reviewer: 'bob',
      verdict: 'approve',
      reason: REASON.reason,
      at: new Date(REVIEW_EPOCH_MS + 5_000).toISOString(),
    },
  ]);
  assert.equal(admin.events.length, 1);
  const [event] = admin.events;
  assert.equal(event!.kind, REVIEW_EVENT_KIND.APPROVED);
  assert.equal(event!.reviewId, opened.id);
  assert.equal(event!.rule, 'bulk-tokens');
  assert.equal(event!.reason, REASON.reason);
  assert.equal(event!.actor?.tokenSubject, 'bob');
  assert.deepEqual(event!.actor?.roles, ['security']);
  assert.equal(event!.actor?.certificate?.thumbprint, admin.identity.clients.bob.peer.thumbprint);
});

test('a reviewer denies; the review is denied and a DENIED event is recorded', async (t) => {
  const admin = await startReviewAdmin(t);
  const opened = await admin.open();

  const reply = await admin.send('bob', 'POST', `/reviews/${opened.id}/deny`, {
    authorization: await admin.bearer('bob', ['security']),
    body: { reason: 'not on the ticket' },
  });
  const again = await admin.send('alice', 'POST', `/reviews/${opened.id}/approve`, {
    authorization: await admin.bearer('alice', ['security']),
    body: REASON,
  });

  assert.equal(reply.status, 200);
  assert.equal((reply.body.review as Record<string, unknown>).state, 'denied');
  assert.equal(again.status, 409);
  assert.equal((again.body.error as Record<string, unknown>).type, 'not_pending');
  assert.deepEqual(
    admin.events.map((event) => [event.kind, event.reason]),
    [[REVIEW_EVENT_KIND.DENIED, 'not on the ticket']],
  );
});

test('two approvals needed: the first leaves it pending, a second person approves', async (t) => {
  const admin = await startReviewAdmin(t);
  const opened = await admin.open({
    rule: { name: 'bulk', reviewers: ['security'], approvals: 2 },
  });
  const approve = async (client: 'alice' | 'bob') =>
    admin.send(client, 'POST', `/reviews/${opened.id}/approve`, {
      authorization: await admin.bearer(client, ['security']),
      body: REASON,
    });

  const first = await approve('bob');
  const twice = await approve('bob');
  const second = await approve('alice');

  const state = (reply: { body: Record<string, unknown> }) =>
    (reply.body.review as Record<string, unknown>).state;
  assert.equal(first.status, 200);
  assert.equal(state(first), 'pending');
  assert.equal((first.body.review as Record<string, unknown>).approvals, 1);
  assert.equal(twice.status, 409);
  assert.equal((twice.body.error as Record<string, unknown>).type, 'already_decided');
  assert.equal(second.status, 200);
  assert.equal(state(second), 'approved');
  assert.deepEqual(
    admin.events.map((event) => [event.kind, event.actor?.tokenSubject]),
    [
      [REVIEW_EVENT_KIND.APPROVED, 'bob'],
      [REVIEW_EVENT_KIND.APPROVED, 'alice'],
    ],
  );
});

test('refuses self-approval and a caller without a reviewer role with 403', async (t) => {
  const admin = await startReviewAdmin(t);
  const own = await admin.open({}, admin.requesterOf('alice'));

  const self = await admin.send('alice', 'POST', `/reviews/${own.id}/approve`, {
    authorization: await admin.bearer('alice', ['security']),
    body: REASON,
  });
  const noRole = await admin.send('bob', 'POST', `/reviews/${own.id}/approve`, {
    authorization: await admin.bearer('bob', ['reader']),
    body: REASON,
  });

  assert.equal(self.status, 403);
  assert.deepEqual(self.body.error, {
    type: 'self_review',
    message: `the requester cannot decide on their own request: ${own.id}`,
  });
  assert.equal(noRole.status, 403);
  assert.equal((noRole.body.error as Record<string, unknown>).type, 'not_a_reviewer');
  assert.deepEqual(admin.events, []);
});

test('refuses a decision on an expired review with 409, and lists it as expired', async (t) => {
  const admin = await startReviewAdmin(t);
  const opened = await admin.open();
  admin.clock.ms += 60_000;
  const authorization = await admin.bearer('bob', ['security']);

  const reply = await admin.send('bob', 'POST', `/reviews/${opened.id}/approve`, {
    authorization,
    body: REASON,
  });
  const list = await admin.send('bob', 'GET', '/reviews', { authorization });

  assert.equal(reply.status, 409);
  assert.equal((reply.body.error as Record<string, unknown>).type, 'expired');
  const [listed] = list.body.reviews as Record<string, unknown>[];
  assert.equal(listed!.state, 'expired');
  assert.deepEqual(admin.events, []);
});

test('answers 401 without a token, a token bound elsewhere, or a certificate', async (t) => {
  const admin = await startReviewAdmin(t);
  const opened = await admin.open();
  const bobsToken = await admin.bearer('bob', ['security']);

  const noToken = await admin.send('bob', 'GET', '/reviews');
  const otherCertificate = await admin.send('alice', 'POST', `/reviews/${opened.id}/approve`, {
    authorization: bobsToken,
    body: REASON,
  });
  const noCertificate = await admin.send(undefined, 'GET', `/reviews/${opened.id}`, {
    authorization: bobsToken,
  });

  assert.equal(noToken.status, 401);
  assert.equal(noToken.headers['www-authenticate'], 'Bearer realm="infergate"');
  assert.equal(otherCertificate.status, 401);
  assert.equal(noCertificate.status, 401);
  assert.equal((await admin.book.waitForDecision(opened.id, 0))?.state, 'pending');
  assert.deepEqual(admin.events, []);
});

test('refuses a bad reason with 400 and a wrong method with 405', async (t) => {
  const admin = await startReviewAdmin(t);
  const opened = await admin.open();
  const authorization = await admin.bearer('bob', ['security']);
  const path = `/reviews/${opened.id}/approve`;

  const empty = await admin.send('bob', 'POST', path, { authorization, body: { reason: '' } });
  const long = await admin.send('bob', 'POST', path, {
    authorization,
    body: { reason: 'x'.repeat(501) },
  });
  const extra = await admin.send('bob', 'POST', path, {
    authorization,
    body: { ...REASON, verdict: 'deny' },
  });
  const getDecision = await admin.send('bob', 'GET', path, { authorization });
  const postList = await admin.send('bob', 'POST', '/reviews', { authorization, body: REASON });

  assert.deepEqual([empty.status, long.status, extra.status], [400, 400, 400]);
  assert.equal(getDecision.status, 405);
  assert.equal(getDecision.headers.allow, 'POST');
  assert.equal(postList.status, 405);
  assert.equal(postList.headers.allow, 'GET, HEAD');
  assert.deepEqual(admin.events, []);
});

/** The status of one cleartext request to `port`. */
function statusOf(port: number, method: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      { host: '127.0.0.1', port, method, path, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

test('answers 404 without the endpoint, or when no token is checked', async (t) => {
  const logger = captureLogs().logger;
  const store = new MemoryReviewStore();
  const book = new ReviewBook(store, { generateId: seededIds() });
  await book.open(reviewInput());
  const unchecked = new ReviewEndpoint({
    book,
    store,
    verifier: undefined,
    certificateRoles: () => [],
    logger,
  });
  const ports: number[] = [];
  for (const reviews of [undefined, unchecked]) {
    const listener = new AdminListener({
      host: '127.0.0.1',
      port: 0,
      readiness: () => ({ status: 'ready' }),
      logger,
      reviews,
    });
    ports.push((await listener.listen()).port);
    t.after(() => listener.close());
  }

  const statuses = [];
  for (const port of ports) {
    statuses.push(await statusOf(port, 'GET', '/reviews'));
    statuses.push(await statusOf(port, 'POST', '/reviews/review-1/approve'));
  }

  assert.equal(unchecked.enabled, false);
  assert.deepEqual(statuses, [404, 404, 404, 404]);
  assert.equal((await store.get('review-1'))?.state, 'pending');
});
