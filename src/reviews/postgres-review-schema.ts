// The PostgreSQL review table: its name, its DDL, and how its failures become ProxyErrors.

import type pg from 'pg';
import { checkTableName, isLastingFailure, runLockedScript } from '../postgres/postgres-database';
import { ProxyError } from '../errors/proxy-error';

/** The table reviews go to when the configuration names none. */
export const DEFAULT_REVIEW_TABLE = 'infergate_reviews';

/** Returns `table` when it is a safe identifier; throws ProxyError `ERR_REVIEW_STORE_INVALID` otherwise. */
export function checkReviewTableName(table: string): string {
  return checkTableName(table, 'review', 'ERR_REVIEW_STORE_INVALID');
}

/**
 * The DDL of the review table, as one script that is safe to run again. `version`, `state` and
 * the two times repeat fields of `review` so that the compare-and-set and the pending list are
 * plain indexed comparisons; the store writes them together, in one statement.
 */
export function reviewSchemaScript(table: string): string {
  const name = checkReviewTableName(table);
  return `
CREATE TABLE IF NOT EXISTS ${name} (
  id text PRIMARY KEY,
  version integer NOT NULL,
  state text NOT NULL,
  created_at_ms bigint NOT NULL,
  expires_at_ms bigint NOT NULL,
  review jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ${name}_state_created ON ${name} (state, created_at_ms);
`;
}

/** What `ensureReviewSchema` found before deciding whether to run the DDL. */
interface SchemaState {
  readonly has_table: boolean;
  readonly synchronous_commit: string;
}

/**
 * Makes sure the table exists, creating it when not. Rejects with ProxyError
 * `ERR_REVIEW_STORE_INVALID` when `synchronous_commit` is off: a committed use of a grant could
 * then be lost in a crash, and the single-use grant used a second time. Other failures reject
 * as the driver raised them, for the caller to classify.
 */
export async function ensureReviewSchema(
  pool: pg.Pool,
  table: string,
  target: string,
): Promise<void> {
  const state = await readSchemaState(pool, table);
  if (state.synchronous_commit === 'off') {
    throw new ProxyError(
      'ERR_REVIEW_STORE_INVALID',
      `review database ${target} has synchronous_commit off, so committed decisions are not durable`,
    );
  }

  // A gateway whose role cannot create objects finds the table in place and skips the DDL.
  if (state.has_table) return;

  await runSchemaScript(pool, table);
}

async function readSchemaState(pool: pg.Pool, table: string): Promise<SchemaState> {
  const result = await pool.query<SchemaState>(
    `SELECT to_regclass($1) IS NOT NULL AS has_table,
       current_setting('synchronous_commit') AS synchronous_commit`,
    [table],
  );
  return result.rows[0]!;
}

function runSchemaScript(pool: pg.Pool, table: string): Promise<void> {
  return runLockedScript(pool, 'infergate.reviews.schema', reviewSchemaScript(table));
}

/**
 * Wraps a driver failure as a ProxyError: `ERR_REVIEW_STORE_INVALID` for what configuration
 * must fix (credentials, a missing database, grants, a table we cannot create),
 * `ERR_REVIEW_STORE_UNAVAILABLE` for the rest (network, server down, resources), which may
 * pass. A ProxyError passes through.
 */
export function reviewDatabaseError(cause: unknown, message: string): ProxyError {
  if (cause instanceof ProxyError) return cause;
  const code = isLastingFailure(cause)
    ? 'ERR_REVIEW_STORE_INVALID'
    : 'ERR_REVIEW_STORE_UNAVAILABLE';
  return new ProxyError(code, message, { cause });
}
