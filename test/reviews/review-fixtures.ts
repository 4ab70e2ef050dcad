// Builds the people and reviews the review tests share.

import type { NewReviewInput } from '../../src/reviews/review-decisions';
import type { ReviewDecision, ReviewRequester, Reviewer } from '../../src/reviews/review-store';

/** The analyst whose request is held. */
export function requester(overrides: Partial<ReviewRequester> = {}): ReviewRequester {
  return {
    subject: 'alice',
    certificateThumbprint: 'thumb-alice',
    roles: ['analyst'],
    ...overrides,
  };
}

/** A reviewer holding the `security` role unless told otherwise. */
export function reviewer(subject: string, overrides: Partial<Reviewer> = {}): Reviewer {
  return { subject, certificateThumbprint: `thumb-${subject}`, roles: ['security'], ...overrides };
}

/** One verdict of `who`, at `atMs`. */
export function verdict(
  who: Reviewer,
  kind: 'approve' | 'deny' = 'approve',
  atMs = 1_000,
): ReviewDecision {
  return { reviewer: who, verdict: kind, reason: 'checked the ticket', atMs };
}

/** What opens a review of a bulk request needing `approvals` security approvals. */
export function reviewInput(approvals = 1, nowMs = 1_000): NewReviewInput {
  return {
    requester: requester(),
    rule: { name: 'bulk-tokens', reviewers: ['security'], approvals },
    requestDigest: 'a'.repeat(64),
    request: {
      listener: 'http',
      operation: 'chat.completions',
      model: 'llama-3',
      route: 'llama',
      facts: { maxTokens: '8192' },
      maskedPrompt: ['dump all customers'],
    },
    reviewTtlMs: 60_000,
    grantTtlMs: 10_000,
    nowMs,
  };
}

/** Ids `review-1`, `review-2`, ... */
export function seededIds(): () => string {
  let next = 0;
  return () => `review-${++next}`;
}

/** Chat asking for more than 50 tokens waits for a reviewer; the test chat role allows up to 100. */
export const MANY_TOKENS_RULE = {
  name: 'many-tokens',
  when: { roles: ['chat'], maxTokensAbove: 50 },
  reviewers: ['reviewer'],
};
