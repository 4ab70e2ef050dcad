// Reviews kept in memory: one gateway, lost at restart, compare-and-set by version.

import { ProxyError } from '../errors/proxy-error';
import type { Review, ReviewStore } from './review-store';

/**
 * A ReviewStore in a Map. Stored reviews are frozen, so a caller holding one cannot change
 * what another reads.
 */
// Limitation: nothing is persisted and nothing is removed; pending reviews and unused grants
// are lost at restart, and decided reviews stay in memory until then.
export class MemoryReviewStore implements ReviewStore {
  readonly description = 'memory';
  private readonly reviews = new Map<string, Review>();

  /** Rejects with ERR_REVIEW_STORE_INVALID when the id exists or the version is not 1. */
  async create(review: Review): Promise<void> {
    if (this.reviews.has(review.id)) {
      throw new ProxyError('ERR_REVIEW_STORE_INVALID', `review ${review.id} is stored twice`);
    }
    if (review.version !== 1) {
      throw new ProxyError('ERR_REVIEW_STORE_INVALID', `review ${review.id} is not version 1`);
    }
    this.reviews.set(review.id, freeze(review));
  }

  async get(id: string): Promise<Review | undefined> {
    return this.reviews.get(id);
  }

  async listPending(limit: number): Promise<Review[]> {
    const pending = [...this.reviews.values()].filter((review) => review.state === 'pending');
    pending.sort((a, b) => a.createdAtMs - b.createdAtMs || (a.id < b.id ? -1 : 1));
    return pending.slice(0, limit);
  }

  /**
   * False when the stored version is not `expectedVersion` or the review is unknown. Rejects
   * with ERR_REVIEW_STORE_INVALID when `next` skips a version: a bug, which retrying would loop on.
   */
  async compareAndSet(expectedVersion: number, next: Review): Promise<boolean> {
    if (next.version !== expectedVersion + 1) {
      const reason = `review ${next.id} version ${next.version} does not follow ${expectedVersion}`;
      throw new ProxyError('ERR_REVIEW_STORE_INVALID', reason);
    }
    const current = this.reviews.get(next.id);
    if (current === undefined || current.version !== expectedVersion) return false;

    this.reviews.set(next.id, freeze(next));
    return true;
  }

  async close(): Promise<void> {
    // Nothing to release: the Map goes with the store.
  }
}

function freeze(review: Review): Review {
  Object.freeze(review.decisions);
  Object.freeze(review.grant);
  return Object.freeze(review);
}
