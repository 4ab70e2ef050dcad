// Rebuilds exchanges and their sessions from verified audit frames: the engine behind replay.

import type { KeyObject } from 'node:crypto';
import type {
  CallerRecord,
  CertificateRecord,
  DecisionEvent,
  ExchangeFinishedEvent,
  ExchangeStartedEvent,
  MaskedTextRecord,
  ResponseChunkRecord,
  ReviewEventRecord,
  SealedRecord,
  SessionClosedEvent,
  SessionOpenedEvent,
} from './audit-events';
import type { DecodedFrame } from './audit-frame-codec';
import {
  verifyAudit,
  type AuditRecords,
  type AuditReport,
  type AuditVerifyOptions,
  type FrameStatus,
  type FrameVerdict,
} from './audit-verifier';
import { unsealOriginal, type SealedDirection } from './sealed-original';

/** A thumbprint prefix this long names a certificate in `identity`, as transcripts show it. */
export const THUMBPRINT_PREFIX_CHARS = 12;

/** Which exchanges to rebuild; every given filter must match. */
export interface ReplayFilter {
  readonly exchangeId?: string | undefined;
  readonly sessionId?: string | undefined;
  /** A token subject, a certificate subject, a thumbprint or its first 12 characters. */
  readonly identity?: string | undefined;
  /** Exchanges started at or after this millisecond... */
  readonly since?: Date | undefined;
  /** ...and at or before this one. */
  readonly until?: Date | undefined;
  readonly logId?: string | undefined;
}

/** What `collectExchanges` verifies against and which exchanges it keeps. */
export interface ReplayOptions extends ReplayFilter {
  readonly keys: AuditVerifyOptions['keys'];
  readonly heads?: AuditVerifyOptions['heads'];
}

/** One frame an exchange or session rests on, with the verifier's verdict. */
export interface ReplayFrame {
  readonly sequence: number;
  readonly where: string;
  readonly kind: DecodedFrame['kind'];
  readonly status: FrameStatus;
}

/** An event and when its frame was written. */
export interface TimedEvent<T> {
  readonly sequence: number;
  readonly timeUnixMicros: number;
  readonly event: T;
}

/** A session as its frames tell it; `opened` is absent when its frame was not found. */
export interface ReplayedSession {
  readonly logId: string;
  readonly sessionId: string;
  readonly opened: TimedEvent<SessionOpenedEvent> | undefined;
  readonly closed: TimedEvent<SessionClosedEvent> | undefined;
  readonly frames: readonly ReplayFrame[];
}

/** One exchange rebuilt: what the frames of its log say about it, each with its verdict. */
export interface ReplayedExchange {
  readonly logId: string;
  readonly exchangeId: string;
  readonly started: TimedEvent<ExchangeStartedEvent>;
  readonly decision: TimedEvent<DecisionEvent> | undefined;
  readonly finished: TimedEvent<ExchangeFinishedEvent> | undefined;
  readonly reviews: readonly TimedEvent<ReviewEventRecord>[];
  /** Undefined when no SessionOpened frame of the exchange's session came before it. */
  readonly session: ReplayedSession | undefined;
  /** Its own frames, including repeated copies; its session's are in `session.frames`. */
  readonly frames: readonly ReplayFrame[];
}

/** The exchanges found, oldest first, and the verification report of the whole store. */
export interface ReplayResult {
  readonly exchanges: readonly ReplayedExchange[];
  readonly report: AuditReport;
}

/** An unsealed original: its texts, or why it did not open. */
export type UnsealedTexts =
  | { readonly opened: true; readonly texts: readonly MaskedTextRecord[] }
  | { readonly opened: false; readonly reason: string };

/** The originals of an exchange; a direction is undefined when nothing was sealed for it. */
export interface UnsealedOriginals {
  readonly prompt: UnsealedTexts | undefined;
  /** The prompts of a stream's later requests, sealed in its ExchangeFinished frame. */
  readonly laterPrompt: UnsealedTexts | undefined;
  readonly response: UnsealedTexts | undefined;
}

