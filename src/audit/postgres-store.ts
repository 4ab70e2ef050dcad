// An audit store in PostgreSQL: each replica appends its own log's frames to one shared table.

import pg from 'pg';
import { describeDatabase, sqlState } from '../postgres/postgres-database';
import { ProxyError } from '../errors/proxy-error';
import { frameHash } from './audit-chain';
import { decodeFrame, type DecodedFrame } from './audit-frame-codec';
import type { AuditStore, ChainTail, EncodedFrame } from './audit-store';
import {
  DEFAULT_AUDIT_TABLE,
  auditDatabaseError,
  checkAuditTableName,
  ensureAuditSchema,
} from './postgres-schema';

/** Rows read per query while `open` looks back for the latest checkpoint or key rotation. */
const KEY_SEARCH_PAGE_ROWS = 256;

/**
 * A writer that waits forever on a connection blocks every exchange behind it; failing fast
 * lets the gateway refuse requests (fail closed) while the database is away.
 */
const CONNECT_TIMEOUT_MS = 5_000;

/** SQLSTATE `unique_violation`. */
const UNIQUE_VIOLATION = '23505';

/** Where a PostgreSQL audit store writes. */
export interface PostgresAuditStoreOptions {
  /** A `postgres://` URL; its password never appears in messages or `description`. */
  readonly connectionString: string;
  /** The table, a lowercase identifier; `infergate_audit_frames` when absent. */
  readonly table?: string;
  /** A pool to use instead of one made from `connectionString`; the caller ends it. */
  readonly pool?: pg.Pool;
}

interface FrameRow {
  readonly sequence: string;
  readonly frame: Buffer;
}

/**
 * Stores one log's frames as rows `(log_id, sequence, frame)`. Several gateways share a table,
 * each under its own log id; the primary key refuses a second writer on the same log. Rows are
 * only ever inserted (see `auditSchemaScript` for the grants and the trigger that enforce it).
 */
export class PostgresAuditStore implements AuditStore {
  readonly description: string;
  private readonly table: string;
  private readonly target: string;
  private readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private schemaReady = false;
  private logId: string | undefined;

  /** Throws ProxyError `ERR_AUDIT_STORE_INVALID` for a table name that is not an identifier. */
  constructor(options: PostgresAuditStoreOptions) {
    this.table = checkAuditTableName(options.table ?? DEFAULT_AUDIT_TABLE);
    this.target = describeDatabase(options.connectionString);
    this.description = `PostgreSQL ${this.target} table ${this.table}`;
    this.ownsPool = options.pool === undefined;
    this.pool = options.pool ?? createPool(options.connectionString);
  }

  /**
   * Creates the table if needed and reads the log's last row. Rejects with
   * `ERR_AUDIT_UNAVAILABLE` when the database cannot be reached, `ERR_AUDIT_STORE_INVALID`
   * when it refuses us (credentials, grants) or a row read does not decode as its frame.
   * A transaction is whole or absent, so `torn` is always undefined.
   */
  async open(logId: string): Promise<ChainTail> {
    if (logId === '') throw new ProxyError('ERR_AUDIT_STORE_INVALID', 'audit log id is empty');
    try {
      await this.ensureSchema();
      const tail = await this.readTail(logId);
      this.logId = logId;
      return tail;
    } catch (err) {
      throw auditDatabaseError(err, `cannot open audit log ${logId} in ${this.description}`);
    }
  }

  /**
   * Inserts `frames` in one transaction and resolves after COMMIT. Rejects with
   * `ERR_AUDIT_STORE_INVALID` when another writer already stored one of these sequences, and
   * with `ERR_AUDIT_UNAVAILABLE` for any other failure, after which none of `frames` is stored
   * and the same frames may be appended again.
   */
  async append(frames: readonly EncodedFrame[]): Promise<void> {
    const logId = this.logId;
    if (logId === undefined) {
      throw new ProxyError('ERR_AUDIT_UNAVAILABLE', `${this.description} is not open`);
    }
    if (frames.length === 0) return;

    try {
      await this.insert(logId, frames);
    } catch (err) {
      if (sqlState(err) !== UNIQUE_VIOLATION) {
        throw new ProxyError('ERR_AUDIT_UNAVAILABLE', this.appendFailure(logId, frames), {
          cause: err,
        });
      }
      await this.settleConflict(logId, frames, err);
    }
  }

  /** Ends the pool when this store made it; an injected pool is left to its owner. */
  async close(): Promise<void> {
    this.logId = undefined;
    if (this.ownsPool && !this.pool.ended) await this.pool.end();
  }

  private async ensureSchema(): Promise<void> {
    if (this.schemaReady) return;
    await ensureAuditSchema(this.pool, this.table, this.target);
    this.schemaReady = true;
  }

  private async readTail(logId: string): Promise<ChainTail> {
    const rows = await this.rowsBefore(logId, undefined, 1);
    const last = rows[0];
    if (last === undefined) {
      return { lastSequence: 0, lastHash: undefined, lastKeyId: undefined, torn: undefined };
    }
    const lastSequence = this.checkRow(logId, last).sequence;
    const lastKeyId = await this.findLastKeyId(logId, rows);
    return { lastSequence, lastHash: frameHash(last.frame), lastKeyId, torn: undefined };
  }

