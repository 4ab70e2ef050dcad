// The audit writer: sequences, chains and signs frames, and stores them with group commit.

import { ProxyError } from '../errors/proxy-error';
import type { Logger } from '../observe/logger';
import { frameHash, genesisHash } from './audit-chain';
import type { AuditEvent, AuditFrame } from './audit-events';
import { encodeFrame } from './audit-frame-codec';
import { signCheckpoint, signRotation, type AuditSigningKey } from './audit-signing';
import type { AuditStore, ChainTail, EncodedFrame } from './audit-store';

/**
 * How long a recorded frame may wait for a batch somebody waits for before it is stored on its
 * own: short against the time an exchange takes, long against one that ends at once.
 */
const RECORD_DELAY_MS = 10;

/** How a log is written; defaults in `src/config/defaults.ts`. */
export interface AuditLogOptions {
  /** The chain this writer owns: one writer per log id at a time. */
  readonly logId: string;
  readonly store: AuditStore;
  readonly signingKey: AuditSigningKey;
  /** Keys that signed this log before, by id, so the handover to `signingKey` is vouched for. */
  readonly previousKeys?: ReadonlyMap<string, AuditSigningKey>;
  /** A checkpoint after this many frames... */
  readonly checkpointEveryFrames: number;
  /** ...or after this long with unsigned frames, whichever comes first. */
  readonly checkpointIntervalMs: number;
  /** While the store fails, frames wait up to this many; further frames are refused. */
  readonly maxPendingFrames: number;
  /** How long to wait before storing a failed batch again. */
  readonly retryIntervalMs: number;
  readonly logger: Logger;
  /** Told of each batch stored or refused (Prometheus); absent when nobody counts. */
  readonly metrics?: AuditLogMetrics;
  /** Microseconds since the Unix epoch; injected by tests. */
  readonly nowMicros?: () => number;
}

/** What the log reports as it stores. */
export interface AuditLogMetrics {
  /** A batch of `frames` was written and synced in `seconds`. */
  batchStored(frames: number, seconds: number): void;
  /** A batch could not be stored. */
  storeFailed(): void;
}

/** A caller waiting for its frame to be durable. */
interface Waiter {
  readonly sequence: number;
  resolve(): void;
  reject(err: ProxyError): void;
}

/**
 * One audit log. `append` assigns the next sequence number, links the frame to the one
 * before and queues it; queued frames are stored together (group commit) whenever the store
 * is free, so a slow fsync makes batches larger rather than callers slower in turn. A signed
 * checkpoint follows every `checkpointEveryFrames` frames and, with unsigned frames waiting,
 * every `checkpointIntervalMs`.
 *
 * Fails closed: while the store refuses writes, `writable` is false (the gateway refuses new
 * exchanges), waiting callers are rejected, and the frames themselves stay queued, in order,
 * and are stored again every `retryIntervalMs` until the store takes them: a frame that was
 * appended is never dropped, and nothing after it is stored before it.
 */
export class AuditLog {
  private sequence: number;
  private head: Buffer;
  private unsigned = 0;
  private queue: EncodedFrame[] = [];
  private waiters: Waiter[] = [];
  private storing = false;
  private failing = false;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Stores frames that were recorded, not appended, once nobody else has. */
  private recordTimer: NodeJS.Timeout | undefined;
  private readonly checkpointTimer: NodeJS.Timeout;
  private signingKey: AuditSigningKey;
  private readonly nowMicros: () => number;

  private constructor(
    private readonly options: AuditLogOptions,
    tail: ChainTail,
  ) {
    this.sequence = tail.lastSequence;
    this.head = tail.lastHash ?? genesisHash(options.logId);
    this.signingKey = options.signingKey;
    this.nowMicros = options.nowMicros ?? wallClockMicros;
    this.checkpointTimer = setInterval(
      () => this.checkpointIfUnsigned(),
      options.checkpointIntervalMs,
    );
    this.checkpointTimer.unref();
  }

