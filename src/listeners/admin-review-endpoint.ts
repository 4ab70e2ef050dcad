// The admin listener's `/reviews`: reviewers list the held requests, read one, and approve or deny
// it, each over mTLS with a bearer token bound to their certificate.

import { z } from 'zod';
import { REVIEW_EVENT_KIND, type ReviewEventRecord } from '../audit/audit-events';
import { isProxyError } from '../errors/proxy-error';
import { callerRecord } from '../audit/caller-record';
import type { CertificateRoles } from '../identity/certificate-roles';
import type { Identity, TokenFacts } from '../identity/identity';
import type { PeerCertificate } from '../identity/peer-certificate';
import type { Logger } from '../observe/logger';
import {
  adminFailure,
  authenticateAdminCaller,
  parseAdminBody,
  type AdminAnswer,
} from './admin-caller';
import type { ReviewBook } from '../reviews/review-book';
import type { DecideRefusal } from '../reviews/review-decisions';
import type { Review, ReviewDecision, ReviewStore } from '../reviews/review-store';

/** The path the admin listener hands to this endpoint, with everything under it. */
export const REVIEWS_PATH = '/reviews';

/** Request bodies larger than this are refused: a reason of 500 characters fits in far less. */
export const REVIEW_REQUEST_MAX_BYTES = 4 * 1024;

/** Pending reviews one `GET /reviews` answers, oldest first. */
export const REVIEW_LIST_LIMIT = 100;

/** A reason goes into the review and the audit frame as written; a bound keeps both small. */
const MAX_REASON_CHARS = 500;

/** Ids are UUIDs in production; anything else in the path cannot name a review. */
export const REVIEW_ID_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

const decisionSchema = z.object({ reason: z.string().min(1).max(MAX_REASON_CHARS) }).strict();

/** Where each refusal of the book is answered: the caller's fault (403) or the review's (409). */
const REFUSAL_STATUS: Readonly<Record<DecideRefusal, number>> = {
  not_a_reviewer: 403,
  self_review: 403,
  already_decided: 409,
  not_pending: 409,
  expired: 409,
};

const REFUSAL_MESSAGE: Readonly<Record<DecideRefusal, string>> = {
  not_a_reviewer: 'no role of the caller may decide on this review',
  self_review: 'the requester cannot decide on their own request',
  already_decided: 'the caller has already decided on this review',
  not_pending: 'the review has already been decided',
  expired: 'the review has expired',
};

/** True for the paths this endpoint answers; the listener hands them over whatever the method. */
export function isReviewPath(path: string): boolean {
  return path === REVIEWS_PATH || path.startsWith(`${REVIEWS_PATH}/`);
}

/** One request as the admin listener read it. */
export interface ReviewRequest {
  readonly method: string;
  /** The path without its query. */
  readonly path: string;
  /** The connection's client certificate, when TLS verified one. */
  readonly certificate: PeerCertificate | undefined;
  /** The raw `authorization` header. */
  readonly authorization: string | undefined;
  /** The body as text; undefined when it was longer than {@link REVIEW_REQUEST_MAX_BYTES}. */
  readonly body: string | undefined;
}

/** What the endpoint answers: a status, a JSON body and any extra response headers. */
export type ReviewAnswer = AdminAnswer;

/** What the endpoint is built from, once, at start-up. */
export interface ReviewEndpointSettings {
  /** Where decisions are made. */
  readonly book: ReviewBook;
  /** The store under `book`, read for listing and showing (the book only changes reviews). */
  readonly store: Pick<ReviewStore, 'get' | 'listPending'>;
  /** The gateway's token verifier; undefined without `auth`, which turns the endpoint off. */
  readonly verifier:
    | {
        verify(
          authorization: string | undefined,
          certificate: PeerCertificate,
        ): Promise<TokenFacts>;
      }
    | undefined;
  readonly certificateRoles: CertificateRoles;
  /**
   * Where decisions are recorded; undefined when audit is off. `writable` is asked before a
   * decision is stored, so none is made while it cannot be recorded; `append` resolves once the
   * APPROVED or DENIED frame is durable, and the reviewer is answered only then.
   */
  readonly audit?: ReviewDecisionLog;
  /** Told of each stored decision (the webhook) after its append; must neither throw nor wait. */
  readonly decided?: (event: ReviewEventRecord) => void;
  readonly logger: Logger;
  /** Milliseconds since the epoch, to show a pending review past its time as expired. */
  readonly now?: () => number;
}

/** The part of the audit log the endpoint records decisions in (AuditLog has it). */
export interface ReviewDecisionLog {
  readonly writable: boolean;
  append(event: { readonly review: ReviewEventRecord }): Promise<void>;
}

type Route =
  | { readonly kind: 'list' }
  | { readonly kind: 'show'; readonly id: string }
  | { readonly kind: 'decide'; readonly id: string; readonly verdict: 'approve' | 'deny' };

