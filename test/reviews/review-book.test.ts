// The review book over a store: retries on a lost compare-and-set, grants, expiry and waiting.

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { MemoryReviewStore } from '../../src/reviews/memory-review-store';
import { ReviewBook } from '../../src/reviews/review-book';
import { decide } from '../../src/reviews/review-decisions';
import type { Review, ReviewStore } from '../../src/reviews/review-store';
import { requester, reviewer, reviewInput, seededIds, verdict } from './review-fixtures';

/** A store that runs `race` before a compare-and-set, as another replica writing first would. */
class RacingStore implements ReviewStore {
  readonly description = 'racing';
  readonly inner = new MemoryReviewStore();
  race: (() => Promise<void>) | undefined;
  lost = 0;

  create = (review: Review) => this.inner.create(review);
  get = (id: string) => this.inner.get(id);
  listPending = (limit: number) => this.inner.listPending(limit);
  close = () => this.inner.close();

  async compareAndSet(expectedVersion: number, next: Review): Promise<boolean> {
    const race = this.race;
    this.race = undefined;
    if (race !== undefined) await race();
    const stored = await this.inner.compareAndSet(expectedVersion, next);
    if (!stored) this.lost += 1;
    return stored;
  }
}

function bookOver(store: ReviewStore, clock: { now: number }) {
  const input = reviewInput();
  const { nowMs: _ignored, ...openInput } = input;
  const book = new ReviewBook(store, { generateId: seededIds(), now: () => clock.now });
  return { book, openInput };
}

function setup(approvals = 1) {
  const store = new RacingStore();
  const clock = { now: 1_000 };
  const { book, openInput } = bookOver(store, clock);
  return {
    store,
    clock,
    book,
    openInput: { ...openInput, rule: { ...openInput.rule, approvals } },
  };
}

/** Lets pending promise callbacks run; setImmediate is left unmocked. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

function mockTimeouts(t: TestContext) {
  t.mock.timers.enable({ apis: ['setTimeout'] });
}

test('a lost compare-and-set is read again and retried', async () => {
  const { store, book, openInput } = setup(2);
  const review = await book.open(openInput);
  store.race = async () => {
    const current = await store.inner.get(review.id);
    const carol = decide(current!, verdict(reviewer('carol')), 1_500);
    assert.ok(carol.ok);
    await store.inner.compareAndSet(current!.version, carol.review);
  };

  const outcome = await book.decide(review.id, verdict(reviewer('bob')));

  assert.ok(outcome.ok);
  assert.equal(store.lost, 1);
  assert.equal(outcome.review.version, 3);
  assert.equal(outcome.review.state, 'approved');
  assert.deepEqual(
    outcome.review.decisions.map((entry) => entry.reviewer.subject),
    ['carol', 'bob'],
  );
});

test('gives up with ERR_REVIEW_STORE_UNAVAILABLE when every compare-and-set is lost', async () => {
  const store = new MemoryReviewStore();
  store.compareAndSet = async () => false;
  const { book, openInput } = bookOver(store, { now: 1_000 });
  const review = await book.open(openInput);

  await assert.rejects(book.decide(review.id, verdict(reviewer('bob'))), {
    code: 'ERR_REVIEW_STORE_UNAVAILABLE',
  });
});

test('refusals come back without a write; an unknown id is not_found', async () => {
  const { store, book, openInput } = setup();
  const review = await book.open(openInput);

  const self = await book.decide(review.id, verdict(reviewer('alice')));
  const unknown = await book.decide('review-404', verdict(reviewer('bob')));

  assert.deepEqual(self, { ok: false, reason: 'self_review' });
  assert.deepEqual(unknown, { ok: false, reason: 'not_found' });
  assert.equal((await store.get(review.id))?.version, 1);
});

test('an approved grant is used once through the book', async () => {
  const { clock, book, openInput } = setup();
  const review = await book.open(openInput);
  await book.decide(review.id, verdict(reviewer('bob')));
  clock.now = 5_000;

  const used = await book.useGrant(review.id, requester(), openInput.requestDigest);
  const again = await book.useGrant(review.id, requester(), openInput.requestDigest);

  assert.ok(used.ok);
  assert.equal(used.review.grant?.usedAtMs, 5_000);
  assert.deepEqual(again, { ok: false, reason: 'grant_used' });
});

test('expirePending expires only the reviews whose time ran out', async () => {
  const { clock, book, openInput } = setup();
  const old = await book.open(openInput);
  clock.now = 30_000;
  const recent = await book.open(openInput);

  const expired = await book.expirePending(61_000);

  assert.deepEqual(
    expired.map((review) => [review.id, review.state]),
    [[old.id, 'expired']],
  );
  assert.equal((await book.decide(recent.id, verdict(reviewer('bob')))).ok, true);
});

test('waitForDecision resolves when an approval goes through the same book', async (t) => {
  mockTimeouts(t);
  const { book, openInput } = setup();
  const review = await book.open(openInput);
  const waiting = book.waitForDecision(review.id, 30_000);
  await settle();

  await book.decide(review.id, verdict(reviewer('bob')));
  const decided = await waiting;

  assert.equal(decided?.state, 'approved');
});

test('waitForDecision resolves with the pending review on timeout', async (t) => {
  mockTimeouts(t);
  const { book, openInput } = setup();
  const review = await book.open(openInput);
  const results: (Review | undefined)[] = [];
  const waiting = book.waitForDecision(review.id, 30_000).then((found) => results.push(found));
  await settle();

  t.mock.timers.tick(29_999);
  await settle();
  const before = results.length;
  t.mock.timers.tick(1);
  await waiting;

  assert.equal(before, 0);
  assert.equal(results[0]?.state, 'pending');
});

test('waitForDecision sees a decision made through another replica at the next poll', async (t) => {
  mockTimeouts(t);
  const store = new MemoryReviewStore();
  const clock = { now: 1_000 };
  const first = bookOver(store, clock);
  const second = new ReviewBook(store, { generateId: seededIds(), now: () => clock.now });
  const review = await first.book.open(first.openInput);
  let result: Review | undefined;
  const waiting = first.book.waitForDecision(review.id, 30_000).then((found) => (result = found));
  await settle();

  await second.decide(review.id, verdict(reviewer('bob'), 'deny'));
  await settle();
  const before = result;
  t.mock.timers.tick(1_000);
  await waiting;

  assert.equal(before, undefined);
  assert.equal(result?.state, 'denied');
});

test('waitForDecision answers at once for a decided review and an unknown id', async () => {
  const { book, openInput } = setup();
  const review = await book.open(openInput);
  await book.decide(review.id, verdict(reviewer('bob'), 'deny'));

  assert.equal((await book.waitForDecision(review.id, 30_000))?.state, 'denied');
  assert.equal(await book.waitForDecision('review-404', 30_000), undefined);
});
