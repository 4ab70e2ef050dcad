// Builds just-in-time review at run time from configuration: store, book, filters, expiry timer.

import { randomUUID } from 'node:crypto';
import { REVIEW_EVENT_KIND, type ReviewEventRecord } from './audit/audit-events';
import type { AuditLog } from './audit/audit-log';
import { OPENAI_USAGE_OPERATIONS } from './codecs/openai-routes';
import type { GrpcMessage } from './codecs/grpc-message';
import type { HttpMessage } from './codecs/http-message';
import type { ListenerTextCodecs } from './codecs/shared-text-codec';
import type { GatewayConfig, ReviewsConfig } from './config/gateway-config';
import { ProxyError } from './errors/proxy-error';
import { grpcRequestFacts, httpRequestFacts } from './filters/audit/audit-request-facts';
import { reviewFilterFactory, type ReviewSettings } from './filters/review/review-filter';
import { grpcReviewInputReader, httpReviewInputReader } from './filters/review/review-input';
import { textMaskPolicy } from './filters/masking/masking-settings';
import type { Logger } from './observe/logger';
import type { FilterFactory } from './pipeline/filter';
import { MemoryReviewStore } from './reviews/memory-review-store';
import { PostgresReviewStore } from './reviews/postgres-review-store';
import { ReviewBook, type ReviewStep } from './reviews/review-book';
import type { ReviewNoticeEvent } from './reviews/review-notice';
import { ReviewNotifier, type ReviewNotices } from './reviews/review-notifier';
import { compileReviewRules } from './reviews/review-rules';
import type { Review, ReviewStore } from './reviews/review-store';

/** How often pending reviews whose time ran out are expired and recorded, unless told. */
export const REVIEW_EXPIRY_INTERVAL_MS = 5_000;

/** What tests may change about reviews at run time; production passes none. */
export interface GatewayReviewsOptions {
  /** Review ids; random UUIDs by default. */
  readonly generateId?: () => string;
  readonly expiryIntervalMs?: number;
  /** Told of each step of a review, and of each webhook notice delivered (metrics). */
  readonly onStep?: (step: ReviewStep | 'notified') => void;
}

/** Reviews at run time: one book per gateway process, shared by every listener. */
export interface GatewayReviews {
  readonly book: ReviewBook;
  /** The store under the book, which the admin listener lists and shows reviews from. */
  readonly store: ReviewStore;
  /** Whether other processes share the store (PostgreSQL). */
  readonly shared: boolean;
  /** After the identity filters and before masking in the gRPC listener's chain. */
  readonly grpcFilter: FilterFactory<GrpcMessage>;
  readonly httpFilter: FilterFactory<HttpMessage>;
  /**
   * Tells the webhook, when there is one, of an APPROVED or DENIED event the admin listener
   * recorded; other kinds are ignored. Never throws or waits.
   */
  decided(event: ReviewEventRecord): void;
  /** Stops the expiry timer, abandons undelivered notices and closes the store. */
  close(): Promise<void>;
}

/**
 * Throws ProxyError ERR_CONFIG_INVALID when `config.reviews` cannot be enforced: without
 * `auth` nobody is identified, so no requester could be told from a reviewer and four eyes
 * would be one pair. Checked before anything starts.
 */
export function checkReviewsEnforceable(config: GatewayConfig): void {
  if (config.reviews === undefined || config.auth !== undefined) return;
  const message = 'the reviews section needs the auth section: reviews are decided by identity';
  throw new ProxyError('ERR_CONFIG_INVALID', message);
}

/**
 * Opens the review book `config.reviews` describes, or undefined when there is none, and starts
 * the timer that expires pending reviews, recording EXPIRED frames in `audit` when it is on.
 * Review ids are random UUIDs unless `options` says otherwise: unguessable, so one caller
 * cannot name another's review.
 */
