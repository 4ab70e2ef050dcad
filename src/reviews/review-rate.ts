// Requests and tokens per identity in a fixed window: the rate condition of a review rule.

import { LRUCache } from 'lru-cache';
import type { ReviewRateConfig } from '../config/gateway-config';

/** Identities one rate condition keeps counts for; the least recently seen are dropped first. */
export const DEFAULT_MAX_RATE_SUBJECTS = 10_000;

interface RateWindow {
  startMs: number;
  requests: number;
  tokens: number;
}

/**
 * Counts, per identity subject, the requests and tokens of the current window of `windowMs`,
 * and says whether the next request would exceed a bound. A request's tokens are first its
 * stated max tokens, a reservation, so concurrent requests cannot pass the bound together;
 * `settle` replaces the reservation with the usage the upstream reported once the response
 * is in. Time is always passed in, never read.
 */
export class ReviewRate {
  private readonly windows: LRUCache<string, RateWindow>;

  /** Whether tokens are bounded, so reported usage matters; requests alone need none. */
  readonly boundsTokens: boolean;

  constructor(
    private readonly bound: ReviewRateConfig,
    maxSubjects = DEFAULT_MAX_RATE_SUBJECTS,
  ) {
    this.boundsTokens = bound.tokens !== undefined;
    // Limitation: memory is bounded by dropping the least recently seen identity, whose counts
    // start again from zero; an attacker needs that many identities of their own to use it.
    this.windows = new LRUCache<string, RateWindow>({ max: maxSubjects });
  }

  /**
   * Counts one request of `subject` asking for `tokens` and returns whether it exceeds a bound:
   * whether the requests and tokens already counted in this window, plus this one, are more
   * than the configuration allows. Requests are counted whether or not they exceed.
   */
  count(subject: string, tokens: number, nowMs: number): boolean {
    const window = this.current(subject, nowMs);
    const exceeds = this.exceeds(window.requests + 1, window.tokens + tokens);

    window.requests += 1;
    window.tokens += tokens;
    return exceeds;
  }

  /**
   * Replaces the `reservedTokens` a request of `subject` counted at `countedAtMs` with the
   * `usedTokens` its response reported (prompt and completion). Ignored once that request's
   * window has ended: its reservation is not in the window counting now.
   */
  settle(
    subject: string,
    reservedTokens: number,
    usedTokens: number,
    countedAtMs: number,
    nowMs: number,
  ): void {
    const window = this.windows.get(subject);
    if (window === undefined || this.expired(window, nowMs) || window.startMs > countedAtMs) {
      return;
    }
    window.tokens = Math.max(0, window.tokens + usedTokens - reservedTokens);
  }

  /** Requests and tokens counted for `subject` in the window holding `nowMs`. */
  counted(subject: string, nowMs: number): { requests: number; tokens: number } {
    const window = this.windows.peek(subject);
    if (window === undefined || this.expired(window, nowMs)) return { requests: 0, tokens: 0 };
    return { requests: window.requests, tokens: window.tokens };
  }

  private exceeds(requests: number, tokens: number): boolean {
    const { requests: maxRequests, tokens: maxTokens } = this.bound;
    return (
      (maxRequests !== undefined && requests > maxRequests) ||
      (maxTokens !== undefined && tokens > maxTokens)
    );
  }

  // Limitation: a fixed window lets an identity send up to twice the bound across a window
  // boundary; a sliding window would need a count per request or a weighted estimate.
  private current(subject: string, nowMs: number): RateWindow {
    const found = this.windows.get(subject);
    if (found !== undefined && !this.expired(found, nowMs)) return found;
    const window = { startMs: nowMs, requests: 0, tokens: 0 };
    this.windows.set(subject, window);
    return window;
  }

  private expired(window: RateWindow, nowMs: number): boolean {
    return nowMs - window.startMs >= this.bound.windowMs;
  }
}
