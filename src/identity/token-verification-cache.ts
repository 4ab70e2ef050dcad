// Verified tokens remembered per certificate, so a caller's every request is not a signature check.

import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { TokenFacts } from './identity';

/** How many verified tokens are kept; the least recently used goes first. */
export const TOKEN_CACHE_MAX_ENTRIES = 10_000;

/**
 * Longest time a verification is reused, however late the token expires: a key the issuer
 * withdraws from its set stops opening doors within this time, not only at the tokens' `exp`.
 */
export const TOKEN_CACHE_MAX_AGE_MS = 5 * 60_000;

/**
 * Successful verifications, keyed by the token and the certificate it was presented with: the
 * same token on another connection's certificate is a miss and is checked, and refused, in full.
 * Failures are never stored, so a refusal cannot outlive its cause (a key set back online).
 */
export class TokenVerificationCache {
  private readonly now: () => number;
  private readonly entries: LRUCache<string, CachedVerification>;

  constructor(now: () => number, maxEntries = TOKEN_CACHE_MAX_ENTRIES) {
    this.now = now;
    // TTLs on the injected clock, read on every access (no resolution window), so lru-cache
    // evicts on the same time line as the check in `get`.
    this.entries = new LRUCache({ max: maxEntries, perf: { now }, ttlResolution: 0 });
  }

  /** The facts of an earlier verification, unless the token expired or the reuse ran out. */
  get(token: string, thumbprint: string): TokenFacts | undefined {
    const key = cacheKey(token, thumbprint);
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;

    // Checked here, not left to the TTL alone: an entry never outlives the token's `exp`.
    if (this.now() >= entry.validUntilMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.facts;
  }

  /** Remembers a verification until the token expires, or for the longest reuse if sooner. */
  set(token: string, thumbprint: string, facts: TokenFacts): void {
    const now = this.now();
    const validUntilMs = Math.min(facts.expiresAt.getTime(), now + TOKEN_CACHE_MAX_AGE_MS);
    if (validUntilMs <= now) return;
    this.entries.set(
      cacheKey(token, thumbprint),
      { facts, validUntilMs },
      {
        ttl: validUntilMs - now,
      },
    );
  }
}

interface CachedVerification {
  readonly facts: TokenFacts;
  readonly validUntilMs: number;
}

/**
 * A digest instead of the token itself, so the heap holds no bearer tokens a memory dump could
 * hand to an attacker. The thumbprint is 43 base64url characters, so the key is unambiguous.
 */
function cacheKey(token: string, thumbprint: string): string {
  return thumbprint + createHash('sha256').update(token).digest('base64url');
}
