// The revocations one gateway holds in memory, loaded at start and refreshed from the table.

import type { Logger } from '../observe/logger';
import { ProxyError } from '../errors/proxy-error';
import type { RevocationChanges } from './postgres-revocation-store';
import type { RevocationCheck } from './revocation-check';
import type { Revocation } from './revocation-record';

/** Where the list reads revocations; the PostgreSQL store is one. */
export interface RevocationSource {
  readonly description: string;
  open(): Promise<void>;
  readAll(): Promise<readonly Revocation[]>;
  readAfter(afterId: string): Promise<RevocationChanges>;
  close(): Promise<void>;
}

/** How the list refreshes, and how long it may go without. */
export interface RevocationListOptions {
  readonly refreshIntervalMs: number;
  readonly maxStaleMs: number;
  readonly logger: Logger;
  /** Milliseconds since the epoch; `Date.now` unless a test moves time itself. */
  readonly now?: () => number;
}

/** The revoked values, by kind. */
interface Entries {
  readonly certificates: Set<string>;
  readonly tokens: Set<string>;
}

/**
 * Every revocation of the table, as two sets the request path looks up without waiting. `open`
 * loads them all; then every `refreshIntervalMs` only rows with an id above the last one seen
 * are read, with the row count: a count other than what the list then holds means rows were
 * deleted (revocations withdrawn) or missed, and the whole table is read again.
 *
 * When refreshes have failed for longer than `maxStaleMs` since the last success, `stale` is
 * true and callers are refused until one succeeds: logged once when it turns, once when it
 * recovers. Memory is one set entry per row and nothing per request, so it is bounded by the
 * table, the operator's own list. Limitation: a token revocation stays until it is removed,
 * long after the token has expired. Limitation: a row inserted by plain SQL, without the
 * store's lock, may commit after a higher id was read; the row count finds it at the next
 * refresh, unless a deletion in the same interval evens the count out: it is then missed
 * until a later change makes the counts differ, or the gateway restarts.
 */
export class RevocationList implements RevocationCheck {
  private entries: Entries = { certificates: new Set(), tokens: new Set() };
  private lastId = 0n;
  private lastSuccessMs = 0;
  private failing = false;
  private isStale = false;
  private refreshing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(
    private readonly source: RevocationSource,
    private readonly options: RevocationListOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.log = options.logger;
  }

  get stale(): boolean {
    return this.isStale;
  }

  isCertificateRevoked(thumbprint: string): boolean {
    return this.entries.certificates.has(thumbprint);
  }

  isTokenRevoked(tokenId: string): boolean {
    return this.entries.tokens.has(tokenId);
  }

  /**
   * Loads every revocation and starts refreshing. Rejects with ProxyError
   * `ERR_IDENTITY_UNAVAILABLE` when the table cannot be read: a gateway that does not know its
   * revocations does not start (fail closed).
   */
  async open(): Promise<void> {
    try {
      await this.source.open();
      this.replace(await this.source.readAll(), false);
    } catch (err) {
      const message = `cannot load revocations from ${this.source.description}`;
      throw new ProxyError('ERR_IDENTITY_UNAVAILABLE', message, { cause: err });
    }
    this.lastSuccessMs = this.now();
    const { certificates, tokens } = this.entries;
    const counts = { certificates: certificates.size, tokens: tokens.size };
    this.log.info({ store: this.source.description, ...counts }, 'revocations loaded');

    this.timer = setInterval(() => this.tick(), this.options.refreshIntervalMs);
    this.timer.unref();
  }

  /**
   * Reads what changed since the last refresh; never rejects. A refresh already running is
   * joined rather than doubled.
   */
  refresh(): Promise<void> {
    this.refreshing ??= this.refreshOnce().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /** Stops refreshing, waits for a refresh in progress, and closes the source. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.refreshing;
    await this.source.close();
  }

  /** Staleness is judged on every tick, so a refresh that hangs cannot keep the list fresh. */
  private tick(): void {
    this.judgeFreshness();
    void this.refresh();
  }

  private async refreshOnce(): Promise<void> {
    try {
      const changes = await this.source.readAfter(this.lastId.toString());
      for (const revocation of changes.rows) this.add(revocation, true);
      if (this.size() !== changes.total) this.replace(await this.source.readAll(), true);
    } catch (err) {
      this.failed(err);
      return;
    }
    this.succeeded();
  }

  private add(revocation: Revocation, announce: boolean): void {
    const set = this.setOf(this.entries, revocation);
    if (announce && !set.has(revocation.value)) {
      const { kind, value, reason, revokedBy } = revocation;
      this.log.info({ kind, value, reason, revokedBy }, 'revocation applied');
    }
    set.add(revocation.value);
    const id = BigInt(revocation.id);
    if (id > this.lastId) this.lastId = id;
  }

  /** Swaps in the whole table; with `announce`, logs what was withdrawn and what is new. */
  private replace(revocations: readonly Revocation[], announce: boolean): void {
    const previous = this.entries;
    this.entries = { certificates: new Set(), tokens: new Set() };
    for (const revocation of revocations) {
      const known = this.setOf(previous, revocation).has(revocation.value);
      this.add(revocation, announce && !known);
    }
    if (!announce) return;

    for (const kind of ['certificate', 'token'] as const) {
      const current = this.setOf(this.entries, { kind });
      for (const value of this.setOf(previous, { kind })) {
        if (!current.has(value)) this.log.info({ kind, value }, 'revocation withdrawn');
      }
    }
  }

  private setOf(entries: Entries, revocation: Pick<Revocation, 'kind'>): Set<string> {
    return revocation.kind === 'certificate' ? entries.certificates : entries.tokens;
  }

  private size(): number {
    return this.entries.certificates.size + this.entries.tokens.size;
  }

  private succeeded(): void {
    this.lastSuccessMs = this.now();
    if (this.failing) {
      this.log.info({ wasStale: this.isStale }, 'revocations refreshed again');
    }
    this.failing = false;
    this.isStale = false;
  }

  private failed(err: unknown): void {
    if (!this.failing) {
      this.log.warn({ err, store: this.source.description }, 'revocations not refreshed');
    }
    this.failing = true;
    this.judgeFreshness();
  }

  private judgeFreshness(): void {
    const sinceMs = this.now() - this.lastSuccessMs;
    if (this.isStale || sinceMs <= this.options.maxStaleMs) return;
    this.isStale = true;
    const fields = { store: this.source.description, sinceMs, maxStaleMs: this.options.maxStaleMs };
    this.log.error(fields, 'revocations stale, refusing every exchange');
  }
}
