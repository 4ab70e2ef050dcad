// A review store in PostgreSQL: every gateway replica reads and decides reviews in one table.

import pg from 'pg';
import { describeDatabase, sqlState } from '../postgres/postgres-database';
import { ProxyError } from '../errors/proxy-error';
import { decodeReviewDocument } from './postgres-review-document';
import {
  DEFAULT_REVIEW_TABLE,
  checkReviewTableName,
  ensureReviewSchema,
  reviewDatabaseError,
} from './postgres-review-schema';
import type { Review, ReviewStore } from './review-store';

/**
 * A request that waits forever on a connection blocks its exchange; failing fast lets the
 * gateway refuse requests that need review (fail closed) while the database is away.
 */
const CONNECT_TIMEOUT_MS = 5_000;

/** SQLSTATE `unique_violation`. */
const UNIQUE_VIOLATION = '23505';

/** Where a PostgreSQL review store keeps reviews. */
export interface PostgresReviewStoreOptions {
  /** A `postgres://` URL; its password never appears in messages or `description`. */
  readonly connectionString: string;
  /** The table, a lowercase identifier; `infergate_reviews` when absent. */
  readonly table?: string;
  /** A pool to use instead of one made from `connectionString`; the caller ends it. */
  readonly pool?: pg.Pool;
}

interface ReviewRow {
  readonly id: string;
  readonly version: number;
  readonly state: string;
  readonly review: unknown;
}

/**
 * Keeps each review as one row, its latest version. Replicas share the table, so every change
 * is a compare-and-set on `version` in a single UPDATE: under READ COMMITTED a racing UPDATE
 * waits for the row lock and then re-checks `version` against the committed row, so of two
 * decisions from the same version exactly one is applied and a grant is used at most once.
 *
 * Failures reject with ProxyError `ERR_REVIEW_STORE_UNAVAILABLE` when the database cannot be
 * reached and `ERR_REVIEW_STORE_INVALID` when it refuses us (credentials, grants, a table we
 * cannot create) or a stored row does not read as a review.
 */
export class PostgresReviewStore implements ReviewStore {
  readonly description: string;
  private readonly table: string;
  private readonly target: string;
  private readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private schema: Promise<void> | undefined;

  /** Throws ProxyError `ERR_REVIEW_STORE_INVALID` for a table name that is not an identifier. */
  constructor(options: PostgresReviewStoreOptions) {
    this.table = checkReviewTableName(options.table ?? DEFAULT_REVIEW_TABLE);
    this.target = describeDatabase(options.connectionString);
    this.description = `PostgreSQL ${this.target} table ${this.table}`;
    this.ownsPool = options.pool === undefined;
    this.pool = options.pool ?? createPool(options.connectionString);
  }

  /**
   * Inserts `review`, whose version must be 1. Rejects with `ERR_REVIEW_STORE_INVALID` naming
   * the id when a review with that id exists.
   */
  async create(review: Review): Promise<void> {
    if (review.version !== 1) throw this.versionError(review, 'version 1');

    try {
      await this.ready();
      await this.pool.query(
        `INSERT INTO ${this.table} (id, version, state, created_at_ms, expires_at_ms, review)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb)`,
        [review.id, ...reviewColumns(review)],
      );
    } catch (err) {
      if (sqlState(err) === UNIQUE_VIOLATION) {
        const message = `review ${review.id} already exists in ${this.description}`;
        throw new ProxyError('ERR_REVIEW_STORE_INVALID', message, { cause: err });
      }
      throw reviewDatabaseError(err, `cannot create review ${review.id} in ${this.description}`);
    }
  }

  /** The latest version of review `id`; undefined when there is none. */
  async get(id: string): Promise<Review | undefined> {
    const rows = await this.select(`cannot read review ${id} from ${this.description}`, {
      filter: 'id = $1',
      params: [id],
    });
    return rows[0];
  }

