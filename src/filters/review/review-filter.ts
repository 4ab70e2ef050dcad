// The review filter: a request a review rule holds waits for a reviewer, or retries with a grant.

import { REVIEW_EVENT_KIND } from '../../audit/audit-events';
import type { AuditLog } from '../../audit/audit-log';
import type { TextCodec, TextCodecFactory } from '../../codecs/text-codec';
import type { ErrorCode } from '../../errors/error-codes';
import { ProxyError } from '../../errors/proxy-error';
import type { Identity } from '../../identity/identity';
import { emptyTextMaskCounts, maskText, type TextMaskPolicy } from '../../masking/text-masker';
import type { Exchange } from '../../pipeline/exchange';
import type { ExchangeMessage, Filter, FilterFactory, MessageResult } from '../../pipeline/filter';
import { LocalReply } from '../../pipeline/local-reply';
import type { ReviewBook } from '../../reviews/review-book';
import { REVIEW_REQUIRED_DETAIL, requestDigest } from '../../reviews/review-decisions';
import { callerRecord } from '../../audit/caller-record';
import type { ReviewNotices } from '../../reviews/review-notifier';
import type { ReviewRate } from '../../reviews/review-rate';
import { matchReviewRule, type ReviewRule, type ReviewRules } from '../../reviews/review-rules';
import type { ReviewedRequest, ReviewRequester } from '../../reviews/review-store';
import type { ReviewInputReader } from './review-input';

/** The header (HTTP) or metadata key (gRPC) naming the review a retry redeems. */
export const REVIEW_ID_HEADER = 'x-infergate-review-id';

/** What the filter runs on, built once at start-up. */
export interface ReviewSettings<M extends ExchangeMessage> {
  readonly book: ReviewBook;
  readonly rules: ReviewRules;
  /** How long a held request waits for a decision; 0 refuses it at once. */
  readonly waitMs: number;
  readonly reviewTtlMs: number;
  readonly grantTtlMs: number;
  readonly read: ReviewInputReader<M>;
  readonly codec: TextCodecFactory<M>;
  /**
   * Whether the responses of `exchange` may report token usage (OpenAI's `usage`), which a
   * rate's token bound is settled with; false spares decoding responses that never do.
   */
  readonly reportsUsage: (exchange: Exchange) => boolean;
  /** Masks the copies of the prompt a reviewer sees. */
  readonly policy: TextMaskPolicy;
  /** The request facts a reviewer sees, as the audit frames record them. */
  readonly requestFacts: (
    exchange: Exchange,
    message: M,
  ) => Readonly<Record<string, string>> | undefined;
  /** Where CREATED and GRANT_USED frames go; undefined when audit is off. */
  readonly audit: AuditLog | undefined;
  /** Told of each review opened; undefined without a webhook. */
  readonly notices?: ReviewNotices;
  readonly now: () => number;
}

/** One request message a rule holds, and what identifies it for its grant. */
interface HeldRequest<M> {
  readonly rule: ReviewRule;
  readonly message: M;
  readonly model: string | undefined;
  readonly prompts: readonly Buffer[];
  readonly identity: Identity;
  readonly requester: ReviewRequester;
  readonly digest: string;
}

/** A request's reservation in the token-bound rates that counted it, settled by its usage. */
interface Unsettled {
  readonly subject: string;
  readonly reservedTokens: number;
  readonly countedAtMs: number;
  readonly rates: readonly ReviewRate[];
}

/**
 * PCI DSS Req. 7 and 10: a request a rule matches goes on only with a second person's approval.
 * It sits after the identity filters, so it sees who asks, and before masking, so the digest
 * is over the request as received: a grant is for those bytes, and the retry must send them
 * again. Each request message of a gRPC stream is matched on its own, and a grant lets one
 * message through.
 */
class ReviewFilter<M extends ExchangeMessage> implements Filter<M> {
  /** The client went away: a decision that arrives after it must not use its grant. */
  private gone = false;
  private leave: () => void = () => undefined;
  /** One per exchange: a codec may keep state across the messages of a stream. */
  private codec: TextCodec<M> | undefined;
  private unsettled: Unsettled | undefined;
  /** Settles when the exchange completes, so a wait ends with its client. */
  private readonly left = new Promise<undefined>((resolve) => {
    this.leave = () => resolve(undefined);
  });