/** A piece of a response as it left the gateway. */
export interface ReplayChunk {
  readonly stream: string;
  readonly atMs: number;
  readonly bytes: Buffer;
  /** False when the recorded text ends before the chunk does (a truncated response). */
  readonly whole: boolean;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type DraftSession = Mutable<ReplayedSession> & { frames: ReplayFrame[] };
type DraftExchange = Mutable<ReplayedExchange> & {
  reviews: TimedEvent<ReviewEventRecord>[];
  frames: ReplayFrame[];
};
type FrameOf<K extends DecodedFrame['kind']> = Extract<DecodedFrame, { kind: K }>;

/**
 * Verifies `records` as `verifyAudit` does and rebuilds, from the verdicts it hands out, the
 * exchanges that match the filters, oldest start first. An exchange is chosen by its
 * ExchangeStarted frame; the frames of an exchange not chosen are dropped as they come, so
 * memory holds the chosen exchanges, the sessions still open and the verifier's own pending
 * verdicts. Exchange and session ids are unique within a log only, so both are keyed by log.
 *
 * Rejects as `verifyAudit` does: ERR_AUDIT_STORE_INVALID for an unreadable store,
 * ERR_AUDIT_KEY_INVALID for a bad key.
 */
// Limitation: without a filter every exchange of the store is kept until the end; a store too
// large for memory has to be replayed a part at a time (--log, --since, --until).
export async function collectExchanges(
  records: AuditRecords,
  options: ReplayOptions,
): Promise<ReplayResult> {
  const collector = new ExchangeCollector(options);
  const report = await verifyAudit(records, {
    keys: options.keys,
    heads: options.heads,
    onFrame: (verdict) => collector.take(verdict),
  });
  return { exchanges: collector.found(), report };
}

/** The worst verdict among the frames an exchange shows, its session's included. */
export function exchangeStatus(exchange: ReplayedExchange): FrameStatus {
  const frames = [...exchange.frames, ...(exchange.session?.frames ?? [])];
  if (frames.some((frame) => frame.status === 'broken')) return 'broken';
  if (frames.some((frame) => frame.status === 'unsigned')) return 'unsigned';
  return 'verified';
}

/**
 * Opens the sealed prompt and response of `exchange` with the security team's private key.
 * Never throws: a record that does not open (another key, changed or moved bytes) comes back
 * with the reason, so one bad record does not stop the replay of the others.
 */
export function unsealExchange(
  exchange: ReplayedExchange,
  privateKey: KeyObject,
): UnsealedOriginals {
  const open = (sealed: SealedRecord | undefined, direction: SealedDirection) =>
    sealed && unsealTexts(privateKey, sealed, exchange, direction);
  return {
    prompt: open(exchange.started.event.sealedPrompt, 'prompt'),
    laterPrompt: open(exchange.finished?.event.sealedPrompt, 'prompt'),
    response: open(exchange.finished?.event.sealedResponse, 'response'),
  };
}

function unsealTexts(
  privateKey: KeyObject,
  sealed: SealedRecord,
  exchange: ReplayedExchange,
  direction: SealedDirection,
): UnsealedTexts {
  try {
    const texts = unsealOriginal(
      privateKey,
      sealed,
      exchange.logId,
      exchange.exchangeId,
      direction,
    );
    if (!Array.isArray(texts)) return { opened: false, reason: 'the original is not a text list' };
    return { opened: true, texts };
  } catch (err) {
    // Any failure here is about the record (a field missing from a damaged frame throws a
    // TypeError), never about the replay, so it is reported rather than raised.
    const reason = err instanceof Error ? err.message : String(err);
    return { opened: false, reason };
  }
}

/**
 * A recorded piece of a response: the text it continues, by its index in the frame's `response`
 * (undefined in older frames, which name only its stream), where in that text, and when it left.
 */
export interface RecordedChunk extends ResponseChunkRecord {
  readonly text: number | undefined;
}

/**
 * The pieces of a recorded response in recorded order, from the packed lists of current frames
 * or the chunk messages of older ones (see `ExchangeFinished` in `protos/audit.proto`).
 */
export function recordedChunks(finished: ExchangeFinishedEvent): RecordedChunk[] {
  const textIndexes = finished.chunkTexts ?? [];
  if (textIndexes.length === 0) {
    return (finished.chunks ?? []).map((chunk) => ({
      text: undefined,
      stream: chunk.stream ?? '',
      offset: chunk.offset ?? 0,
      length: chunk.length ?? 0,
      atMs: chunk.atMs ?? 0,
    }));
  }
  const response = finished.response ?? [];
  // A piece starts where the pieces of its text before it end.
  const ends = new Map<number, number>();
  return textIndexes.map((text, i) => {
    const length = finished.chunkLengths?.[i] ?? 0;
    const offset = ends.get(text) ?? 0;
    ends.set(text, offset + length);
    const stream = response[text]?.stream ?? '';
    return { text, stream, offset, length, atMs: finished.chunkAtMs?.[i] ?? 0 };
  });
}

/**
 * The recorded chunks of a response, in recorded order, cut from `texts` (the masked response
 * unless given, or the unsealed originals in the same order; masking keeps byte lengths, so the
 * offsets hold for the original too). A response recorded without chunks (not streamed) is one
 * chunk per text, at the exchange's end.
 */
export function responseChunks(
  finished: ExchangeFinishedEvent,
  texts: readonly MaskedTextRecord[] = finished.response ?? [],
): ReplayChunk[] {
  const bytesOf = texts.map(({ text }) => Buffer.from(text ?? '', 'utf8'));
  const byStream = new Map<string, Buffer>();
  texts.forEach(({ stream }, index) => byStream.set(stream ?? '', bytesOf[index]!));
  const chunks = recordedChunks(finished);
  if (chunks.length === 0) {
    const atMs = finished.durationMs ?? 0;
    return [...byStream].map(([stream, bytes]) => ({ stream, atMs, bytes, whole: true }));
  }
  return chunks.map(({ text, stream, offset, length, atMs }) => {
    const whole = (text === undefined ? byStream.get(stream) : bytesOf[text]) ?? Buffer.alloc(0);
    const bytes = whole.subarray(offset, offset + length);
    return { stream, atMs, bytes, whole: bytes.length === length };
  });
}

/** Follows the verdicts of one verification run and keeps what the filter asks for. */
class ExchangeCollector {
  private readonly sessions = new Map<string, DraftSession>();
  private readonly exchanges = new Map<string, DraftExchange>();

