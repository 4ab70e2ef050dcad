// The PostgreSQL revocation table: its name, its DDL, and how its failures become ProxyErrors.

import type pg from 'pg';
import { checkTableName, runLockedScript } from '../postgres/postgres-database';
import { ProxyError } from '../errors/proxy-error';

/** The table revocations go to when the configuration names none. */
export const DEFAULT_REVOCATION_TABLE = 'infergate_revocations';

/** Returns `table` when it is a safe identifier; throws ProxyError `ERR_CONFIG_INVALID` otherwise. */
export function checkRevocationTableName(table: string): string {
  return checkTableName(table, 'revocation', 'ERR_CONFIG_INVALID');
}

/**
 * The DDL of the revocation table, as one script that is safe to run again. `id` orders the
 * rows, so a gateway reads only those after the last it saw; a value is revoked at most once.
 */
export function revocationSchemaScript(table: string): string {
  const name = checkRevocationTableName(table);
  return `
CREATE TABLE IF NOT EXISTS ${name} (
  id bigserial PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('certificate', 'token')),
  value text NOT NULL,
  revoked_at timestamptz NOT NULL DEFAULT now(),
  reason text NOT NULL,
  revoked_by text NOT NULL,
  UNIQUE (kind, value)
);
`;
}

/**
 * Makes sure the table exists, creating it when not. Failures reject as the driver raised them,
 * for the caller to word. Limitation: a table dropped while gateways run makes them refuse
 * every exchange once stale, but the next gateway or command to start creates it anew, empty,
 * and the running ones then read that empty list: every revocation is withdrawn.
 */
export async function ensureRevocationSchema(pool: pg.Pool, table: string): Promise<void> {
  const found = await pool.query<{ has_table: boolean }>(
    'SELECT to_regclass($1) IS NOT NULL AS has_table',
    [table],
  );
  // A gateway whose role cannot create objects finds the table in place and skips the DDL.
  if (found.rows[0]!.has_table) return;

  await runLockedScript(pool, 'infergate.revocations.schema', revocationSchemaScript(table));
}

/**
 * Wraps a driver failure as ProxyError `ERR_IDENTITY_UNAVAILABLE`, whatever its cause: without
 * the list no caller can be told apart from a revoked one. A ProxyError passes through.
 */
export function revocationDatabaseError(cause: unknown, message: string): ProxyError {
  if (cause instanceof ProxyError) return cause;
  return new ProxyError('ERR_IDENTITY_UNAVAILABLE', message, { cause });
}