  constructor(
    private readonly exchange: Exchange,
    private readonly settings: ReviewSettings<M>,
  ) {}

  onRequestMessage(message: M): MessageResult {
    const identity = this.exchange.identity;
    if (identity === undefined) {
      return LocalReply.of(
        'ERR_PERMISSION_DENIED',
        'the caller is not authenticated',
        'no_identity',
      );
    }
    let held: HeldRequest<M> | undefined;
    try {
      held = this.match(identity, message);
    } catch (err) {
      return LocalReply.fromError(err);
    }
    if (held === undefined) return undefined;
    return this.review(held).catch((err: unknown) => LocalReply.fromError(err));
  }

  /**
   * Reads the response for its token usage while a reservation waits to be settled. It sees
   * the response after masking, which changes no count. A message the codec cannot read is
   * left to the filters that refuse it; its reservation stays counted.
   */
  onResponseMessage(message: M): MessageResult {
    const unsettled = this.unsettled;
    if (unsettled === undefined) return undefined;
    let usage;
    try {
      usage = this.exchangeCodec().responseTexts(message)?.usage;
    } catch {
      return undefined;
    }
    if (usage === undefined) return undefined;
    this.unsettled = undefined;
    const used = usage.promptTokens + usage.completionTokens;
    const { subject, reservedTokens, countedAtMs } = unsettled;
    const nowMs = this.settings.now();
    for (const rate of unsettled.rates) {
      rate.settle(subject, reservedTokens, used, countedAtMs, nowMs);
    }
    return undefined;
  }

  onExchangeComplete(): void {
    this.gone = true;
    this.leave();
  }

  /** The held request when a rule matches this message; undefined lets it go on. */
  private match(identity: Identity, message: M): HeldRequest<M> | undefined {
    const { exchange, settings } = this;
    const { model, facts } = settings.read(exchange, message);
    // Prompt texts are decoded only for a rule that reads them, or for the reviewer's view.
    let prompts: Buffer[] | undefined;
    const readPrompts = () => (prompts ??= this.promptsOf(message));
    const input = {
      subject: identity.subject,
      roles: identity.roles,
      route: exchange.route,
      model,
      operation: exchange.operation,
      facts,
      prompts: settings.rules.readsPrompts ? readPrompts().map((bytes) => bytes.toString()) : [],
    };
    const nowMs = settings.now();
    const { rule, tokenRates } = matchReviewRule(settings.rules, input, nowMs);
    if (tokenRates.length > 0 && settings.reportsUsage(exchange)) {
      const reservedTokens = facts.maxTokens ?? 0;
      this.unsettled = {
        subject: identity.subject,
        reservedTokens,
        countedAtMs: nowMs,
        rates: tokenRates,
      };
    }
    if (rule === undefined) return undefined;

    const { listener, operation } = exchange;
    const digest = requestDigest({ listener, operation, model, body: message.frame });
    const requester = {
      subject: identity.subject,
      certificateThumbprint: identity.certificate.thumbprint,
      roles: identity.roles,
    };
    return { rule, message, model, prompts: readPrompts(), identity, requester, digest };
  }

  private promptsOf(message: M): Buffer[] {
    const texts = this.exchangeCodec().requestTexts(message);
    return (texts?.pieces ?? []).map((piece) => piece.bytes);
  }

  private exchangeCodec(): TextCodec<M> {
    return (this.codec ??= this.settings.codec(this.exchange));
  }

  private review(held: HeldRequest<M>): Promise<LocalReply | undefined> {
    const named = this.exchange.requestHeaders[REVIEW_ID_HEADER];
    if (named === undefined) return this.hold(held);
    if (typeof named !== 'string' || named === '') {
      const message = `the ${REVIEW_ID_HEADER} header must name one review`;
      return Promise.resolve(
        LocalReply.of('ERR_REVIEW_GRANT_INVALID', message, 'review_id_invalid'),
      );
    }
    return this.redeem(named, held);
  }

