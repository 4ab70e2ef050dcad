// Reads the audit logs of a PostgreSQL table, log by log, for verify and replay.

import pg from 'pg';
import { describeDatabase } from '../postgres/postgres-database';
import type { AuditSource, StoredRecord } from './audit-store';
import { DEFAULT_AUDIT_TABLE, auditDatabaseError, checkAuditTableName } from './postgres-schema';

/** Rows fetched per query; bounds memory whatever the size of the logs. */
const PAGE_ROWS = 1000;

const CONNECT_TIMEOUT_MS = 5_000;

/** Which logs of which table to read. */
export interface PostgresAuditSourceOptions {
  /** A `postgres://` URL; its password never appears in messages or `description`. */
  readonly connectionString: string;
  /** The table, a lowercase identifier; `infergate_audit_frames` when absent. */
  readonly table?: string;
  /** Only these logs; every log in the table when absent. */
  readonly logIds?: readonly string[];
}

interface FrameRow {
  readonly log_id: string;
  readonly sequence: string;
  readonly frame: Buffer;
}

/**
 * Yields every stored frame as a `frame` record, ordered by log id, then sequence. Rows come
 * back in sequence order whatever order they were written in, so frames swapped in the table
 * show up to a verifier as a broken chain rather than as a reordering. A table never holds a
 * partial frame, so there are no `damage` records.
 */
export class PostgresAuditSource implements AuditSource {
  readonly description: string;
  private readonly connectionString: string;
  private readonly table: string;
  private readonly logIds: readonly string[] | undefined;

  /** Throws ProxyError `ERR_AUDIT_STORE_INVALID` for a table name that is not an identifier. */
  constructor(options: PostgresAuditSourceOptions) {
    this.table = checkAuditTableName(options.table ?? DEFAULT_AUDIT_TABLE);
    this.connectionString = options.connectionString;
    this.logIds = options.logIds;
    const target = describeDatabase(options.connectionString);
    this.description = `PostgreSQL ${target} table ${this.table}`;
  }

  /**
   * Streams the rows over one connection, a page at a time, closing it when the iteration ends
   * or is abandoned. Rejects with ProxyError `ERR_AUDIT_UNAVAILABLE` when the database cannot
   * be reached, `ERR_AUDIT_STORE_INVALID` when it refuses the read (no table, no grant).
   */
  async *records(): AsyncGenerator<StoredRecord> {
    const client = new pg.Client({
      connectionString: this.connectionString,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    });
    try {
      await this.wrap(client.connect());
      let after: FrameRow | undefined;
      for (;;) {
        const rows = await this.wrap(this.page(client, after));
        for (const row of rows) yield toRecord(row);
        if (rows.length < PAGE_ROWS) return;
        after = rows[rows.length - 1];
      }
    } finally {
      await endQuietly(client);
    }
  }

  /** Keyset pagination: the next rows after `after` in (log_id, sequence) order. */
  private async page(client: pg.Client, after: FrameRow | undefined): Promise<FrameRow[]> {
    const conditions: string[] = [];
    const values: unknown[] = [];
    if (after !== undefined) {
      values.push(after.log_id, after.sequence);
      conditions.push('(log_id, sequence) > ($1, $2::bigint)');
    }
    if (this.logIds !== undefined) {
      values.push(this.logIds);
      conditions.push(`log_id = ANY($${values.length}::text[])`);
    }
    const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
    const result = await client.query<FrameRow>(
      `SELECT log_id, sequence, frame FROM ${this.table} ${where}
       ORDER BY log_id, sequence LIMIT ${PAGE_ROWS}`,
      values,
    );
    return result.rows;
  }

  private async wrap<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (err) {
      throw auditDatabaseError(err, `cannot read audit frames from ${this.description}`);
    }
  }
}

async function endQuietly(client: pg.Client): Promise<void> {
  try {
    await client.end();
  } catch {
    // The server ends the session when the socket goes; a failure here must not hide the
    // error, or the records, the iteration already produced.
  }
}

function toRecord(row: FrameRow): StoredRecord {
  return {
    kind: 'frame',
    logId: row.log_id,
    where: `row ${row.log_id}/${row.sequence}`,
    bytes: row.frame,
  };
}
