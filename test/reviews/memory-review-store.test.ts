// The in-memory review store: create once, compare-and-set by version, pending oldest first.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryReviewStore } from '../../src/reviews/memory-review-store';
import { newReview } from '../../src/reviews/review-decisions';
import { reviewInput, seededIds } from './review-fixtures';

test('refuses a review id stored twice', async () => {
  const store = new MemoryReviewStore();
  const review = newReview(reviewInput(), seededIds());
  await store.create(review);

  await assert.rejects(store.create(review), { code: 'ERR_REVIEW_STORE_INVALID' });
});

test('compare-and-set replaces only the expected version', async () => {
  const store = new MemoryReviewStore();
  const review = newReview(reviewInput(), seededIds());
  await store.create(review);
  const next = { ...review, version: 2, state: 'expired' as const };

  assert.equal(await store.compareAndSet(1, next), true);
  assert.equal(await store.compareAndSet(1, next), false);
  assert.equal(await store.compareAndSet(1, { ...next, id: 'unknown' }), false);
  await assert.rejects(store.compareAndSet(2, next), { code: 'ERR_REVIEW_STORE_INVALID' });
  assert.equal((await store.get(review.id))?.state, 'expired');
  assert.ok(Object.isFrozen(await store.get(review.id)));
});

test('lists pending reviews oldest first, at most the limit', async () => {
  const store = new MemoryReviewStore();
  const ids = seededIds();
  const late = newReview(reviewInput(1, 3_000), ids);
  const early = newReview(reviewInput(1, 1_000), ids);
  const done = newReview(reviewInput(1, 500), ids);
  for (const review of [late, early, done]) await store.create(review);
  await store.compareAndSet(1, { ...done, version: 2, state: 'denied' });

  const pending = await store.listPending(10);
  const first = await store.listPending(1);

  assert.deepEqual(
    pending.map((review) => review.id),
    [early.id, late.id],
  );
  assert.deepEqual(
    first.map((review) => review.id),
    [early.id],
  );
});
