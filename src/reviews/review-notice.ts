// The JSON body a review webhook receives: which event happened to which review.

import type { Review } from './review-store';

/** What happened to a review; one notice per event. */
export type ReviewNoticeEvent = 'created' | 'approved' | 'denied' | 'expired';

/** The body of one delivery, as JSON. */
export interface ReviewNoticeBody {
  readonly event: ReviewNoticeEvent;
  readonly review: {
    readonly id: string;
    readonly rule: string;
    readonly state: Review['state'];
    /** The requester's subject; their certificate thumbprint and roles stay in the store. */
    readonly requester: string;
    readonly request: {
      readonly listener: string;
      readonly operation: string;
      readonly model: string | undefined;
      readonly route: string | undefined;
      readonly facts: Readonly<Record<string, string>>;
    };
    readonly createdAt: string;
    readonly expiresAt: string;
    readonly approvals: number;
    readonly approvalsRequired: number;
  };
}

/**
 * The notice of `event` on `review`. Threat: a webhook usually lands in a chat channel read by
 * more people than the reviewers, so it carries the request facts (already masked as the audit
 * frames record them) and no prompt at all, not even the masked copy; reviewers read that
 * through the admin listener, which checks who they are.
 */
export function reviewNoticeBody(event: ReviewNoticeEvent, review: Review): ReviewNoticeBody {
  const { listener, operation, model, route, facts } = review.request;
  return {
    event,
    review: {
      id: review.id,
      rule: review.rule,
      state: review.state,
      requester: review.requester.subject,
      request: { listener, operation, model, route, facts },
      createdAt: new Date(review.createdAtMs).toISOString(),
      expiresAt: new Date(review.expiresAtMs).toISOString(),
      approvals: review.decisions.filter((decision) => decision.verdict === 'approve').length,
      approvalsRequired: review.approvalsRequired,
    },
  };
}
