// Review transitions: who may decide, how many must approve, expiry, and the single-use grant.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decide,
  expire,
  newReview,
  requestDigest,
  useGrant,
  type ReviewTransition,
} from '../../src/reviews/review-decisions';
import type { Review } from '../../src/reviews/review-store';
import { requester, reviewer, reviewInput, seededIds, verdict } from './review-fixtures';

function okReview<R extends string>(outcome: ReviewTransition<R>): Review {
  assert.ok(outcome.ok, `refused: ${outcome.ok ? '' : outcome.reason}`);
  return outcome.review;
}

function refusal<R extends string>(outcome: ReviewTransition<R>): R {
  assert.equal(outcome.ok, false);
  return (outcome as { reason: R }).reason;
}

function approved(approvals = 1): Review {
  const review = newReview(reviewInput(approvals), seededIds());
  return okReview(decide(review, verdict(reviewer('bob')), 2_000));
}

const DIGEST = 'a'.repeat(64);

test('opens version 1, pending until the review time runs out', () => {
  const review = newReview(reviewInput(), seededIds());

  assert.equal(review.id, 'review-1');
  assert.equal(review.version, 1);
  assert.equal(review.state, 'pending');
  assert.equal(review.expiresAtMs, 61_000);
  assert.deepEqual(review.reviewerRoles, ['security']);
  assert.equal(review.grant, undefined);
});

test('one approval approves with a grant starting at the approval', () => {
  const review = approved();

  assert.equal(review.version, 2);
  assert.equal(review.state, 'approved');
  assert.deepEqual(review.grant, { expiresAtMs: 12_000, usedAtMs: undefined });
});

test('two required approvals need two distinct reviewers', () => {
  const review = newReview(reviewInput(2), seededIds());

  const once = okReview(decide(review, verdict(reviewer('bob')), 2_000));
  const again = decide(once, verdict(reviewer('bob')), 2_500);
  const sameCertificate = decide(
    once,
    verdict(reviewer('bob-2', { certificateThumbprint: 'thumb-bob' })),
    2_500,
  );
  const twice = okReview(decide(once, verdict(reviewer('carol')), 3_000));

  assert.equal(once.state, 'pending');
  assert.equal(refusal(again), 'already_decided');
  assert.equal(refusal(sameCertificate), 'already_decided');
  assert.equal(twice.state, 'approved');
  assert.equal(twice.decisions.length, 2);
  assert.equal(twice.grant?.expiresAtMs, 13_000);
});

test('one denial denies, whatever approvals came before', () => {
  const review = newReview(reviewInput(2), seededIds());
  const once = okReview(decide(review, verdict(reviewer('bob')), 2_000));

  const denied = okReview(decide(once, verdict(reviewer('carol'), 'deny'), 3_000));

  assert.equal(denied.state, 'denied');
  assert.equal(denied.grant, undefined);
  assert.equal(refusal(decide(denied, verdict(reviewer('dave')), 3_500)), 'not_pending');
});

test('refuses the requester as reviewer, by subject or by certificate', () => {
  const review = newReview(reviewInput(), seededIds());
  const sameSubject = reviewer('alice', { certificateThumbprint: 'thumb-other' });
  const sameCertificate = reviewer('alice-admin', { certificateThumbprint: 'thumb-alice' });

  assert.equal(refusal(decide(review, verdict(sameSubject), 2_000)), 'self_review');
  assert.equal(refusal(decide(review, verdict(sameCertificate), 2_000)), 'self_review');
});

test('an empty thumbprint does not make two people one', () => {
  const review = newReview(
    { ...reviewInput(), requester: requester({ certificateThumbprint: '' }) },
    seededIds(),
  );

  const outcome = decide(review, verdict(reviewer('bob', { certificateThumbprint: '' })), 2_000);

  assert.equal(okReview(outcome).state, 'approved');
});

test('refuses a reviewer without a reviewer role', () => {
  const review = newReview(reviewInput(), seededIds());
  const analyst = reviewer('bob', { roles: ['analyst'] });

  assert.equal(refusal(decide(review, verdict(analyst), 2_000)), 'not_a_reviewer');
});

test('refuses decisions once the review time ran out, expired or not yet marked', () => {
  const review = newReview(reviewInput(), seededIds());
  const expired = expire(review, 61_000);

  assert.equal(refusal(decide(review, verdict(reviewer('bob')), 61_000)), 'expired');
  assert.ok(expired);
  assert.equal(expired.state, 'expired');
  assert.equal(expired.version, 2);
  assert.equal(refusal(decide(expired, verdict(reviewer('bob')), 2_000)), 'expired');
});

test('expire changes nothing before the time or after a decision', () => {
  const review = newReview(reviewInput(), seededIds());

  assert.equal(expire(review, 60_999), undefined);
  assert.equal(expire(approved(), 100_000), undefined);
});

test('a grant is used once, by the requester, for the same request, before it expires', () => {
  const review = approved();

  const used = okReview(useGrant(review, requester(), DIGEST, 5_000));

  assert.equal(used.version, 3);
  assert.deepEqual(used.grant, { expiresAtMs: 12_000, usedAtMs: 5_000 });
  assert.equal(refusal(useGrant(used, requester(), DIGEST, 6_000)), 'grant_used');
});

test('refuses a grant to another requester, another request, late, or without approval', () => {
  const review = approved();
  const pending = newReview(reviewInput(), seededIds());
  const otherCertificate = requester({ certificateThumbprint: 'thumb-stolen' });

  assert.equal(refusal(useGrant(pending, requester(), DIGEST, 5_000)), 'no_grant');
  assert.equal(
    refusal(useGrant(review, requester({ subject: 'mallory' }), DIGEST, 5_000)),
    'other_requester',
  );
  assert.equal(refusal(useGrant(review, otherCertificate, DIGEST, 5_000)), 'other_requester');
  assert.equal(refusal(useGrant(review, requester(), 'b'.repeat(64), 5_000)), 'other_request');
  assert.equal(refusal(useGrant(review, requester(), DIGEST, 12_000)), 'grant_expired');
});

test('the request digest separates every part and the absence of a model', () => {
  const body = Buffer.from('{"model":"llama"}');
  const base = { listener: 'http', operation: 'chat.completions', model: 'llama', body };

  const digests = [
    requestDigest(base),
    requestDigest({ ...base, listener: 'httpc', operation: 'hat.completions' }),
    requestDigest({ ...base, model: undefined }),
    requestDigest({ ...base, model: '' }),
    requestDigest({ ...base, body: Buffer.from('{"model":"llama" }') }),
    requestDigest({ ...base, operation: 'completions' }),
  ];

  assert.match(digests[0]!, /^[0-9a-f]{64}$/);
  assert.equal(new Set(digests).size, digests.length);
  assert.equal(requestDigest({ ...base, body: Buffer.from(body) }), digests[0]);
});