  constructor(private readonly filter: ReplayFilter) {}

  take(verdict: FrameVerdict): void {
    const { frame, logId } = verdict;
    if (frame === undefined || verdict.sequence === undefined) return;
    if (this.filter.logId !== undefined && logId !== this.filter.logId) return;
    const seen: ReplayFrame = {
      sequence: verdict.sequence,
      where: verdict.where,
      kind: frame.kind,
      status: verdict.status,
    };
    switch (frame.kind) {
      case 'sessionOpened':
        return this.openSession(logId, frame, seen);
      case 'sessionClosed':
        return this.closeSession(logId, frame, seen);
      case 'exchangeStarted':
        return this.startExchange(logId, frame, seen);
      case 'decision':
        return this.attach(logId, frame.body.exchangeId, seen, (x) => {
          x.decision ??= timed(frame);
        });
      case 'exchangeFinished':
        return this.attach(logId, frame.body.exchangeId, seen, (x) => {
          x.finished ??= timed(frame);
        });
      case 'review':
        return this.attach(logId, frame.body.exchangeId, seen, (x) => {
          x.reviews.push(timed(frame));
        });
      default:
        return;
    }
  }

  found(): ReplayedExchange[] {
    return [...this.exchanges.values()].sort(
      (a, b) =>
        a.started.timeUnixMicros - b.started.timeUnixMicros ||
        (a.logId < b.logId ? -1 : a.logId > b.logId ? 1 : 0) ||
        a.started.sequence - b.started.sequence,
    );
  }

