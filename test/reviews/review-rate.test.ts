// The rate condition's counts: per identity, per window, requests and tokens, bounded memory.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReviewRate } from '../../src/reviews/review-rate';

test('the request past the bound exceeds, and counts start again with the next window', () => {
  const rate = new ReviewRate({ requests: 2, windowMs: 1_000 });

  const seen = [rate.count('alice', 0, 0), rate.count('alice', 0, 10), rate.count('alice', 0, 20)];
  const nextWindow = rate.count('alice', 0, 1_000);

  assert.deepEqual(seen, [false, false, true]);
  assert.equal(nextWindow, false);
  assert.deepEqual(rate.counted('alice', 1_000), { requests: 1, tokens: 0 });
});

test('identities are counted apart', () => {
  const rate = new ReviewRate({ requests: 1, windowMs: 1_000 });

  rate.count('alice', 0, 0);

  assert.equal(rate.count('bob', 0, 1), false);
  assert.equal(rate.count('alice', 0, 2), true);
});

test('a stated cap is reserved, and settled to the usage the response reports', () => {
  const rate = new ReviewRate({ tokens: 1_000, windowMs: 60_000 });

  const first = rate.count('alice', 600, 0);
  rate.settle('alice', 600, 900, 0, 10);
  const within = rate.count('alice', 100, 20);
  const over = rate.count('alice', 1, 30);
  rate.settle('bob', 0, 5_000, 0, 40);

  assert.deepEqual([first, within, over], [false, false, true]);
  assert.deepEqual(rate.counted('alice', 50), { requests: 3, tokens: 1_001 });
  assert.deepEqual(rate.counted('bob', 50), { requests: 0, tokens: 0 });
});

test('usage below the reservation gives the rest back, never below zero', () => {
  const rate = new ReviewRate({ tokens: 1_000, windowMs: 60_000 });
  rate.count('alice', 800, 0);
  rate.settle('alice', 800, 50, 0, 10);
  rate.settle('alice', 800, 0, 0, 20);

  assert.equal(rate.count('alice', 900, 30), false);
  assert.deepEqual(rate.counted('alice', 40), { requests: 2, tokens: 900 });
});

test('usage settled after its window ended is not carried into the next', () => {
  const rate = new ReviewRate({ tokens: 100, windowMs: 1_000 });
  rate.count('alice', 50, 0);
  rate.settle('alice', 50, 500, 0, 1_000);
  rate.count('alice', 50, 1_001);

  rate.settle('alice', 50, 500, 0, 1_002);

  assert.deepEqual(rate.counted('alice', 1_003), { requests: 1, tokens: 50 });
});

test('keeps at most the configured number of identities', () => {
  const rate = new ReviewRate({ requests: 1, windowMs: 1_000 }, 2);
  rate.count('alice', 0, 0);
  rate.count('bob', 0, 0);

  rate.count('carol', 0, 0);

  assert.deepEqual(rate.counted('alice', 1), { requests: 0, tokens: 0 });
  assert.deepEqual(rate.counted('carol', 1), { requests: 1, tokens: 0 });
});
