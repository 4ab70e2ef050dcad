// The review notifier against a real local webhook: body and headers, retries, give-up, the
// bounded queue and close.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newReview } from '../../src/reviews/review-decisions';
import type { ReviewNoticeEvent } from '../../src/reviews/review-notice';
import { ReviewNotifier, type ReviewNotifierOptions } from '../../src/reviews/review-notifier';
import type { Review } from '../../src/reviews/review-store';
import { captureLogs, type CapturedLogger } from '../fixtures/log-sink';
import { startWebhookServer } from '../fixtures/webhook-server';
import { reviewInput, seededIds } from './review-fixtures';

interface NotifierUnderTest {
  readonly notifier: ReviewNotifier;
  readonly logs: CapturedLogger;
  /** Backoff waits asked for, in order; each resolves at once. */
  readonly sleeps: number[];
  readonly delivered: [ReviewNoticeEvent, string][];
}

function makeNotifier(url: string, options: Partial<ReviewNotifierOptions> = {}) {
  const logs = captureLogs();
  const sleeps: number[] = [];
  const delivered: [ReviewNoticeEvent, string][] = [];
  const notifier = new ReviewNotifier({
    url,
    timeoutMs: 5_000,
    attempts: 5,
    headers: {},
    logger: logs.logger,
    sleep: async (ms) => void sleeps.push(ms),
    onDelivered: (event, review) => void delivered.push([event, review.id]),
    ...options,
  });
  return { notifier, logs, sleeps, delivered } satisfies NotifierUnderTest;
}

function reviews(count: number): Review[] {
  const ids = seededIds();
  return Array.from({ length: count }, () => newReview(reviewInput(2), ids));
}