  /** Walks the log backwards from `page` until a checkpoint or key rotation names a key. */
  private async findLastKeyId(
    logId: string,
    page: readonly FrameRow[],
  ): Promise<string | undefined> {
    let rows = page;
    while (rows.length > 0) {
      for (const row of rows) {
        const frame = this.checkRow(logId, row);
        if (frame.kind === 'checkpoint' || frame.kind === 'keyRotated') return frame.body.keyId;
      }
      rows = await this.rowsBefore(logId, rows[rows.length - 1]!.sequence, KEY_SEARCH_PAGE_ROWS);
    }
    return undefined;
  }

  /** Up to `limit` rows of the log, newest first, below `sequence` when given. */
  private async rowsBefore(
    logId: string,
    sequence: string | undefined,
    limit: number,
  ): Promise<FrameRow[]> {
    const result = await this.pool.query<FrameRow>(
      `SELECT sequence, frame FROM ${this.table}
       WHERE log_id = $1 AND ($2::bigint IS NULL OR sequence < $2::bigint)
       ORDER BY sequence DESC LIMIT $3`,
      [logId, sequence ?? null, limit],
    );
    return result.rows;
  }

  /**
   * Decodes a row and checks that the frame is filed where it claims to be; a writer that
   * continued from a misfiled frame would chain onto the wrong history.
   */
  private checkRow(logId: string, row: FrameRow): DecodedFrame {
    const where = `row ${logId}/${row.sequence}`;
    let frame: DecodedFrame;
    try {
      frame = decodeFrame(row.frame);
    } catch (err) {
      throw new ProxyError('ERR_AUDIT_STORE_INVALID', `audit ${where} does not decode`, {
        cause: err,
      });
    }
    if (frame.logId !== logId || String(frame.sequence) !== row.sequence) {
      throw new ProxyError(
        'ERR_AUDIT_STORE_INVALID',
        `audit ${where} holds frame ${frame.logId}/${frame.sequence}`,
      );
    }
    return frame;
  }

  private async insert(logId: string, frames: readonly EncodedFrame[]): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO ${this.table} (log_id, sequence, frame)
         SELECT $1, s, f FROM unnest($2::bigint[], $3::bytea[]) AS u(s, f)`,
        [logId, frames.map((f) => f.sequence), frames.map((f) => f.bytes)],
      );
      await client.query('COMMIT');
      client.release();
    } catch (err) {
      await rollback(client);
      throw err;
    }
  }

  /**
   * A unique violation is either a retry of frames whose COMMIT succeeded but whose answer was
   * lost (every frame already stored, byte for byte: success), or a second writer on this log.
   */
  private async settleConflict(
    logId: string,
    frames: readonly EncodedFrame[],
    conflict: unknown,
  ): Promise<void> {
    let stored: Map<string, Buffer>;
    try {
      stored = await this.storedFrames(logId, frames);
    } catch (err) {
      throw new ProxyError('ERR_AUDIT_UNAVAILABLE', this.appendFailure(logId, frames), {
        cause: err,
      });
    }
    const alreadyStored = frames.every((f) => stored.get(String(f.sequence))?.equals(f.bytes));
    if (alreadyStored) return;
    throw new ProxyError(
      'ERR_AUDIT_STORE_INVALID',
      `two writers share audit log id ${logId}: another one already stored its frames in ${this.description}`,
      { cause: conflict },
    );
  }

  private async storedFrames(
    logId: string,
    frames: readonly EncodedFrame[],
  ): Promise<Map<string, Buffer>> {
    const result = await this.pool.query<FrameRow>(
      `SELECT sequence, frame FROM ${this.table} WHERE log_id = $1 AND sequence = ANY($2::bigint[])`,
      [logId, frames.map((f) => f.sequence)],
    );
    return new Map(result.rows.map((row) => [row.sequence, row.frame]));
  }

  private appendFailure(logId: string, frames: readonly EncodedFrame[]): string {
    const first = frames[0]!.sequence;
    const last = frames[frames.length - 1]!.sequence;
    return `cannot append frames ${first}-${last} of audit log ${logId} to ${this.description}`;
  }
}

function createPool(connectionString: string): pg.Pool {
  const pool = new pg.Pool({ connectionString, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // An idle connection that breaks (a server restart) is dropped by the pool and the next
  // query opens a new one or fails with its own error; without a listener the process dies.
  pool.on('error', () => undefined);
  return pool;
}

/** Undoes the open transaction and hands the client back, destroying it if it is broken. */
async function rollback(client: pg.PoolClient): Promise<void> {
  try {
    await client.query('ROLLBACK');
    client.release();
  } catch (err) {
    // The connection is gone, and the server rolls back a transaction whose session ends; the
    // original failure is what the caller hears about.
    client.release(err instanceof Error ? err : true);
  }
}
