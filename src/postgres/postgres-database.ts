// What the PostgreSQL stores (audit frames, reviews) share: names, errors, schema scripts.

import pg from 'pg';
import type { ErrorCode } from '../errors/error-codes';
import { ProxyError } from '../errors/proxy-error';

/**
 * Unquoted lowercase identifiers only, so a configured name can be spliced into SQL without
 * quoting rules to get wrong (SQL injection through configuration). 48 characters leave room
 * for the suffixes of the trigger and its function within PostgreSQL's 63-byte names.
 */

const TABLE_NAME_PATTERN = /^[a-z_][a-z0-9_]{0,47}$/;

/** SQLSTATE classes that will not heal on a retry: bad credentials, no such database, grants. */
const CONFIGURATION_SQLSTATE_CLASSES: readonly string[] = ['28', '3D', '42'];

/** Whether `table` is safe to write into SQL: a lowercase identifier of at most 48 characters. */
export function isTableName(table: string): boolean {
  return TABLE_NAME_PATTERN.test(table);
}

/**
 * Returns `table` when it is a safe identifier (`isTableName`); throws ProxyError `code`
 * naming it as the `what` table otherwise. The table is looked up through the connection's
 * `search_path`.
 */
export function checkTableName(table: string, what: string, code: ErrorCode): string {
  if (isTableName(table)) return table;
  const message = `${what} table name ${JSON.stringify(table)} is not a lowercase identifier of at most 48 characters`;
  throw new ProxyError(code, message);
}

/**
 * Names the database of `connectionString` as `host:port/database` for messages and logs;
 * never the user's password, whatever form the string takes.
 */
export function describeDatabase(connectionString: string): string {
  if (connectionString.startsWith('/')) {
    const [socketDir, database] = connectionString.split(' ');
    return `${socketDir}/${database ?? ''}`;
  }
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    // The string is not echoed: it may hold a password, and pg will reject it with detail.
    return '(unparsable connection string)';
  }
  const query = url.searchParams;
  const host = query.get('host') ?? (decodeURIComponent(url.hostname) || 'localhost');
  const port = query.get('port') ?? (url.port || '5432');
  const database =
    decodeURIComponent(url.pathname.slice(1)) || query.get('db') || url.username || 'postgres';
  return `${host}:${port}/${database}`;
}

/** The SQLSTATE of a server error; undefined for anything else (a socket error, a bug). */
export function sqlState(error: unknown): string | undefined {
  return error instanceof pg.DatabaseError ? error.code : undefined;
}

/**
 * Whether a driver failure is one configuration must fix (credentials, a missing database,
 * grants) rather than one that may pass (network, server down, resources).
 */
export function isLastingFailure(error: unknown): boolean {
  const code = sqlState(error);
  return code !== undefined && CONFIGURATION_SQLSTATE_CLASSES.includes(code.slice(0, 2));
}

/**
 * Runs a schema script in one transaction under the advisory lock `lockName`: replicas starting
 * together would race on the catalog (CREATE TABLE IF NOT EXISTS is not safe under
 * concurrency); the lock makes them take turns.
 */
export async function runLockedScript(pool: pg.Pool, lockName: string, script: string) {
  const client = await pool.connect();
  try {
    const lock = `SELECT pg_advisory_xact_lock(hashtext('${lockName}'))`;
    await client.query(`BEGIN; ${lock};${script}COMMIT;`);
    client.release();
  } catch (err) {
    // A broken client must not go back to the pool mid-transaction: release(err) destroys it.
    client.release(err instanceof Error ? err : true);
    throw err;
  }
}
