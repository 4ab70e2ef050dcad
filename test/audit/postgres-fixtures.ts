// Test fixtures for the PostgreSQL audit store: a throwaway database and a small frame chain.

import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import pg from 'pg';
import { frameHash, genesisHash } from '../../src/audit/audit-chain';
import type { AuditEvent } from '../../src/audit/audit-events';
import { encodeFrame } from '../../src/audit/audit-frame-codec';
import { signCheckpoint, signRotation, type AuditSigningKey } from '../../src/audit/audit-signing';
import type { EncodedFrame } from '../../src/audit/audit-store';

/** The test server: trust authentication, so any existing role connects without a password. */
const SERVER = '127.0.0.1:5432';

/** A database made for one test, and a superuser connection to it. */
export interface AuditDatabase {
  readonly name: string;
  /** Connection string of the superuser `postgres` to this database. */
  readonly url: string;
  /** Connected as `postgres`; ended when the test ends. */
  readonly admin: pg.Client;
  /** Connection string for `role` to this database. */
  urlFor(role: string): string;
  /** Creates a login role, dropped with the database when the test ends. */
  createRole(): Promise<string>;
  /** Runs `close` when the test ends, before the database is dropped; last deferred first. */
  defer(close: () => Promise<unknown>): void;
}

/**
 * Creates `infergate_audit_test_<random>` and drops it, and any roles made, in `t.after`,
 * after everything deferred (`t.after` hooks run first to last, so closers registered later
 * would run after the drop and see their connections terminated).
 */
export async function createAuditDatabase(t: TestContext): Promise<AuditDatabase> {
  const name = `infergate_audit_test_${randomBytes(6).toString('hex')}`;
  const roles: string[] = [];
  const closers: (() => Promise<unknown>)[] = [];
  await onServer(async (server) => server.query(`CREATE DATABASE ${name}`));
  const urlFor = (role: string): string => `postgres://${role}@${SERVER}/${name}`;
  const admin = new pg.Client({ connectionString: urlFor('postgres') });
  await admin.connect();
  t.after(async () => {
    for (const close of closers.reverse()) await close();
    await admin.end();
    await dropDatabase(name, roles);
  });
  const createRole = async (): Promise<string> => {
    const role = `${name}_r${roles.length}`;
    await admin.query(`CREATE ROLE ${role} LOGIN`);
    roles.push(role);
    return role;
  };
  const defer = (close: () => Promise<unknown>): void => void closers.push(close);
  return { name, url: urlFor('postgres'), admin, urlFor, createRole, defer };
}

async function dropDatabase(name: string, roles: readonly string[]): Promise<void> {
  await onServer(async (server) => {
    // A pool left open by a failing test would otherwise keep the database in use.
    await server.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [name],
    );
    await server.query(`DROP DATABASE IF EXISTS ${name}`);
    for (const role of roles) await server.query(`DROP ROLE IF EXISTS ${role}`);
  });
}

async function onServer(work: (server: pg.Client) => Promise<unknown>): Promise<void> {
  const server = new pg.Client({ connectionString: `postgres://postgres@${SERVER}/postgres` });
  await server.connect();
  try {
    await work(server);
  } finally {
    await server.end();
  }
}

/** Counts the rows of `logId` in the default table. */
export async function countRows(db: AuditDatabase, logId: string): Promise<number> {
  const result = await db.admin.query<{ n: string }>(
    'SELECT count(*) AS n FROM infergate_audit_frames WHERE log_id = $1',
    [logId],
  );
  return Number(result.rows[0]!.n);
}

/** Builds a valid chain of frames for one log, as a writer would. */
export class TestChain {
  private sequence = 0;
  private previous: Buffer;

  constructor(
    readonly logId: string,
    private key: AuditSigningKey,
  ) {
    this.previous = genesisHash(logId);
  }

  get lastSequence(): number {
    return this.sequence;
  }

  /** `frameHash` of the last frame built. */
  get lastHash(): Buffer {
    return this.previous;
  }

  /** `count` ordinary frames; `label` makes frames of two chains at one sequence differ. */
  events(count: number, label = 'test'): EncodedFrame[] {
    return Array.from({ length: count }, () => this.push({ gatewayStopped: { reason: label } }));
  }

  /** A checkpoint of the chain so far, signed by the current key. */
  checkpoint(): EncodedFrame {
    const event = signCheckpoint(this.key, this.logId, this.sequence, this.previous);
    return this.push({ checkpoint: event });
  }

  /** A rotation to `next`, which signs from here on. */
  rotate(next: AuditSigningKey): EncodedFrame {
    const event = signRotation(this.key, next, this.logId, this.sequence + 1);
    this.key = next;
    return this.push({ keyRotated: event });
  }

  private push(event: AuditEvent): EncodedFrame {
    this.sequence += 1;
    const bytes = encodeFrame({
      logId: this.logId,
      sequence: this.sequence,
      timeUnixMicros: this.sequence * 1_000,
      previousHash: this.previous,
      ...event,
    });
    this.previous = frameHash(bytes);
    return { sequence: this.sequence, bytes };
  }
}
