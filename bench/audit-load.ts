// Drives an audit log as a busy gateway would: realistic exchangeFinished frames, a fixed number
// of appends in flight, each timed from the append call to its durable resolution.

import type { AuditEvent } from '../src/audit/audit-events';
import type { AuditLog } from '../src/audit/audit-log';
import type { AuditStore, ChainTail, EncodedFrame } from '../src/audit/audit-store';
import { createIdGenerator } from '../src/pipeline/exchange';

/** Chunks of the recorded response, as a streamed answer of a few events leaves them. */
const RESPONSE_CHUNKS = 8;

/**
 * About what the audit filter records for a short answer: masked text with a masked card number
 * in it (the last four digits kept, as by default), a few hundred bytes.
 */
const RESPONSE_TEXT =
  'Thank you for your order. The payment with the card ************1111 was accepted, and the ' +
  'receipt was sent to the address on file. Delivery is planned for the second week of the ' +
  'month; the carrier will call before it arrives. If anything is missing, answer this message ' +
  'with the order reference and we will look into it the same day.';

/** What a closed-loop run measured. */
export interface LoadSamples {
  /** Appends that resolved. */
  readonly completed: number;
  /** From the first append to the last resolution. */
  readonly elapsedMs: number;
  /** Append call to promise resolution, one per completed append. */
  readonly latenciesMs: number[];
}

/** The recorded chunks of RESPONSE_TEXT: equal pieces, each leaving 1.5 ms after the one before. */
function responseChunks(): { stream: string; offset: number; length: number; atMs: number }[] {
  const length = Math.ceil(Buffer.byteLength(RESPONSE_TEXT) / RESPONSE_CHUNKS);
  const total = Buffer.byteLength(RESPONSE_TEXT);
  return Array.from({ length: RESPONSE_CHUNKS }, (_, index) => ({
    stream: '',
    offset: index * length,
    length: Math.min(length, total - index * length),
    atMs: 3.25 + index * 1.5,
  }));
}

/**
 * A source of exchangeFinished events like the gateway's: each with an exchange id of its own (a
 * gateway's id form), the same masked response, 8 chunks, one masked card and token usage.
 */
export function finishedEvents(): () => AuditEvent {
  const nextId = createIdGenerator('5eed0bee');
  const response = [{ stream: '', text: RESPONSE_TEXT }];
  const chunks = responseChunks();
  const masked = [{ direction: 'response' as const, kind: 'pan', count: 1 }];
  const responseBytes = Buffer.byteLength(RESPONSE_TEXT) + 640;
  return () => ({
    exchangeFinished: {
      exchangeId: nextId(),
      status: 200,
      response,
      chunks,
      masked,
      usage: { promptTokens: 42, completionTokens: 96 },
      durationMs: 14.875,
      upstreamHeadersMs: 2.5,
      requestBytes: 1_180,
      responseBytes,
      requestMessages: 1,
      responseMessages: RESPONSE_CHUNKS,
    },
  });
}

/**
 * Keeps `inFlight` appends pending until `durationMs` has passed: each worker appends its next
 * frame as soon as its previous one is durable, as that many concurrent exchanges would. Rejects
 * when an append does (the store failed).
 */
export async function driveClosedLoop(
  log: AuditLog,
  inFlight: number,
  durationMs: number,
  nextEvent: () => AuditEvent,
): Promise<LoadSamples> {
  const latenciesMs: number[] = [];
  const start = performance.now();
  const deadline = start + durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      const appendedAt = performance.now();
      // Timed in a reaction of its own, not after `await`: a batch resolves many appends at once,
      // and a worker resumed after them would count their next appends as its own latency.
      await log.append(nextEvent()).then(() => {
        latenciesMs.push(performance.now() - appendedAt);
      });
    }
  };

  await Promise.all(Array.from({ length: inFlight }, worker));
  return { completed: latenciesMs.length, elapsedMs: performance.now() - start, latenciesMs };
}

/** A store that wraps another and counts the batches and frames stored through it. */
export class CountingStore implements AuditStore {
  readonly description: string;
  batches = 0;
  frames = 0;

  constructor(private readonly inner: AuditStore) {
    this.description = inner.description;
  }

  open(logId: string): Promise<ChainTail> {
    return this.inner.open(logId);
  }

  async append(frames: readonly EncodedFrame[]): Promise<void> {
    await this.inner.append(frames);
    this.batches += 1;
    this.frames += frames.length;
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** Starts counting afresh, after a warm-up. */
  reset(): void {
    this.batches = 0;
    this.frames = 0;
  }

  /** Frames per stored batch since the last reset; NaN before any batch. */
  meanBatch(): number {
    return this.batches === 0 ? Number.NaN : this.frames / this.batches;
  }
}

/** A store that keeps nothing: what the log itself costs, without a write or fdatasync. */
export function storeWithoutIo(): AuditStore {
  return {
    description: 'no store',
    open: () =>
      Promise.resolve({
        lastSequence: 0,
        lastHash: undefined,
        lastKeyId: undefined,
        torn: undefined,
      }),
    append: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}
