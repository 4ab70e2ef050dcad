// Reviews of risky requests and the grants they yield: the record kept, and where it is kept.

/** Who asked for the request under review, as identity established it. */
export interface ReviewRequester {
  /** The token's `sub` (or the certificate's common name without tokens). */
  readonly subject: string;
  /** RFC 8705 thumbprint of the client certificate the request came with. */
  readonly certificateThumbprint: string;
  readonly roles: readonly string[];
}

/** A reviewer's identity, from the admin listener's mTLS and token. */
export interface Reviewer {
  readonly subject: string;
  readonly certificateThumbprint: string;
  readonly roles: readonly string[];
}

/** What a reviewer sees of the request: the facts and the masked prompt, never card data. */
export interface ReviewedRequest {
  readonly listener: string;
  readonly operation: string;
  readonly model: string | undefined;
  readonly route: string | undefined;
  readonly facts: Readonly<Record<string, string>>;
  readonly maskedPrompt: readonly string[];
}

/** One reviewer's verdict. */
export interface ReviewDecision {
  readonly reviewer: Reviewer;
  readonly verdict: 'approve' | 'deny';
  readonly reason: string;
  readonly atMs: number;
}

/**
 * `pending` until enough approvals (`approved`), one denial (`denied`) or `expiresAtMs`
 * (`expired`); an approved review's grant is `unused` until the requester's retry uses it.
 */
export type ReviewState = 'pending' | 'approved' | 'denied' | 'expired';

/** The single-use permission an approved review yields. */
export interface ReviewGrant {
  /** The grant may be used until then. */
  readonly expiresAtMs: number;
  /** When the requester's retry used it; undefined while unused. */
  readonly usedAtMs: number | undefined;
}

/** A review as stored. Every change writes a new version; nothing is ever deleted. */
export interface Review {
  readonly id: string;
  /** Increases by one with every change; the store's compare-and-set compares it. */
  readonly version: number;
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
  readonly requester: ReviewRequester;
  /** The name of the rule that matched. */
  readonly rule: string;
  /** Hex SHA-256 of the request as the gateway saw it: a grant is for this request only. */
  readonly requestDigest: string;
  readonly request: ReviewedRequest;
  /** Roles whose holders may decide; never the requester, whatever their roles. */
  readonly reviewerRoles: readonly string[];
  readonly approvalsRequired: number;
  /** How long a grant stays usable after the approval that completes the review. */
  readonly grantTtlMs: number;
  readonly decisions: readonly ReviewDecision[];
  readonly state: ReviewState;
  readonly grant: ReviewGrant | undefined;
}

/**
 * Where reviews are kept: in memory for one gateway, in PostgreSQL for several replicas, so
 * a review created on one replica can be approved through another and its grant used on a
 * third. The store knows nothing of the rules: `review-decisions.ts` computes each next version
 * and the store only keeps versions in order.
 */
export interface ReviewStore {
  /** A short description for logs: `memory`, a database. */
  readonly description: string;
  /** Stores a new review (version 1); rejects when its id exists. */
  create(review: Review): Promise<void>;
  get(id: string): Promise<Review | undefined>;
  /** Reviews in `pending` state, oldest first, at most `limit`. */
  listPending(limit: number): Promise<Review[]>;
  /**
   * Replaces the review whose id and version match `expectedVersion` with `next` (whose
   * version is one more); false when another change came first, so the caller reads again.
   */
  compareAndSet(expectedVersion: number, next: Review): Promise<boolean>;
  close(): Promise<void>;
}