  /**
   * Opens the log where its store left it. A torn tail found by the store is recorded in a Gap
   * frame; a signing key other than the one that signed last is announced in a KeyRotated
   * frame. Rejects when the store cannot be opened.
   */
  static async open(options: AuditLogOptions): Promise<AuditLog> {
    const tail = await options.store.open(options.logId);
    const log = new AuditLog(options, tail);
    if (tail.torn !== undefined) {
      options.logger.warn(
        { store: options.store.description, ...tail.torn },
        'audit log had a torn tail',
      );
      log.record({
        gap: {
          lastSequence: tail.lastSequence,
          tornBytes: tail.torn.bytes,
          segment: tail.torn.segment,
        },
      });
    }
    if (tail.lastKeyId !== undefined && tail.lastKeyId !== options.signingKey.keyId) {
      log.announceKey(options.previousKeys?.get(tail.lastKeyId), tail.lastKeyId);
    }
    return log;
  }

  get logId(): string {
    return this.options.logId;
  }

  get keyId(): string {
    return this.signingKey.keyId;
  }

  /** False while the store refuses writes or after close: new exchanges must be refused. */
  get writable(): boolean {
    return !this.failing && !this.closed;
  }

  /** The sequence number of the last frame appended. */
  get lastSequence(): number {
    return this.sequence;
  }

  /**
   * Appends `event` and resolves once its frame is durable. Rejects with ERR_AUDIT_UNAVAILABLE
   * when the log is closed, when too many frames already wait for a failing store, or when the
   * batch holding the frame could not be stored (the frame itself stays queued; see the class).
   */
  append(event: AuditEvent): Promise<void> {
    const refusal = this.refusal();
    if (refusal !== undefined) return Promise.reject(refusal);
    const sequence = this.push(event);
    this.checkpointIfDue();
    // The frame stays queued for the next retry, but its caller is not kept waiting for it.
    if (this.failing) return Promise.reject(this.unavailable(undefined));
    return new Promise((resolve, reject) => {
      this.waiters.push({ sequence, resolve, reject });
      this.scheduleStore();
    });
  }

  /**
   * Appends `event` without waiting for it. Nobody waits, so the frame is not stored on its
   * own: it goes with the next batch somebody waits for, or after RECORD_DELAY_MS. An
   * exchange's start thus shares its end's write and fsync unless the exchange runs longer.
   * A refusal (closed, too many frames waiting) is logged; the frame is kept as `append` keeps it.
   */
  record(event: AuditEvent): void {
    const refusal = this.refusal();
    if (refusal !== undefined) {
      this.options.logger.debug({ err: refusal }, 'audit frame refused');
      return;
    }
    this.push(event);
    this.checkpointIfDue();
    if (this.storing || this.failing || this.recordTimer !== undefined) return;
    this.recordTimer = setTimeout(() => {
      this.recordTimer = undefined;
      this.scheduleStore();
    }, RECORD_DELAY_MS);
    this.recordTimer.unref();
  }