  /** Pending reviews, oldest `createdAtMs` first (ties by id); none when `limit` is below 1. */
  async listPending(limit: number): Promise<Review[]> {
    const rows = Math.floor(limit);
    if (!(rows >= 1)) return [];

    return this.select(`cannot list pending reviews in ${this.description}`, {
      filter: "state = 'pending' ORDER BY created_at_ms, id LIMIT $1",
      params: [rows],
    });
  }

  /**
   * Replaces the row of `next.id` when its version is `expectedVersion`; false when it is not,
   * or when there is no such review. Rejects with `ERR_REVIEW_STORE_INVALID` when
   * `next.version` is not `expectedVersion + 1`, which would break the order of versions.
   */
  async compareAndSet(expectedVersion: number, next: Review): Promise<boolean> {
    if (next.version !== expectedVersion + 1) {
      throw this.versionError(next, `version ${expectedVersion + 1}`);
    }

    try {
      await this.ready();
      const result = await this.pool.query(
        `UPDATE ${this.table}
         SET version = $3, state = $4, created_at_ms = $5, expires_at_ms = $6,
           review = $7::jsonb, updated_at = now()
         WHERE id = $1 AND version = $2`,
        [next.id, expectedVersion, ...reviewColumns(next)],
      );
      return result.rowCount === 1;
    } catch (err) {
      const message = `cannot update review ${next.id} to version ${next.version} in ${this.description}`;
      throw reviewDatabaseError(err, message);
    }
  }

  /** Ends the pool when this store made it; an injected pool is left to its owner. */
  async close(): Promise<void> {
    this.schema = undefined;
    if (this.ownsPool && !this.pool.ended) await this.pool.end();
  }

  /** Creates the table once per store; a failed attempt is tried again by the next call. */
  private ready(): Promise<void> {
    this.schema ??= ensureReviewSchema(this.pool, this.table, this.target).catch((err) => {
      this.schema = undefined;
      throw err;
    });
    return this.schema;
  }

  /** Reads the rows `query.filter` (a WHERE condition, then any ORDER BY and LIMIT) selects. */
  private async select(
    failure: string,
    query: { readonly filter: string; readonly params: readonly unknown[] },
  ): Promise<Review[]> {
    let rows: ReviewRow[];
    try {
      await this.ready();
      const sql = `SELECT id, version, state, review FROM ${this.table} WHERE ${query.filter}`;
      rows = (await this.pool.query<ReviewRow>(sql, [...query.params])).rows;
    } catch (err) {
      throw reviewDatabaseError(err, failure);
    }
    return rows.map((row) => this.checkRow(row));
  }

  /**
   * Decodes a row and checks that its columns agree with its document: the compare-and-set
   * and the pending list trust the columns, the callers the document.
   */
  private checkRow(row: ReviewRow): Review {
    const where = `review ${row.id} in ${this.description}`;
    const review = decodeReviewDocument(row.review, where);
    const columns = `${row.id} version ${row.version} ${row.state}`;
    const document = `${review.id} version ${review.version} ${review.state}`;
    if (columns !== document) {
      const message = `${where} is stored as ${columns} but its document reads ${document}`;
      throw new ProxyError('ERR_REVIEW_STORE_INVALID', message);
    }
    return review;
  }

  private versionError(review: Review, expected: string): ProxyError {
    return new ProxyError(
      'ERR_REVIEW_STORE_INVALID',
      `review ${review.id} has version ${review.version} where ${expected} was expected`,
    );
  }
}

/** The columns after `id`, in table order: version, state, both times, the document. */
function reviewColumns(review: Review): unknown[] {
  return [
    review.version,
    review.state,
    review.createdAtMs,
    review.expiresAtMs,
    JSON.stringify(review),
  ];
}

function createPool(connectionString: string): pg.Pool {
  const pool = new pg.Pool({ connectionString, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // An idle connection that breaks (a server restart) is dropped by the pool and the next
  // query opens a new one or fails with its own error; without a listener the process dies.
  pool.on('error', () => undefined);
  return pool;
}