  private openSession(logId: string, frame: FrameOf<'sessionOpened'>, seen: ReplayFrame): void {
    const sessionId = frame.body.sessionId ?? '';
    const key = keyOf(logId, sessionId);
    const open = this.sessions.get(key);
    if (open !== undefined) {
      open.frames.push(seen);
      return;
    }
    const opened = timed(frame);
    this.sessions.set(key, { logId, sessionId, opened, closed: undefined, frames: [seen] });
  }

  /** A closed session leaves the open set; the exchanges chosen in it still hold it. */
  private closeSession(logId: string, frame: FrameOf<'sessionClosed'>, seen: ReplayFrame): void {
    const key = keyOf(logId, frame.body.sessionId ?? '');
    const session = this.sessions.get(key);
    if (session === undefined) return;
    session.closed = timed(frame);
    session.frames.push(seen);
    this.sessions.delete(key);
  }

  private startExchange(logId: string, frame: FrameOf<'exchangeStarted'>, seen: ReplayFrame): void {
    const exchangeId = frame.body.exchangeId ?? '';
    const key = keyOf(logId, exchangeId);
    const known = this.exchanges.get(key);
    if (known !== undefined) {
      // A second copy of a start is a stray the verifier marks broken: it must show.
      known.frames.push(seen);
      return;
    }
    const session = this.sessions.get(keyOf(logId, frame.body.sessionId ?? ''));
    if (!this.matches(frame, session)) return;
    this.exchanges.set(key, {
      logId,
      exchangeId,
      started: timed(frame),
      decision: undefined,
      finished: undefined,
      reviews: [],
      session,
      frames: [seen],
    });
  }

  private attach(
    logId: string,
    exchangeId: string | undefined,
    seen: ReplayFrame,
    update: (exchange: DraftExchange) => void,
  ): void {
    const exchange = this.exchanges.get(keyOf(logId, exchangeId ?? ''));
    if (exchange === undefined) return;
    exchange.frames.push(seen);
    update(exchange);
  }

  private matches(frame: FrameOf<'exchangeStarted'>, session: DraftSession | undefined): boolean {
    const { exchangeId, sessionId, identity, since, until } = this.filter;
    const body = frame.body;
    const startedMs = Math.floor(frame.timeUnixMicros / 1000);
    if (exchangeId !== undefined && body.exchangeId !== exchangeId) return false;
    if (sessionId !== undefined && body.sessionId !== sessionId) return false;
    if (since !== undefined && startedMs < since.getTime()) return false;
    if (until !== undefined && startedMs > until.getTime()) return false;
    if (identity === undefined) return true;
    return identityMatches(identity, body.identity, session?.opened?.event.certificate);
  }
}

function identityMatches(
  who: string,
  caller: CallerRecord | undefined,
  sessionCertificate: CertificateRecord | undefined,
): boolean {
  if (caller?.tokenSubject === who) return true;
  return [caller?.certificate, sessionCertificate].some(
    (certificate) =>
      certificate !== undefined &&
      (certificate.subject === who ||
        certificate.thumbprint === who ||
        (who.length >= THUMBPRINT_PREFIX_CHARS && (certificate.thumbprint ?? '').startsWith(who))),
  );
}

function timed<F extends DecodedFrame>(frame: F): TimedEvent<F['body']> {
  return { sequence: frame.sequence, timeUnixMicros: frame.timeUnixMicros, event: frame.body };
}

function keyOf(logId: string, id: string): string {
  return `${logId}\u0000${id}`;
}