/**
 * `GET /reviews` lists pending reviews (at most REVIEW_LIST_LIMIT, oldest first), `GET
 * /reviews/<id>` shows one whole, `POST /reviews/<id>/approve` and `.../deny` with `{ "reason":
 * "..." }` decide. Every route needs a verified client certificate and a bearer token bound to it
 * (401 otherwise). Listing and showing need nothing more: the stored request is already masked,
 * so a reviewer sees no card data. Deciding needs a role the review lists in `reviewerRoles` (the
 * token's or the certificate's, as the gateway grants them everywhere); the book's refusals are
 * answered 403 or 409 with the refusal as the error `type`. PCI DSS 10.2.1.2: while the audit
 * log refuses writes no decision is made (503 `audit_unavailable`), and a decision is answered
 * once its frame is durable.
 */
export class ReviewEndpoint {
  private readonly now: () => number;

  constructor(private readonly settings: ReviewEndpointSettings) {
    this.now = settings.now ?? Date.now;
  }

  /** False when no token is checked: the endpoint then answers 404. */
  get enabled(): boolean {
    return this.settings.verifier !== undefined;
  }

  /** Answers one request; rejects only on a bug, which the listener answers with 500. */
  async answer(request: ReviewRequest): Promise<ReviewAnswer> {
    if (!this.enabled) return notFound(request.path);
    const route = routeOf(request);
    if (!('kind' in route)) return route;
    const caller = await this.authenticate(request);
    if (!('certificate' in caller)) return caller;

    try {
      if (route.kind === 'list') return await this.list();
      if (route.kind === 'show') return await this.show(route.id);
      return await this.decide(route.id, route.verdict, request.body, caller);
    } catch (err) {
      if (!isProxyError(err)) throw err;
      this.settings.logger.error({ err }, 'review store failed for the admin listener');
      return adminFailure(503, 'review_store_unavailable', 'the review store cannot be used now');
    }
  }

  /** The caller's identity, or the 401 or 503 that refuses it. */
  private authenticate(request: ReviewRequest): Promise<Identity | ReviewAnswer> {
    const { verifier, certificateRoles } = this.settings;
    return authenticateAdminCaller(request, verifier!, certificateRoles, (why, certificate) =>
      this.refused(why, certificate),
    );
  }

  private refused(why: string, certificate: PeerCertificate | undefined, subject?: string): void {
    const thumbprint = certificate?.thumbprint;
    this.settings.logger.warn({ why, thumbprint, subject }, 'review request refused');
  }

  private async list(): Promise<ReviewAnswer> {
    const pending = await this.settings.store.listPending(REVIEW_LIST_LIMIT);
    const nowMs = this.now();
    return { status: 200, body: { reviews: pending.map((review) => summary(review, nowMs)) } };
  }

  private async show(id: string): Promise<ReviewAnswer> {
    const review = await this.settings.store.get(id);
    if (review === undefined) return adminFailure(404, 'not_found', `no review ${id}`);
    return { status: 200, body: { review: reviewView(review, this.now()) } };
  }

  /** Stores the caller's verdict through the book, then records it in the audit log. */
  private async decide(
    id: string,
    verdict: 'approve' | 'deny',
    body: string | undefined,
    caller: Identity,
  ): Promise<ReviewAnswer> {
    if (body === undefined) {
      return adminFailure(
        413,
        'request_too_large',
        `the body exceeds ${REVIEW_REQUEST_MAX_BYTES} bytes`,
      );
    }
    const parsed = parseDecision(body);
    if (!('reason' in parsed)) return parsed;
    const audit = this.settings.audit;
    if (audit !== undefined && !audit.writable) return auditUnavailable('no decision was made');

    const decision = reviewDecision(caller, verdict, parsed.reason, this.now());
    const outcome = await this.settings.book.decide(id, decision);
    if (!outcome.ok) return this.refusal(id, outcome.reason, caller);

    const recorded = await this.recordDecision(outcome.review, decision, caller);
    if (!recorded) return auditUnavailable('the decision is stored and its frame waits');
    return { status: 200, body: { review: reviewView(outcome.review, this.now()) } };
  }

  private refusal(id: string, reason: DecideRefusal | 'not_found', caller: Identity): ReviewAnswer {
    if (reason === 'not_found') return adminFailure(404, 'not_found', `no review ${id}`);
    this.refused(reason, caller.certificate, caller.subject);
    return adminFailure(REFUSAL_STATUS[reason], reason, `${REFUSAL_MESSAGE[reason]}: ${id}`);
  }

