// Pure transitions of a review: open, decide, expire, use the grant; each returns the next version.

import { createHash } from 'node:crypto';
import type {
  Review,
  ReviewDecision,
  ReviewedRequest,
  ReviewRequester,
  Reviewer,
} from './review-store';

/** What a new review needs; the rule's reviewers and approvals come from the matched rule. */
/** The detail of an exchange a review rule holds until a reviewer approves it. */
export const REVIEW_REQUIRED_DETAIL = 'review_required';

export interface NewReviewInput {
  readonly requester: ReviewRequester;
  readonly rule: {
    readonly name: string;
    readonly reviewers: readonly string[];
    readonly approvals: number;
  };
  /** `requestDigest` of the held request. */
  readonly requestDigest: string;
  readonly request: ReviewedRequest;
  readonly reviewTtlMs: number;
  readonly grantTtlMs: number;
  readonly nowMs: number;
}

/** Why a decision was not recorded, snake_case for the admin API and the audit record. */
export type DecideRefusal =
  'not_pending' | 'expired' | 'self_review' | 'not_a_reviewer' | 'already_decided';

/** Why a grant could not be used. */
export type UseGrantRefusal =
  'no_grant' | 'grant_used' | 'grant_expired' | 'other_requester' | 'other_request';

/** The next version of a review, or why there is none. */
export type ReviewTransition<R extends string> =
  { readonly ok: true; readonly review: Review } | { readonly ok: false; readonly reason: R };

/** Version 1 of a review of the held request, pending until `nowMs + reviewTtlMs`. */
export function newReview(input: NewReviewInput, generateId: () => string): Review {
  return {
    id: generateId(),
    version: 1,
    createdAtMs: input.nowMs,
    expiresAtMs: input.nowMs + input.reviewTtlMs,
    requester: input.requester,
    rule: input.rule.name,
    requestDigest: input.requestDigest,
    request: input.request,
    reviewerRoles: input.rule.reviewers,
    approvalsRequired: input.rule.approvals,
    grantTtlMs: input.grantTtlMs,
    decisions: [],
    state: 'pending',
    grant: undefined,
  };
}

/**
 * Records one reviewer's verdict. Refused when the review is no longer pending (`expired` when
 * its time ran out, recorded or not), when the reviewer is the requester (same subject or same
 * certificate: four eyes means two people), holds no reviewer role, or already decided on it.
 * One denial denies; the approval that makes `approvalsRequired` distinct approvers approves and
 * starts the grant's lifetime.
 */
export function decide(
  review: Review,
  decision: ReviewDecision,
  nowMs: number,
): ReviewTransition<DecideRefusal> {
  const refusal = decideRefusal(review, decision.reviewer, nowMs);
  if (refusal !== undefined) return { ok: false, reason: refusal };

  const decisions = [...review.decisions, decision];
  const approvals = decisions.filter((entry) => entry.verdict === 'approve').length;
  if (decision.verdict === 'deny') return next(review, { decisions, state: 'denied' });
  if (approvals < review.approvalsRequired) return next(review, { decisions });
  const grant = { expiresAtMs: nowMs + review.grantTtlMs, usedAtMs: undefined };
  return next(review, { decisions, state: 'approved', grant });
}

function decideRefusal(
  review: Review,
  reviewer: Reviewer,
  nowMs: number,
): DecideRefusal | undefined {
  if (review.state === 'expired' || (review.state === 'pending' && nowMs >= review.expiresAtMs)) {
    return 'expired';
  }
  if (review.state !== 'pending') return 'not_pending';
  if (samePerson(reviewer, review.requester)) return 'self_review';
  if (!reviewer.roles.some((role) => review.reviewerRoles.includes(role))) return 'not_a_reviewer';
  if (review.decisions.some((entry) => samePerson(entry.reviewer, reviewer))) {
    return 'already_decided';
  }
  return undefined;
}

/**
 * Threat: one person with two tokens, or two subjects on one certificate, must not count as two
 * people. An empty thumbprint (no certificate) proves nothing, so only subjects compare then.
 */
function samePerson(a: Reviewer | ReviewRequester, b: Reviewer | ReviewRequester): boolean {
  if (a.subject === b.subject) return true;
  return a.certificateThumbprint !== '' && a.certificateThumbprint === b.certificateThumbprint;
}

/** The expired version of a pending review whose time ran out; undefined when nothing changes. */
export function expire(review: Review, nowMs: number): Review | undefined {
  if (review.state !== 'pending' || nowMs < review.expiresAtMs) return undefined;
  return { ...review, version: review.version + 1, state: 'expired' };
}

/**
 * Uses an approved review's grant for the requester's retry: the same subject with the same
 * certificate, sending the request with the same digest, before the grant expires, once.
 * The requester is checked first, so nobody else learns whether the grant was used.
 */
export function useGrant(
  review: Review,
  requester: ReviewRequester,
  digest: string,
  nowMs: number,
): ReviewTransition<UseGrantRefusal> {
  const { grant } = review;
  if (review.state !== 'approved' || grant === undefined) return { ok: false, reason: 'no_grant' };
  const { subject, certificateThumbprint } = review.requester;
  if (requester.subject !== subject || requester.certificateThumbprint !== certificateThumbprint) {
    return { ok: false, reason: 'other_requester' };
  }
  if (digest !== review.requestDigest) return { ok: false, reason: 'other_request' };
  if (grant.usedAtMs !== undefined) return { ok: false, reason: 'grant_used' };
  if (nowMs >= grant.expiresAtMs) return { ok: false, reason: 'grant_expired' };

  return next(review, { grant: { expiresAtMs: grant.expiresAtMs, usedAtMs: nowMs } });
}

function next<R extends string>(
  review: Review,
  change: Partial<Pick<Review, 'decisions' | 'state' | 'grant'>>,
): ReviewTransition<R> {
  return { ok: true, review: { ...review, ...change, version: review.version + 1 } };
}

/** What identifies a request for its grant. */
export interface RequestDigestParts {
  readonly listener: string;
  readonly operation: string;
  readonly model: string | undefined;
  readonly body: Uint8Array;
}

const DIGEST_DOMAIN = 'infergate review request v1';

/**
 * Hex SHA-256 over a domain tag and each part length-prefixed (8 bytes, big-endian), the model
 * after a byte saying whether there is one. Threat: with plain concatenation, listener `ab` and
 * operation `c` would digest as `a` and `bc`, so an approval for one request could pass another.
 */
export function requestDigest(parts: RequestDigestParts): string {
  const hash = createHash('sha256');
  const field = (bytes: Uint8Array) => {
    const length = Buffer.alloc(8);
    length.writeBigUInt64BE(BigInt(bytes.length));
    hash.update(length).update(bytes);
  };

  field(Buffer.from(DIGEST_DOMAIN, 'utf8'));
  field(Buffer.from(parts.listener, 'utf8'));
  field(Buffer.from(parts.operation, 'utf8'));
  field(Uint8Array.of(parts.model === undefined ? 0 : 1));
  field(Buffer.from(parts.model ?? '', 'utf8'));
  field(parts.body);
  return hash.digest('hex');
}
