// Review lifetimes and rates through real listeners: a review nobody decides expires, an
// approval nobody uses runs out, and a token rate counts the usage answers report.

import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import { request } from 'undici';
import { DECISION_OUTCOME, REVIEW_EVENT_KIND } from '../../src/audit/audit-events';
import { startDemoHttpServer } from '../../src/demo/demo-http-server';
import { auditSection, framesOf, readFrames } from '../fixtures/audit-fixture';
import { REVIEWED_PROMPT, startReviewGateway, verdict } from '../fixtures/review-gateway';
import { startWebhookServer } from '../fixtures/webhook-server';

test('a review nobody decides expires: the trail, the webhook and the retry say so', async (t) => {
  const audit = auditSection(t);
  const webhook = await startWebhookServer(t);
  const gateway = await startReviewGateway(t, {
    audit: audit.section,
    reviews: { reviewTtlMs: 100, webhook: { url: webhook.url } },
    expiryIntervalMs: 20,
  });

  const held = await gateway.chat(80);
  await gateway.logs.waitFor(
    (line) => line.msg === 'review notice delivered' && line.event === 'expired',
  );
  const late = await gateway.book.decide('review-1', verdict(gateway.bob, 'approve'));
  const retry = await gateway.chat(80, { reviewId: 'review-1' });
  await gateway.close();
  const frames = await readFrames(audit.dir);

  assert.deepEqual([held.status, held.code], [403, 'review_required']);
  assert.deepEqual(late, { ok: false, reason: 'expired' });
  assert.deepEqual([retry.status, retry.code], [403, 'no_grant']);
  assert.deepEqual(
    webhook.deliveries.map((d) => {
      const { event, review } = d.body as { event: string; review: { state: string } };
      return [event, review.state];
    }),
    [
      ['created', 'pending'],
      ['expired', 'expired'],
    ],
  );
  assert.deepEqual(
    framesOf(frames, 'review').map((r) => [r.kind, r.reviewId, r.rule, r.reason ?? '']),
    [
      [REVIEW_EVENT_KIND.CREATED, 'review-1', 'many-tokens', ''],
      [REVIEW_EVENT_KIND.NOTIFIED, 'review-1', 'many-tokens', 'created'],
      [REVIEW_EVENT_KIND.EXPIRED, 'review-1', 'many-tokens', ''],
      [REVIEW_EVENT_KIND.NOTIFIED, 'review-1', 'many-tokens', 'expired'],
    ],
  );
  const decisions = framesOf(frames, 'decision').map((d) => [d.outcome, d.detail ?? d.role]);
  assert.deepEqual(decisions, [
    [DECISION_OUTCOME.REVIEW_REQUIRED, 'review_required'],
    [DECISION_OUTCOME.DENIED, 'no_grant'],
  ]);
});

test('an approval not used within its grant lifetime is refused', async (t) => {
  const gateway = await startReviewGateway(t, { reviews: { grantTtlMs: 1 } });

  await gateway.chat(80);
  const approval = await gateway.book.decide('review-1', verdict(gateway.bob, 'approve'));
  // Past the grant's 1 ms lifetime on any clock that does not run backwards.
  await delay(20);
  const retry = await gateway.chat(80, { reviewId: 'review-1' });

  assert.equal(approval.ok, true);
  assert.deepEqual([retry.status, retry.code], [403, 'grant_expired']);
});

test('a token rate counts the usage answers report, not the caps requests state', async (t) => {
  const cap = 45;
  const used = await usageOfOneChat(t, cap);
  // A cap is reserved until its answer reports usage: a third request reserving `cap` on top
  // of two answers' usage is one token past the bound, a second on top of one is not.
  const tokens = 2 * used + cap - 1;
  const rule = { name: 'token-rate', when: { rate: { tokens, windowMs: 3_600_000 } } };
  const gateway = await startReviewGateway(t, {
    reviews: { rules: [{ ...rule, reviewers: ['reviewer'] }] },
  });

  const first = await gateway.chat(cap);
  const streamed = await gateway.chat(cap, { stream: true });
  const third = await gateway.chat(cap);

  assert.ok(cap > used, `the demo answer uses ${used} tokens, fewer than the ${cap} it may`);
  assert.deepEqual([first.status, first.totalTokens], [200, used]);
  assert.deepEqual([streamed.status, streamed.totalTokens], [200, used]);
  assert.deepEqual([third.status, third.code], [403, 'review_required']);
});

/** `usage.total_tokens` of the demo's answer to alice's chat, asked of the demo directly. */
async function usageOfOneChat(t: TestContext, maxTokens: number): Promise<number> {
  const demo = await startDemoHttpServer({ tokenDelayMs: 0 });
  t.after(() => demo.close());
  const response = await request(`http://${demo.address}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'echo',
      messages: [{ role: 'user', content: REVIEWED_PROMPT }],
      max_tokens: maxTokens,
    }),
  });
  const body = (await response.body.json()) as { usage: { total_tokens: number } };
  return body.usage.total_tokens;
}
