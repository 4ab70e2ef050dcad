// The revocation table in PostgreSQL: what every gateway replica reads and the command writes.

import pg from 'pg';
import { describeDatabase } from '../postgres/postgres-database';
import { ProxyError } from '../errors/proxy-error';
import {
  DEFAULT_REVOCATION_TABLE,
  checkRevocationTableName,
  ensureRevocationSchema,
  revocationDatabaseError,
} from './postgres-revocation-schema';
import {
  REVOCATION_KINDS,
  type NewRevocation,
  type Revocation,
  type RevocationKind,
} from './revocation-record';

/**
 * A query that waits forever would hold a refresh forever; failing lets the next one try, and
 * the list goes stale on time whatever a query does.
 */
const CONNECT_TIMEOUT_MS = 5_000;
const QUERY_TIMEOUT_MS = 10_000;

const COLUMNS = 'id, kind, value, revoked_at, reason, revoked_by';

/** Where a PostgreSQL revocation store keeps revocations. */
export interface PostgresRevocationStoreOptions {
  /** A `postgres://` URL; its password never appears in messages or `description`. */
  readonly connectionString: string;
  /** The table, a lowercase identifier; `infergate_revocations` when absent. */
  readonly table?: string;
}

/** The rows after a given id, and how many rows the table holds, read in one snapshot. */
export interface RevocationChanges {
  readonly rows: readonly Revocation[];
  readonly total: number;
}

interface RevocationRow {
  readonly id: string;
  readonly kind: string;
  readonly value: string;
  readonly revoked_at: Date;
  readonly reason: string;
  readonly revoked_by: string;
}

/**
 * The table behind every gateway's revocation list. Rows are only inserted and deleted, never
 * updated. Inserts take a transaction-scoped advisory lock, so ids commit in the order they are
 * given out and a reader that has seen id N has seen every row inserted before it; a deletion
 * shows as a row count lower than the rows a reader holds.
 *
 * Failures reject with ProxyError `ERR_IDENTITY_UNAVAILABLE` naming the table, never the
 * connection string's password.
 */
export class PostgresRevocationStore {
  readonly description: string;
  private readonly table: string;
  private readonly pool: pg.Pool;

  /** Throws ProxyError `ERR_CONFIG_INVALID` for a table name that is not an identifier. */
  constructor(options: PostgresRevocationStoreOptions) {
    this.table = checkRevocationTableName(options.table ?? DEFAULT_REVOCATION_TABLE);
    this.description = `PostgreSQL ${describeDatabase(options.connectionString)} table ${this.table}`;
    this.pool = createPool(options.connectionString);
  }

  /** Creates the table when it does not exist yet. */
  async open(): Promise<void> {
    try {
      await ensureRevocationSchema(this.pool, this.table);
    } catch (err) {
      throw revocationDatabaseError(err, `cannot open revocations in ${this.description}`);
    }
  }

  /** Every revocation, oldest id first. */
  async readAll(): Promise<Revocation[]> {
    const sql = `SELECT ${COLUMNS} FROM ${this.table} ORDER BY id`;
    const rows = await this.query<RevocationRow>(sql, [], 'cannot read revocations');
    return rows.map((row) => this.decode(row));
  }

  /**
   * The rows whose id is above `afterId`, oldest first, with the table's row count. One
   * statement, so both come from one snapshot even under READ COMMITTED.
   */
  async readAfter(afterId: string): Promise<RevocationChanges> {
    const sql = `SELECT t.id, t.kind, t.value, t.revoked_at, t.reason, t.revoked_by, c.total
      FROM (SELECT count(*) AS total FROM ${this.table}) AS c
      LEFT JOIN ${this.table} AS t ON t.id > $1::bigint
      ORDER BY t.id`;
    type Row = RevocationRow & { readonly total: string };
    const rows = await this.query<Row>(sql, [afterId], 'cannot refresh revocations');
    const total = Number(rows[0]?.total ?? 0);
    const found = rows.filter((row) => row.id !== null).map((row) => this.decode(row));
    return { rows: found, total };
  }

