// The review book: opens, decides, expires and redeems reviews over any ReviewStore, retrying a
// lost compare-and-set, and lets a held request wait for its decision.

import { ProxyError } from '../errors/proxy-error';
import {
  decide,
  expire,
  newReview,
  useGrant,
  type DecideRefusal,
  type NewReviewInput,
  type ReviewTransition,
  type UseGrantRefusal,
} from './review-decisions';
import type { Review, ReviewDecision, ReviewRequester, ReviewStore } from './review-store';

/**
 * How often a waiting request reads its review again. A decision made through this book
 * reaches its waiters at once; one made through another replica sharing the store is seen at
 * the next poll, so it waits at most this much longer.
 */
export const REVIEW_POLL_INTERVAL_MS = 1000;

/** Reads, computes and compare-and-sets a review at most this often before giving up. */
export const MAX_CHANGE_ATTEMPTS = 8;

/** Pending reviews one `expirePending` call looks at. */
export const EXPIRE_BATCH = 1000;

/** Timers the book waits with; the global ones unless a test injects its own. */
export interface ReviewTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** What a book needs besides its store. */
export interface ReviewBookOptions {
  /** Review ids: unguessable in production (`crypto.randomUUID`), seeded in tests. */
  readonly generateId: () => string;
  readonly now?: () => number;
  readonly timers?: ReviewTimers;
  readonly pollIntervalMs?: number;
  readonly maxAttempts?: number;
  /** Told of each step this book takes, after the store holds it (metrics); must not throw. */
  readonly onStep?: (step: ReviewStep) => void;
}

/** A step of a review through this book: opened, decided, expired, or its grant used. */
export type ReviewStep = 'created' | 'approved' | 'denied' | 'expired' | 'grant_used';

// Read through globalThis at each call, so `mock.timers` enabled after construction still holds.
const GLOBAL_TIMERS: ReviewTimers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as NodeJS.Timeout),
};

type Waiter = (review: Review) => void;

/** The orchestration of reviews; the transitions themselves are in `review-decisions.ts`. */
export class ReviewBook {
  private readonly now: () => number;
  private readonly timers: ReviewTimers;
  private readonly pollIntervalMs: number;
  private readonly maxAttempts: number;
  private readonly waiters = new Map<string, Set<Waiter>>();

  constructor(
    private readonly store: ReviewStore,
    private readonly options: ReviewBookOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.timers = options.timers ?? GLOBAL_TIMERS;
    this.pollIntervalMs = options.pollIntervalMs ?? REVIEW_POLL_INTERVAL_MS;
    this.maxAttempts = options.maxAttempts ?? MAX_CHANGE_ATTEMPTS;
  }

  /** Stores a new pending review of a held request, created now; rejects as the store does. */
  async open(input: Omit<NewReviewInput, 'nowMs'>): Promise<Review> {
    const review = newReview({ ...input, nowMs: this.now() }, this.options.generateId);
    await this.store.create(review);
    this.options.onStep?.('created');
    return review;
  }

  /** Records a verdict now; `not_found` for an unknown id, else as `decide` refuses. */
  decide(
    id: string,
    decision: ReviewDecision,
  ): Promise<ReviewTransition<DecideRefusal | 'not_found'>> {
    return this.change(id, (review) => decide(review, decision, this.now()));
  }

  /** Uses the grant of review `id` now for the requester's retry of the request `digest` names. */
  useGrant(
    id: string,
    requester: ReviewRequester,
    digest: string,
  ): Promise<ReviewTransition<UseGrantRefusal | 'not_found'>> {
    return this.change(id, (review) => useGrant(review, requester, digest, this.now()));
  }

  /**
   * Expires the pending reviews, oldest first and at most EXPIRE_BATCH, whose time ran out at
   * `nowMs`, and returns their expired versions; one decided meanwhile is left as it is.
   */
  async expirePending(nowMs: number = this.now()): Promise<Review[]> {
    const expired: Review[] = [];
    for (const pending of await this.store.listPending(EXPIRE_BATCH)) {
      if (nowMs < pending.expiresAtMs) continue;
      const outcome = await this.change(pending.id, (review) => {
        const next = expire(review, nowMs);
        return next === undefined ? { ok: false, reason: 'not_due' } : { ok: true, review: next };
      });
      if (outcome.ok) expired.push(outcome.review);
    }
    return expired;
  }

