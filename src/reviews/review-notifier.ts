// Delivers review events to a webhook in the background: queued, retried with backoff, bounded.

import { setTimeout as delay } from 'node:timers/promises';
import { Agent, request } from 'undici';
import type { Logger } from '../observe/logger';
import { reviewNoticeBody, type ReviewNoticeEvent } from './review-notice';
import type { Review } from './review-store';

/** Notices waiting for delivery; past this the oldest is dropped. */
export const MAX_QUEUED_NOTICES = 1000;

/** The wait before the second attempt; each later wait doubles, up to the maximum. */
export const NOTICE_BACKOFF_BASE_MS = 500;
export const NOTICE_BACKOFF_MAX_MS = 30_000;

/** Where the gateway hands review events; `ReviewNotifier`, or nothing without a webhook. */
export interface ReviewNotices {
  /** Queues the event; never throws, never waits. */
  notify(event: ReviewNoticeEvent, review: Review): void;
}

/** Waits `ms`, or rejects once `signal` aborts. */
export type NoticeSleep = (ms: number, signal: AbortSignal) => Promise<void>;

/** What a notifier is built from, once, at start-up. */
export interface ReviewNotifierOptions {
  readonly url: string;
  readonly timeoutMs: number;
  /** Deliveries of one notice, the first included. */
  readonly attempts: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly logger: Logger;
  /** Called after a 2xx answer; it must not throw (a throw is logged as a bug). */
  readonly onDelivered?: (event: ReviewNoticeEvent, review: Review) => void;
  /** The backoff between attempts; a real, unref'd timer unless a test injects its own. */
  readonly sleep?: NoticeSleep;
  readonly maxQueued?: number;
}

interface Notice {
  readonly event: ReviewNoticeEvent;
  readonly review: Review;
}

/** What one attempt came to: delivered, worth another try, or refused for good. */
type AttemptOutcome =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'retry' | 'refused'; readonly status?: number; readonly err?: unknown };

// A timer that keeps no process alive: a gateway closing does not wait on a backoff.
const REAL_SLEEP: NoticeSleep = (ms, signal) => delay(ms, undefined, { signal, ref: false });

/**
 * POSTs each notice as JSON to the webhook, one at a time in the order notified, so `created`
 * arrives before the decision on it. Each notice is tried up to `attempts` times with
 * exponential backoff; after that it is given up with a warn log. The gateway never waits:
 * `notify` only queues, and `close` abandons what is left.
 */
export class ReviewNotifier implements ReviewNotices {
  private readonly queue: Notice[] = [];
  private readonly agent = new Agent();
  private readonly closing = new AbortController();
  private readonly sleep: NoticeSleep;
  private readonly maxQueued: number;
  /** Threat: the URL's path or query may be a token, so logs name only its origin. */
  private readonly origin: string;
  private current: Notice | undefined;
  private running: Promise<void> | undefined;
  /** Set before anything else in `close`, so a loop that resumes after it stops. */
  private stopped = false;
  private closed: Promise<void> | undefined;

  constructor(private readonly options: ReviewNotifierOptions) {
    this.sleep = options.sleep ?? REAL_SLEEP;
    this.maxQueued = options.maxQueued ?? MAX_QUEUED_NOTICES;
    this.origin = new URL(options.url).origin;
  }

  notify(event: ReviewNoticeEvent, review: Review): void {
    if (this.stopped) {
      this.options.logger.debug({ event, reviewId: review.id }, 'review notice after close');
      return;
    }
    if (this.queue.length >= this.maxQueued) {
      const dropped = this.queue.shift()!;
      const fields = { event: dropped.event, reviewId: dropped.review.id, webhook: this.origin };
      this.options.logger.warn(fields, 'review notice queue full, oldest dropped');
    }
    this.queue.push({ event, review });
    this.kick();
  }

  /** Stops delivering: the notice in flight and those queued are abandoned with one log line. */
  close(): Promise<void> {
    this.stopped = true;
    this.closed ??= this.stop();
    return this.closed;
  }

  private async stop(): Promise<void> {
    const abandoned = this.queue.length + (this.current === undefined ? 0 : 1);
    this.queue.length = 0;
    if (abandoned > 0) {
      this.options.logger.warn({ abandoned, webhook: this.origin }, 'review notices abandoned');
    }

    this.closing.abort();
    await this.running;
    await this.agent.destroy();
  }

  /** Starts the delivery loop unless it runs; a notice queued as it ends starts it again. */
  private kick(): void {
    if (this.running !== undefined || this.stopped) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.queue.length > 0) this.kick();
    });
  }

  private async drain(): Promise<void> {
    for (let notice = this.queue.shift(); notice !== undefined; notice = this.queue.shift()) {
      this.current = notice;
      await this.deliver(notice);
      this.current = undefined;
      if (this.stopped) return;
    }
  }

  /** Attempts, with backoff between them; never rejects. */
  private async deliver(notice: Notice): Promise<void> {
    const body = JSON.stringify(reviewNoticeBody(notice.event, notice.review));
    const fields = { event: notice.event, reviewId: notice.review.id, webhook: this.origin };
    let outcome: AttemptOutcome = { kind: 'retry' };
    for (let attempt = 1; attempt <= this.options.attempts; attempt += 1) {
      if (attempt > 1 && !(await this.backoff(attempt))) return;
      outcome = await this.attempt(body);
      if (this.stopped) return;
      if (outcome.kind === 'delivered') return this.delivered(notice);
      if (outcome.kind === 'refused') break;
      this.options.logger.debug(
        { ...fields, attempt, status: outcome.status, err: outcome.err },
        'review notice attempt failed',
      );
    }

    const { status, err } = outcome;
    this.options.logger.warn({ ...fields, status, err }, 'review notice not delivered');
  }

  /** One POST; anything but 2xx is a failure, and only 408, 429 and 5xx are worth retrying. */
  private async attempt(body: string): Promise<AttemptOutcome> {
    const { url, timeoutMs, headers } = this.options;
    try {
      const response = await request(url, {
        method: 'POST',
        dispatcher: this.agent,
        headers: { ...headers, 'content-type': 'application/json' },
        body,
        signal: AbortSignal.any([this.closing.signal, AbortSignal.timeout(timeoutMs)]),
      });
      // Read to the end, so the connection is reused for the next notice.
      await response.body.dump();
      const status = response.statusCode;
      if (status >= 200 && status < 300) return { kind: 'delivered' };
      const retry = status === 408 || status === 429 || status >= 500;
      return { kind: retry ? 'retry' : 'refused', status };
    } catch (err) {
      return { kind: 'retry', err };
    }
  }

  /** Waits before attempt `attempt` (2 or more); false when the notifier closed meanwhile. */
  private async backoff(attempt: number): Promise<boolean> {
    const ms = Math.min(NOTICE_BACKOFF_BASE_MS * 2 ** (attempt - 2), NOTICE_BACKOFF_MAX_MS);
    try {
      await this.sleep(ms, this.closing.signal);
    } catch (err) {
      // Only an abort ends a sleep early, and the close that caused it has logged the loss.
      this.options.logger.debug({ err }, 'review notice backoff ended by close');
    }
    return !this.stopped;
  }

  private delivered(notice: Notice): void {
    const fields = { event: notice.event, reviewId: notice.review.id };
    this.options.logger.debug(fields, 'review notice delivered');
    try {
      this.options.onDelivered?.(notice.event, notice.review);
    } catch (err) {
      this.options.logger.error({ ...fields, err }, 'review notice callback failed');
    }
  }
}