export function openGatewayReviews(
  config: GatewayConfig,
  audit: AuditLog | undefined,
  logger: Logger,
  texts: ListenerTextCodecs,
  options: GatewayReviewsOptions = {},
): GatewayReviews | undefined {
  const reviews = config.reviews;
  if (reviews === undefined) return undefined;
  checkReviewsEnforceable(config);
  const store = openStore(reviews);
  const onStep = options.onStep;
  const book = new ReviewBook(store, { generateId: options.generateId ?? randomUUID, onStep });
  const log = logger.child({ component: 'reviews' });
  const notices = openNotifier(reviews, audit, log, () => onStep?.('notified'));
  const common = {
    book,
    rules: compileReviewRules(reviews.rules),
    waitMs: reviews.waitMs,
    reviewTtlMs: reviews.reviewTtlMs,
    grantTtlMs: reviews.grantTtlMs,
    policy: textMaskPolicy(config),
    audit,
    notices,
    now: Date.now,
  };
  const maxMessageBytes = config.listeners.grpc.maxMessageBytes;
  const grpc: ReviewSettings<GrpcMessage> = {
    ...common,
    read: grpcReviewInputReader(maxMessageBytes),
    // KServe v2 responses report no token usage.
    reportsUsage: () => false,
    codec: texts.grpc,
    requestFacts: grpcRequestFacts(maxMessageBytes),
  };
  const http: ReviewSettings<HttpMessage> = {
    ...common,
    read: httpReviewInputReader(),
    reportsUsage: (exchange) => OPENAI_USAGE_OPERATIONS.has(exchange.operation),
    codec: texts.http,
    requestFacts: httpRequestFacts,
  };
  const expiryIntervalMs = options.expiryIntervalMs ?? REVIEW_EXPIRY_INTERVAL_MS;
  const stopExpiry = startExpiry(book, expiryIntervalMs, audit, notices, log);
  logger.info({ store: store.description, rules: reviews.rules.length }, 'reviews on');
  return {
    book,
    store,
    shared: reviews.postgres !== undefined,
    grpcFilter: reviewFilterFactory(grpc),
    httpFilter: reviewFilterFactory(http),
    decided: (event) => noticeDecision(event, store, notices, log),
    close: async () => {
      await stopExpiry();
      await notices?.close();
      await store.close();
    },
  };
}

function openStore(reviews: ReviewsConfig): ReviewStore {
  if (reviews.postgres === undefined) return new MemoryReviewStore();
  const { connectionString, table } = reviews.postgres;
  return new PostgresReviewStore({ connectionString, table });
}

/**
 * The webhook's notifier, or undefined without one; each delivered notice is recorded as a
 * NOTIFIED frame whose reason is the event, so the trail shows who could have known when.
 */
function openNotifier(
  reviews: ReviewsConfig,
  audit: AuditLog | undefined,
  logger: Logger,
  notified: () => void,
): ReviewNotifier | undefined {
  if (reviews.webhook === undefined) return undefined;
  const onDelivered = (event: ReviewNoticeEvent, review: Review) => {
    const record = { reviewId: review.id, kind: REVIEW_EVENT_KIND.NOTIFIED, rule: review.rule };
    audit?.record({ review: { ...record, reason: event } });
    notified();
  };
  return new ReviewNotifier({ ...reviews.webhook, logger, onDelivered });
}

/** Reads the decided review back, since the event names only its id, and queues its notice. */
function noticeDecision(
  event: ReviewEventRecord,
  store: ReviewStore,
  notices: ReviewNotices | undefined,
  logger: Logger,
): void {
  const kinds: Partial<Record<number, ReviewNoticeEvent>> = {
    [REVIEW_EVENT_KIND.APPROVED]: 'approved',
    [REVIEW_EVENT_KIND.DENIED]: 'denied',
  };
  const notice = kinds[event.kind];
  if (notices === undefined || notice === undefined) return;
  store.get(event.reviewId).then(
    (review) => {
      if (review !== undefined) notices.notify(notice, review);
    },
    (err: unknown) => logger.warn({ err, reviewId: event.reviewId }, 'review notice not queued'),
  );
}

/**
 * Expires due reviews every `intervalMs`, one pass at a time; the returned stop waits for a
 * pass in progress, so the store is not closed under it.
 */
function startExpiry(
  book: ReviewBook,
  intervalMs: number,
  audit: AuditLog | undefined,
  notices: ReviewNotices | undefined,
  logger: Logger,
): () => Promise<void> {
  let running: Promise<void> | undefined;
  const pass = async () => {
    try {
      for (const review of await book.expirePending()) {
        const event = { reviewId: review.id, kind: REVIEW_EVENT_KIND.EXPIRED, rule: review.rule };
        audit?.record({ review: event });
        notices?.notify('expired', review);
      }
    } catch (err) {
      // The next pass tries again; a review not expired yet cannot be decided or redeemed.
      logger.warn({ err }, 'pending reviews not expired');
    }
  };
  const timer = setInterval(() => {
    running ??= pass().finally(() => (running = undefined));
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
