// The PostgreSQL audit table: its name, its DDL and its append-only guard.

import type pg from 'pg';
import { checkTableName, isLastingFailure, runLockedScript } from '../postgres/postgres-database';
import { ProxyError } from '../errors/proxy-error';

/** The table audit frames go to when the configuration names none. */
export const DEFAULT_AUDIT_TABLE = 'infergate_audit_frames';

/** The names a table's append-only guard is created under. */
function guardNames(table: string): { readonly fn: string; readonly trigger: string } {
  return { fn: `${table}_refuse_change`, trigger: `${table}_append_only` };
}

/** Returns `table` when it is a safe identifier; throws ProxyError `ERR_AUDIT_STORE_INVALID` otherwise. */
export function checkAuditTableName(table: string): string {
  return checkTableName(table, 'audit', 'ERR_AUDIT_STORE_INVALID');
}

/**
 * The DDL of the audit table, as one script that is safe to run again.
 *
 * Frames are append-only. The gateway's role should be able to add and read frames and nothing
 * else, so an attacker holding its credentials cannot rewrite history. Run the script as the
 * owning role, then, for a gateway role `infergate_gateway` and the default table:
 *
 *   REVOKE ALL ON infergate_audit_frames FROM PUBLIC;
 *   REVOKE UPDATE, DELETE, TRUNCATE ON infergate_audit_frames FROM infergate_gateway;
 *   GRANT USAGE ON SCHEMA public TO infergate_gateway;
 *   GRANT SELECT, INSERT ON infergate_audit_frames TO infergate_gateway;
 *
 * A gateway whose role cannot create objects finds the table and trigger in place and skips
 * the script. The trigger is the second defence, against a role that was granted too much: it
 * refuses every UPDATE, DELETE and TRUNCATE, even ones that would touch no row.
 */
// Limitation: the table's owner or a superuser can still disable the trigger and edit rows;
// only the hash chain and its signed checkpoints reveal that, when the log is verified.
export function auditSchemaScript(table: string): string {
  const name = checkAuditTableName(table);
  const { fn, trigger } = guardNames(name);
  return `
CREATE TABLE IF NOT EXISTS ${name} (
  log_id text NOT NULL,
  sequence bigint NOT NULL,
  frame bytea NOT NULL,
  written_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (log_id, sequence)
);
CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION 'audit frames are append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$fn$;
DROP TRIGGER IF EXISTS ${trigger} ON ${name};
CREATE TRIGGER ${trigger} BEFORE UPDATE OR DELETE OR TRUNCATE ON ${name}
  FOR EACH STATEMENT EXECUTE FUNCTION ${fn}();
`;
}

/** What `ensureAuditSchema` found before deciding whether to run the DDL. */
interface SchemaState {
  readonly has_table: boolean;
  readonly has_guard: boolean;
  readonly synchronous_commit: string;
}

/**
 * Makes sure the table and its enabled append-only trigger exist, creating them when not.
 * Rejects with ProxyError `ERR_AUDIT_STORE_INVALID` when `synchronous_commit` is off, since a
 * committed frame could then be lost in a crash; other failures reject as the driver raised
 * them, for the caller to classify.
 */
export async function ensureAuditSchema(
  pool: pg.Pool,
  table: string,
  target: string,
): Promise<void> {
  const state = await readSchemaState(pool, table);
  if (state.synchronous_commit === 'off') {
    throw new ProxyError(
      'ERR_AUDIT_STORE_INVALID',
      `audit database ${target} has synchronous_commit off, so committed frames are not durable`,
    );
  }

  if (state.has_table && state.has_guard) return;

  await runSchemaScript(pool, table);
}

async function readSchemaState(pool: pg.Pool, table: string): Promise<SchemaState> {
  const result = await pool.query<SchemaState>(
    `SELECT to_regclass($1) IS NOT NULL AS has_table,
       EXISTS (SELECT 1 FROM pg_trigger
         WHERE tgrelid = to_regclass($1) AND tgname = $2 AND tgenabled <> 'D') AS has_guard,
       current_setting('synchronous_commit') AS synchronous_commit`,
    [table, guardNames(table).trigger],
  );
  return result.rows[0]!;
}

function runSchemaScript(pool: pg.Pool, table: string): Promise<void> {
  return runLockedScript(pool, 'infergate.audit.schema', auditSchemaScript(table));
}

/**
 * Wraps a driver failure as a ProxyError: `ERR_AUDIT_STORE_INVALID` for what configuration
 * must fix (credentials, a missing database, grants), `ERR_AUDIT_UNAVAILABLE` for the rest
 * (network, server down, resources), which may pass. A ProxyError passes through.
 */
export function auditDatabaseError(cause: unknown, message: string): ProxyError {
  if (cause instanceof ProxyError) return cause;
  const code = isLastingFailure(cause) ? 'ERR_AUDIT_STORE_INVALID' : 'ERR_AUDIT_UNAVAILABLE';
  return new ProxyError(code, message, { cause });
}