  /**
   * Appends the APPROVED or DENIED frame and waits until it is durable; false when the log
   * refused it. Limitation: the store holds the decision first, so a grant may be used in the
   * moment before its frame is durable, and a gateway that stops then keeps the decision
   * without its frame; an append the log refused is kept queued and retried (see AuditLog).
   */
  private async recordDecision(
    review: Review,
    decision: ReviewDecision,
    caller: Identity,
  ): Promise<boolean> {
    const kind =
      decision.verdict === 'approve' ? REVIEW_EVENT_KIND.APPROVED : REVIEW_EVENT_KIND.DENIED;
    const event = {
      reviewId: review.id,
      kind,
      rule: review.rule,
      actor: callerRecord(caller),
      reason: decision.reason,
    };
    const { id, state } = review;
    const fields = { reviewId: id, verdict: decision.verdict, state, subject: caller.subject };
    let recorded = true;
    try {
      await this.settings.audit?.append({ review: event });
      this.settings.logger.info(fields, 'review decision recorded');
    } catch (err) {
      recorded = false;
      this.settings.logger.error({ ...fields, err }, 'review decision stored, its frame not yet');
    }
    // The decision stands either way, so the webhook hears of it either way.
    this.settings.decided?.(event);
    return recorded;
  }
}

function auditUnavailable(what: string): ReviewAnswer {
  return adminFailure(503, 'audit_unavailable', `the audit log cannot be written: ${what}`);
}

/** The route `request` names, or the 404 or 405 that answers it. */
function routeOf(request: ReviewRequest): Route | ReviewAnswer {
  const parts = request.path.slice(REVIEWS_PATH.length).split('/').slice(1);
  const read = request.method === 'GET' || request.method === 'HEAD';
  if (parts.length === 0) return read ? { kind: 'list' } : notAllowed('GET, HEAD');
  const [id, action, ...rest] = parts;
  if (!REVIEW_ID_PATTERN.test(id!) || rest.length > 0) return notFound(request.path);
  if (action === undefined) return read ? { kind: 'show', id: id! } : notAllowed('GET, HEAD');
  if (action !== 'approve' && action !== 'deny') return notFound(request.path);
  if (request.method !== 'POST') return notAllowed('POST');
  return { kind: 'decide', id: id!, verdict: action };
}

/** The body as a reason, or the 400 saying what is wrong with it (never echoing its values). */
function parseDecision(body: string): { reason: string } | ReviewAnswer {
  return parseAdminBody(body, decisionSchema);
}

function reviewDecision(
  caller: Identity,
  verdict: 'approve' | 'deny',
  reason: string,
  atMs: number,
): ReviewDecision {
  const reviewer = {
    subject: caller.subject,
    certificateThumbprint: caller.certificate!.thumbprint,
    roles: caller.roles,
  };
  return { reviewer, verdict, reason, atMs };
}

/** A pending review whose time ran out is expired, whether or not the book has written so yet. */
function stateOf(review: Review, nowMs: number): string {
  return review.state === 'pending' && nowMs >= review.expiresAtMs ? 'expired' : review.state;
}

function approvals(review: Review): number {
  return review.decisions.filter((decision) => decision.verdict === 'approve').length;
}

/** One line of the list: who asked for what under which rule, and how far the review is. */
function summary(review: Review, nowMs: number): Record<string, unknown> {
  const { listener, operation, model, route, facts } = review.request;
  return {
    id: review.id,
    state: stateOf(review, nowMs),
    rule: review.rule,
    requester: review.requester.subject,
    createdAt: isoTime(review.createdAtMs),
    expiresAt: isoTime(review.expiresAtMs),
    request: { listener, operation, model, route, facts },
    approvals: approvals(review),
    approvalsRequired: review.approvalsRequired,
  };
}

/** The whole review; its request was masked before it was stored, so it holds no card data. */
function reviewView(review: Review, nowMs: number): Record<string, unknown> {
  const { grant } = review;
  return {
    ...summary(review, nowMs),
    version: review.version,
    requester: review.requester,
    requestDigest: review.requestDigest,
    request: review.request,
    reviewerRoles: review.reviewerRoles,
    grantTtlMs: review.grantTtlMs,
    decisions: review.decisions.map((decision) => ({
      reviewer: decision.reviewer.subject,
      verdict: decision.verdict,
      reason: decision.reason,
      at: isoTime(decision.atMs),
    })),
    grant:
      grant === undefined
        ? undefined
        : {
            expiresAt: isoTime(grant.expiresAtMs),
            usedAt: grant.usedAtMs === undefined ? undefined : isoTime(grant.usedAtMs),
          },
  };
}

function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

function notFound(path: string): ReviewAnswer {
  return adminFailure(404, 'not_found', `no admin endpoint at ${path.slice(0, 64)}`);
}

function notAllowed(allow: string): ReviewAnswer {
  const message = allow === 'POST' ? 'only POST is served' : 'only GET and HEAD are served';
  const answer = adminFailure(405, 'method_not_allowed', message);
  // RFC 9110 §15.5.6: a 405 names the methods the resource does support.
  return { ...answer, headers: { allow } };
}