  /** Resolves once every frame appended so far is durable. */
  flush(): Promise<void> {
    if (this.queue.length === 0 && !this.storing) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ sequence: this.sequence, resolve, reject });
      this.scheduleStore();
    });
  }

  /** Signs from now on with `next`, in a KeyRotated frame signed by the current and the new key. */
  rotateKey(next: AuditSigningKey): Promise<void> {
    if (next.keyId === this.signingKey.keyId) return Promise.resolve();
    const previous = this.signingKey;
    this.checkpoint();
    this.announceKey(previous, previous.keyId, next);
    return this.flush();
  }

  /** Signs the chain head, stores what is queued and closes the store; appends after this fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.checkpointTimer);
    try {
      // Frames appended while the last ones are stored get a checkpoint of their own.
      do {
        this.checkpointIfUnsigned();
        await this.flush();
      } while (this.unsigned > 0);
    } finally {
      this.closed = true;
      clearTimeout(this.retryTimer);
      clearTimeout(this.recordTimer);
      await this.options.store.close();
    }
  }

  private refusal(): ProxyError | undefined {
    if (this.closed) return new ProxyError('ERR_AUDIT_UNAVAILABLE', 'the audit log is closed');
    if (this.failing && this.queue.length >= this.options.maxPendingFrames) {
      const message = `${this.queue.length} audit frames wait for ${this.options.store.description}`;
      return new ProxyError('ERR_AUDIT_UNAVAILABLE', message);
    }
    return undefined;
  }

  /** Sequences, links and encodes a frame and queues it; the frame's sequence number. */
  private push(event: AuditEvent): number {
    const sequence = this.sequence + 1;
    const frame = {
      logId: this.options.logId,
      sequence,
      timeUnixMicros: this.nowMicros(),
      previousHash: this.head,
      ...event,
    } as AuditFrame;
    const bytes = encodeFrame(frame);
    this.sequence = sequence;
    this.head = frameHash(bytes);
    this.queue.push({ sequence, bytes });
    this.unsigned = 'checkpoint' in event ? 0 : this.unsigned + 1;
    return sequence;
  }

  private checkpointIfDue(): void {
    if (this.unsigned >= this.options.checkpointEveryFrames) this.checkpoint();
  }

  private checkpointIfUnsigned(): void {
    if (this.unsigned > 0 && !this.closed) {
      this.checkpoint();
      this.scheduleStore();
    }
  }

  /** Appends a checkpoint over the frame just before it. */
  private checkpoint(): void {
    const body = signCheckpoint(this.signingKey, this.options.logId, this.sequence, this.head);
    this.push({ checkpoint: body });
  }

  /**
   * Appends the KeyRotated frame that hands signing to `next`; without the previous key's
   * private half the frame carries the new key's signature only, which a verifier reports.
   */
  private announceKey(
    previous: AuditSigningKey | undefined,
    previousKeyId: string,
    next: AuditSigningKey = this.signingKey,
  ): void {
    const sequence = this.sequence + 1;
    let body;
    if (previous !== undefined) {
      body = signRotation(previous, next, this.options.logId, sequence);
    } else {
      this.options.logger.warn(
        { previousKeyId, keyId: next.keyId },
        'audit key rotation not vouched',
      );
      // The new key signs the statement naming the real previous key id, so its own signature
      // holds; the stand-in's signature under the new key would vouch for nothing, so it goes.
      const standIn = { ...next, keyId: previousKeyId };
      const signed = signRotation(standIn, next, this.options.logId, sequence);
      body = { ...signed, previousKeySignature: Buffer.alloc(0) };
    }
    this.push({ keyRotated: body });
    this.signingKey = next;
  }

  private scheduleStore(): void {
    if (this.storing || this.failing) return;
    if (this.queue.length === 0) return this.settleWaiters(this.sequence);
    this.storing = true;
    clearTimeout(this.recordTimer);
    this.recordTimer = undefined;
    // Frames appended in this turn of the event loop join the same batch.
    setImmediate(() => void this.storeBatch());
  }

  /** The highest sequence number known durable: everything not queued. */
  private durableSequence(): number {
    return this.queue.length === 0 ? this.sequence : this.queue[0]!.sequence - 1;
  }

  private async storeBatch(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    const startedAt = performance.now();
    try {
      await this.options.store.append(batch);
    } catch (err) {
      this.storing = false;
      this.queue = batch.concat(this.queue);
      this.options.metrics?.storeFailed();
      return this.storeFailed(err);
    }
    this.options.metrics?.batchStored(batch.length, (performance.now() - startedAt) / 1000);
    this.storing = false;
    if (this.failing) this.recovered();
    this.settleWaiters(this.durableSequence());
    if (this.queue.length > 0) this.scheduleStore();
  }

  private settleWaiters(durable: number): void {
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const waiter of this.waiters) {
      if (waiter.sequence <= durable) waiter.resolve();
      else still.push(waiter);
    }
    this.waiters = still;
  }

  private storeFailed(err: unknown): void {
    const first = !this.failing;
    this.failing = true;
    if (first) {
      // An operator alert: the gateway refuses traffic until the store takes frames again.
      this.options.logger.error(
        { err, store: this.options.store.description, waiting: this.queue.length },
        'audit log cannot be written; refusing new exchanges',
      );
    }
    const reason = this.unavailable(err);
    for (const waiter of this.waiters) waiter.reject(reason);
    this.waiters = [];
    if (this.closed) return;
    this.retryTimer = setTimeout(() => this.retry(), this.options.retryIntervalMs);
    this.retryTimer.unref();
  }

  private unavailable(cause: unknown): ProxyError {
    const message = `the audit log at ${this.options.store.description} cannot be written`;
    return new ProxyError('ERR_AUDIT_UNAVAILABLE', message, { cause });
  }

  private retry(): void {
    if (this.storing || this.closed) return;
    this.storing = true;
    void this.storeBatch();
  }

  private recovered(): void {
    this.failing = false;
    this.options.logger.warn({ store: this.options.store.description }, 'audit log writable again');
  }
}

function wallClockMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}