  /**
   * Revokes `revocation.value`; resolves with the row and whether this call made it. A value
   * revoked before is left as it was, with its first reason.
   */
  async add(revocation: NewRevocation): Promise<{ added: boolean; revocation: Revocation }> {
    const { kind, value, reason, revokedBy } = revocation;
    const inserted = await this.inTransaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.lockName()]);
      const sql = `INSERT INTO ${this.table} (kind, value, reason, revoked_by)
        VALUES ($1, $2, $3, $4) ON CONFLICT (kind, value) DO NOTHING RETURNING ${COLUMNS}`;
      return (await client.query<RevocationRow>(sql, [kind, value, reason, revokedBy])).rows[0];
    }, `cannot revoke ${kind} ${value}`);
    if (inserted !== undefined) return { added: true, revocation: this.decode(inserted) };

    const existing = await this.find(kind, value);
    if (existing === undefined) throw new ProxyError('ERR_IDENTITY_UNAVAILABLE', this.raced(kind));
    return { added: false, revocation: existing };
  }

  /** Withdraws the revocation of `value`; resolves with the row removed, or undefined. */
  async remove(kind: RevocationKind, value: string): Promise<Revocation | undefined> {
    const sql = `DELETE FROM ${this.table} WHERE kind = $1 AND value = $2 RETURNING ${COLUMNS}`;
    const rows = await this.query<RevocationRow>(sql, [kind, value], `cannot withdraw ${kind}`);
    return rows[0] === undefined ? undefined : this.decode(rows[0]);
  }

  /** Ends the pool; further calls reject. */
  async close(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }

  private async find(kind: RevocationKind, value: string): Promise<Revocation | undefined> {
    const sql = `SELECT ${COLUMNS} FROM ${this.table} WHERE kind = $1 AND value = $2`;
    const rows = await this.query<RevocationRow>(sql, [kind, value], 'cannot read revocations');
    return rows[0] === undefined ? undefined : this.decode(rows[0]);
  }

  private async query<R extends pg.QueryResultRow>(
    sql: string,
    params: readonly unknown[],
    failure: string,
  ): Promise<R[]> {
    try {
      return (await this.pool.query<R>(sql, [...params])).rows;
    } catch (err) {
      throw revocationDatabaseError(err, `${failure} in ${this.description}`);
    }
  }

  private async inTransaction<T>(work: (client: pg.PoolClient) => Promise<T>, failure: string) {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw revocationDatabaseError(err, `${failure} in ${this.description}`);
    }
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (err) {
      // A broken client must not go back to the pool mid-transaction: release(err) destroys it.
      client.release(err instanceof Error ? err : true);
      throw revocationDatabaseError(err, `${failure} in ${this.description}`);
    }
  }

  /** A row the table's CHECK should have kept out fails the read: the list is not guessed at. */
  private decode(row: RevocationRow): Revocation {
    const kind = REVOCATION_KINDS.find((known) => known === row.kind);
    if (kind === undefined) {
      const message = `revocation ${row.id} in ${this.description} has unknown kind ${JSON.stringify(row.kind)}`;
      throw new ProxyError('ERR_IDENTITY_UNAVAILABLE', message);
    }
    return {
      id: String(row.id),
      kind,
      value: row.value,
      revokedAt: row.revoked_at,
      reason: row.reason,
      revokedBy: row.revoked_by,
    };
  }

  private lockName(): string {
    return `infergate.revocations.${this.table}`;
  }

  private raced(kind: RevocationKind): string {
    return `the ${kind} revocation was withdrawn while it was being added in ${this.description}`;
  }
}

function createPool(connectionString: string): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
  });
  // An idle connection that breaks (a server restart) is dropped by the pool and the next
  // query opens a new one or fails with its own error; without a listener the process dies.
  pool.on('error', () => undefined);
  return pool;
}