  /**
   * Resolves with the review once it leaves `pending` (at once through this book, at the next
   * poll through another replica), or after `timeoutMs` with the review as it is then, pending
   * or not; undefined for an unknown id. Rejects when the store does.
   */
  waitForDecision(id: string, timeoutMs: number): Promise<Review | undefined> {
    return new Promise((resolve, reject) => {
      const wait = new DecisionWait(id, this.store, this.timers, () =>
        this.removeWaiter(id, waiter),
      );
      const waiter: Waiter = (review) => wait.settle(() => resolve(review));
      this.addWaiter(id, waiter);
      wait.start(timeoutMs, this.pollIntervalMs, resolve, reject);
    });
  }

  /** Read, transition, compare-and-set; a lost compare-and-set reads again. */
  private async change<R extends string>(
    id: string,
    transition: (review: Review) => ReviewTransition<R>,
  ): Promise<ReviewTransition<R | 'not_found'>> {
    for (let attempt = 0; attempt < this.maxAttempts; attempt += 1) {
      const current = await this.store.get(id);
      if (current === undefined) return { ok: false, reason: 'not_found' };
      const outcome = transition(current);
      if (!outcome.ok) return outcome;
      if (await this.store.compareAndSet(current.version, outcome.review)) {
        this.stepped(current, outcome.review);
        this.notify(outcome.review);
        return outcome;
      }
    }
    const reason = `review ${id} changed ${this.maxAttempts} times while it was being written`;
    throw new ProxyError('ERR_REVIEW_STORE_UNAVAILABLE', reason);
  }

  /** Tells `onStep` what the change from `before` to `after` was; a partial approval is none. */
  private stepped(before: Review, after: Review): void {
    const onStep = this.options.onStep;
    if (onStep === undefined) return;
    if (before.state === 'pending' && after.state !== 'pending') return onStep(after.state);
    const used = after.grant?.usedAtMs !== undefined && before.grant?.usedAtMs === undefined;
    if (used) onStep('grant_used');
  }

  private notify(review: Review): void {
    if (review.state === 'pending') return;
    for (const waiter of [...(this.waiters.get(review.id) ?? [])]) waiter(review);
  }

  private addWaiter(id: string, waiter: Waiter): void {
    const waiters = this.waiters.get(id) ?? new Set<Waiter>();
    waiters.add(waiter);
    this.waiters.set(id, waiters);
  }

  private removeWaiter(id: string, waiter: Waiter): void {
    const waiters = this.waiters.get(id);
    waiters?.delete(waiter);
    if (waiters?.size === 0) this.waiters.delete(id);
  }
}

/** One waiting request: its timers, and the guard that settles it once. */
class DecisionWait {
  private settled = false;
  /** The deadline and the next poll; a poll that fired is replaced, so this stays at two. */
  private readonly handles = new Map<'deadline' | 'poll', unknown>();

  constructor(
    private readonly id: string,
    private readonly store: ReviewStore,
    private readonly timers: ReviewTimers,
    private readonly onSettle: () => void,
  ) {}

  /** Reads the review; when still pending, arms the deadline and the first poll. */
  start(
    timeoutMs: number,
    pollIntervalMs: number,
    resolve: (review: Review | undefined) => void,
    reject: (err: unknown) => void,
  ): void {
    const fail = (err: unknown) => this.settle(() => reject(err));
    const read = (onPending: () => void) =>
      this.store.get(this.id).then((review) => {
        if (review === undefined || review.state !== 'pending') this.settle(() => resolve(review));
        else onPending();
      }, fail);
    const poll = () => this.arm('poll', () => void read(poll), pollIntervalMs);
    const deadline = () =>
      void this.store.get(this.id).then((review) => this.settle(() => resolve(review)), fail);

    void read(() => {
      this.arm('deadline', deadline, Math.max(0, timeoutMs));
      poll();
    });
  }

  /** Runs `outcome` unless the wait has settled already, and releases its timers. */
  settle(outcome: () => void): void {
    if (this.settled) return;
    this.settled = true;
    for (const handle of this.handles.values()) this.timers.clearTimeout(handle);
    this.onSettle();
    outcome();
  }

  private arm(name: 'deadline' | 'poll', callback: () => void, ms: number): void {
    if (!this.settled) this.handles.set(name, this.timers.setTimeout(callback, ms));
  }
}