/** A promise and the function that settles it, to hold a webhook's answer back. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => undefined as void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

test('posts the event and the review summary as JSON with the configured headers', async (t) => {
  const webhook = await startWebhookServer(t);
  const headers = { authorization: 'Bearer hook-secret', 'x-team': 'security' };
  const { notifier, logs, delivered } = makeNotifier(webhook.url, { headers });
  t.after(() => notifier.close());
  const [review] = reviews(1);

  notifier.notify('created', review!);
  const [delivery] = await webhook.received(1);
  await logs.waitFor((line) => line.msg === 'review notice delivered');

  assert.equal(delivery!.method, 'POST');
  assert.equal(delivery!.path, '/hooks/reviews');
  assert.equal(delivery!.headers['content-type'], 'application/json');
  assert.equal(delivery!.headers.authorization, 'Bearer hook-secret');
  assert.equal(delivery!.headers['x-team'], 'security');
  assert.deepEqual(delivery!.body, {
    event: 'created',
    review: {
      id: 'review-1',
      rule: 'bulk-tokens',
      state: 'pending',
      requester: 'alice',
      request: {
        listener: 'http',
        operation: 'chat.completions',
        model: 'llama-3',
        route: 'llama',
        facts: { maxTokens: '8192' },
      },
      createdAt: '1970-01-01T00:00:01.000Z',
      expiresAt: '1970-01-01T00:01:01.000Z',
      approvals: 0,
      approvalsRequired: 2,
    },
  });
  assert.deepEqual(delivered, [['created', 'review-1']]);
  assert.doesNotMatch(logs.text(), /hook-secret|hooks\/reviews/);
});

test('retries a 500 with exponential backoff until it is accepted', async (t) => {
  const webhook = await startWebhookServer(t, (index) => (index < 2 ? 500 : 200));
  const { notifier, logs, sleeps, delivered } = makeNotifier(webhook.url);
  t.after(() => notifier.close());
  const [review] = reviews(1);

  notifier.notify('approved', review!);
  await logs.waitFor((line) => line.msg === 'review notice delivered');

  assert.equal(webhook.deliveries.length, 3);
  assert.deepEqual(sleeps, [500, 1000]);
  assert.deepEqual(delivered, [['approved', 'review-1']]);
});

test('gives a notice up after its attempts and goes on with the next', async (t) => {
  const webhook = await startWebhookServer(t, (index) => (index < 3 ? 503 : 204));
  const { notifier, logs, sleeps, delivered } = makeNotifier(webhook.url, { attempts: 3 });
  t.after(() => notifier.close());
  const [first, second] = reviews(2);

  notifier.notify('created', first!);
  notifier.notify('created', second!);
  const gaveUp = await logs.waitFor((line) => line.msg === 'review notice not delivered');
  await logs.waitFor((line) => line.msg === 'review notice delivered');

  assert.deepEqual([gaveUp.reviewId, gaveUp.status, gaveUp.level], ['review-1', 503, 40]);
  assert.equal(webhook.deliveries.length, 4);
  assert.deepEqual(sleeps, [500, 1000]);
  assert.deepEqual(delivered, [['created', 'review-2']]);
});

test('an attempt the webhook does not answer in time is abandoned and retried', async (t) => {
  const hung = gate();
  t.after(() => hung.open());
  const webhook = await startWebhookServer(t, async (index) => {
    if (index === 0) await hung.opened;
    return 204;
  });
  const { notifier, logs, sleeps, delivered } = makeNotifier(webhook.url, { timeoutMs: 50 });
  t.after(() => notifier.close());

  notifier.notify('created', reviews(1)[0]!);
  const failed = await logs.waitFor((line) => line.msg === 'review notice attempt failed');
  await logs.waitFor((line) => line.msg === 'review notice delivered');

  assert.equal((failed.err as { name?: string } | undefined)?.name, 'TimeoutError');
  assert.equal(webhook.deliveries.length, 2);
  assert.deepEqual(sleeps, [500]);
  assert.deepEqual(delivered, [['created', 'review-1']]);
});

test('a refusal other than 408 or 429 is not retried', async (t) => {
  const webhook = await startWebhookServer(t, () => 401);
  const { notifier, logs, sleeps } = makeNotifier(webhook.url);
  t.after(() => notifier.close());

  notifier.notify('denied', reviews(1)[0]!);
  const gaveUp = await logs.waitFor((line) => line.msg === 'review notice not delivered');

  assert.equal(gaveUp.status, 401);
  assert.equal(webhook.deliveries.length, 1);
  assert.deepEqual(sleeps, []);
});

test('a full queue drops its oldest notice with a warning', async (t) => {
  const held = gate();
  const webhook = await startWebhookServer(t, async (index) => {
    if (index === 0) await held.opened;
    return 204;
  });
  const { notifier, logs, delivered } = makeNotifier(webhook.url, { maxQueued: 2 });
  t.after(() => notifier.close());
  const [a, b, c, d] = reviews(4);

  // The first is in flight once notified, so the queue holds the next two.
  for (const review of [a, b, c, d]) notifier.notify('created', review!);
  await webhook.received(1);
  held.open();
  await webhook.received(3);
  await logs.waitFor((line) => line.msg === 'review notice delivered' && line.reviewId === d!.id);

  const dropped = logs.lines.filter(
    (line) => line.msg === 'review notice queue full, oldest dropped',
  );
  assert.deepEqual(
    dropped.map((line) => [line.reviewId, line.level]),
    [['review-2', 40]],
  );
  assert.deepEqual(
    delivered.map(([, id]) => id),
    ['review-1', 'review-3', 'review-4'],
  );
});

test('close abandons the notice in flight and the queued ones with one log line', async (t) => {
  const never = gate();
  const webhook = await startWebhookServer(t, async () => {
    await never.opened;
    return 204;
  });
  const { notifier, logs, delivered } = makeNotifier(webhook.url);
  t.after(() => never.open());
  const [a, b, c] = reviews(3);

  for (const review of [a, b, c]) notifier.notify('created', review!);
  await webhook.received(1);
  await notifier.close();
  notifier.notify('expired', a!);

  const abandoned = logs.lines.filter((line) => line.msg === 'review notices abandoned');
  assert.deepEqual(
    abandoned.map((line) => line.abandoned),
    [3],
  );
  assert.equal(webhook.deliveries.length, 1);
  assert.deepEqual(delivered, []);
  assert.equal(
    logs.lines.some((line) => line.msg === 'review notice not delivered'),
    false,
  );
});