  /** Uses the grant of review `id` for this request; any refusal is the reason as detail. */
  private async redeem(id: string, held: HeldRequest<M>): Promise<LocalReply | undefined> {
    this.exchange.reviewId = id;
    const outcome = await this.settings.book.useGrant(id, held.requester, held.digest);
    if (!outcome.ok) {
      const message = `review ${id} grants nothing to this request (${outcome.reason})`;
      return reviewReply('ERR_REVIEW_GRANT_INVALID', id, message, outcome.reason);
    }
    this.record(id, REVIEW_EVENT_KIND.GRANT_USED, held);
    return undefined;
  }

  /** Opens a review and waits for it up to `waitMs`; an approval is used at once. */
  private async hold(held: HeldRequest<M>): Promise<LocalReply | undefined> {
    const { book, waitMs, reviewTtlMs, grantTtlMs } = this.settings;
    const review = await book.open({
      requester: held.requester,
      rule: held.rule,
      requestDigest: held.digest,
      request: this.reviewedRequest(held),
      reviewTtlMs,
      grantTtlMs,
    });
    this.exchange.reviewId = review.id;
    this.record(review.id, REVIEW_EVENT_KIND.CREATED, held);
    this.settings.notices?.notify('created', review);
    if (waitMs === 0) return required(review.id);

    // A client that goes away ends only this wait: the review stays open for a retry.
    // Limitation: the book cannot cancel a wait, so its timers run on until `waitMs`.
    const decided = await Promise.race([book.waitForDecision(review.id, waitMs), this.left]);
    if (this.gone) return required(review.id);
    if (decided?.state === 'approved') return this.redeem(review.id, held);
    if (decided?.state === 'denied') {
      return reviewReply(
        'ERR_REVIEW_DENIED',
        review.id,
        `review ${review.id} denied the request`,
        'review_denied',
      );
    }
    if (decided?.state === 'expired') {
      return reviewReply(
        'ERR_REVIEW_DENIED',
        review.id,
        `review ${review.id} expired`,
        'review_expired',
      );
    }
    return required(review.id);
  }

  /**
   * What the reviewer sees. Threat: a reviewer is not entitled to card data, so the prompt is
   * masked copies, as the audit trail records it; the request itself is left untouched.
   */
  private reviewedRequest(held: HeldRequest<M>): ReviewedRequest {
    const { exchange, settings } = this;
    const maskedPrompt = held.prompts.map((bytes) => {
      const copy = Buffer.from(bytes);
      maskText(copy, settings.policy, emptyTextMaskCounts());
      return copy.toString('utf8');
    });
    return {
      listener: exchange.listener,
      operation: exchange.operation,
      model: held.model,
      route: exchange.route,
      facts: settings.requestFacts(exchange, held.message) ?? {},
      maskedPrompt,
    };
  }

  private record(reviewId: string, kind: number, held: HeldRequest<M>): void {
    this.settings.audit?.record({
      review: {
        reviewId,
        kind,
        exchangeId: this.exchange.id,
        rule: held.rule.name,
        actor: callerRecord(held.identity),
      },
    });
  }
}

function required(id: string): LocalReply {
  const message = `the request waits for a reviewer; retry with review ${id} once it is approved`;
  return reviewReply('ERR_REVIEW_REQUIRED', id, message, REVIEW_REQUIRED_DETAIL);
}

/** A refusal naming its review in the message and in a header (HTTP) or trailing metadata (gRPC). */
function reviewReply(code: ErrorCode, id: string, message: string, detail: string): LocalReply {
  const named = [[REVIEW_ID_HEADER, id]] as const;
  return new LocalReply(new ProxyError(code, message), detail, named, named);
}

/** Builds the review filter of a listener. */
export function reviewFilterFactory<M extends ExchangeMessage>(
  settings: ReviewSettings<M>,
): FilterFactory<M> {
  return { name: 'review', create: (exchange) => new ReviewFilter(exchange, settings) };
}
