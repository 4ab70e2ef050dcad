// The audit filter: every exchange leaves signed, chained frames, durable before its last byte.

import type { MaskedTextRecord, SealedRecord } from '../../audit/audit-events';
import type { AuditLog } from '../../audit/audit-log';
import { sealOriginal, type SealedDirection } from '../../audit/sealed-original';
import type { TextCodec, TextCodecFactory } from '../../codecs/text-codec';
import type { TextMaskPolicy } from '../../masking/text-masker';
import { roundMs } from '../../observe/duration';
import type { Exchange } from '../../pipeline/exchange';
import {
  HOLD,
  type ExchangeMessage,
  type Filter,
  type FilterCallbacks,
  type FilterFactory,
  type HeadersResult,
  type MessageResult,
} from '../../pipeline/filter';
import { LocalReply } from '../../pipeline/local-reply';
import type { AuditSealing } from './audit-originals';
import type { AuditSessions } from './audit-sessions';
import { AuditTranscript, type OriginalText } from './audit-transcript';
import { decisionEvent, exchangeFinishedEvent, exchangeStartedEvent } from './audit-records';

/** What the filter runs on, built once at start-up. */
export interface AuditSettings<M extends ExchangeMessage> {
  readonly log: AuditLog;
  readonly sessions: AuditSessions;
  /** Masks the recorded texts: the masking section's options and patterns. */
  readonly policy: TextMaskPolicy;
  readonly maxTextBytes: number;
  readonly codec: TextCodecFactory<M>;
  /**
   * Whether a response message may carry the exchange's last byte (a body with a declared
   * length): such a message is held until the exchange's frames are durable.
   */
  readonly mayEndResponse: (message: M) => boolean;
  /** Request facts worth recording, read from the request message. */
  readonly requestFacts?: (
    exchange: Exchange,
    message: M,
  ) => Readonly<Record<string, string>> | undefined;
  /** Where the unmasked originals are sealed to; undefined: none are kept. */
  readonly sealing?: AuditSealing;
}

const AUDIT_UNAVAILABLE = 'audit_unavailable';

/**
 * Records one exchange. It sits first in the chain, so on the response path it is the last
 * filter: it reads the texts exactly as they leave for the client (masked), and it is the one
 * that holds the end of the exchange (the trailers, a local reply, the last message of a body
 * with a declared length) until its frames are durable. Fails closed: a new exchange is refused
 * while the log is not writable, and one whose last frame cannot be stored ends with an error
 * instead of its last byte.
 */
class AuditFilter<M extends ExchangeMessage> implements Filter<M> {
  private readonly transcript: AuditTranscript;
  private readonly codec: TextCodec<M>;
  private facts: Readonly<Record<string, string>> | undefined;
  private started = false;
  private finished: Promise<void | LocalReply> | undefined;
  /** The message that may carry the last byte, held until the next one or the end. */
  private held: M | undefined;

  constructor(
    private readonly exchange: Exchange,
    private readonly callbacks: FilterCallbacks<M>,
    private readonly settings: AuditSettings<M>,
  ) {
    this.transcript = new AuditTranscript(settings.maxTextBytes, settings.policy);
    this.codec = settings.codec(exchange);
    settings.sessions.countExchange(exchange.session);
  }

  onRequestHeaders(): HeadersResult {
    if (this.settings.log.writable) return undefined;
    const message = 'the audit log cannot be written; requests are refused until it can';
    return LocalReply.of('ERR_AUDIT_UNAVAILABLE', message, AUDIT_UNAVAILABLE);
  }

  onRequestMessage(message: M): MessageResult {
    this.facts ??= this.readTexts(() => this.settings.requestFacts?.(this.exchange, message));
    const texts = this.readTexts(() => this.codec.requestTexts(message));
    for (const piece of texts?.pieces ?? []) this.transcript.addPrompt(piece.bytes);
    return undefined;
  }

  onResponseMessage(message: M): MessageResult {
    this.recordStart();
    const atMs = roundMs(performance.now() - this.exchange.startedAt);
    const texts = this.readTexts(() => this.codec.responseTexts(message));
    for (const piece of texts?.pieces ?? []) {
      this.transcript.addResponse(piece.stream, piece.bytes, atMs);
    }
    if (texts?.usage !== undefined) this.transcript.usage = texts.usage;
    if (!this.settings.mayEndResponse(message)) return undefined;
    const previous = this.held;
    this.held = message;
    if (previous !== undefined) this.callbacks.continueResponseMessage(previous);
    return HOLD;
  }

  onResponseTrailers(): HeadersResult {
    return this.finish();
  }

  onLocalReply(): HeadersResult {
    this.held = undefined;
    return this.finish();
  }

  /** An exchange that ended without a last byte to hold (the client left) is recorded here. */
  onExchangeComplete(): void {
    void this.finish();
  }

  /**
   * What the codec reads of a message, or undefined for one it cannot read: that is not
   * recorded, and the masking filter or the policy refuses such a message.
   */
  private readTexts<T>(read: () => T | undefined): T | undefined {
    try {
      return read();
    } catch (err) {
      this.exchange.log.debug({ err }, 'audit could not read the texts of a message');
      return undefined;
    }
  }

  /** The exchange reached the upstream: its start is recorded without waiting. */
  private recordStart(): void {
    if (this.started) return;
    this.started = true;
    const log = this.settings.log;
    const { masked, originals } = this.transcript.takePrompt();
    const truncated = this.transcript.promptTruncated;
    const started = exchangeStartedEvent(this.exchange, masked, truncated, this.facts);
    const sealedPrompt = this.seal('prompt', originals);
    log.record({ exchangeStarted: { ...started, sealedPrompt } });
    const decision = decisionEvent(this.exchange);
    if (decision !== undefined) log.record({ decision });
  }

  /**
   * Appends the exchange's last frame and resolves once it is durable, with the message held
   * for it sent first; the same promise for every hook that ends the exchange. A frame that
   * cannot be stored turns the end into ERR_AUDIT_UNAVAILABLE.
   */
  private finish(): Promise<void | LocalReply> {
    if (this.finished !== undefined) return this.finished;
    this.recordStart();
    const later = this.transcript.takePrompt();
    const now = performance.now();
    const event = exchangeFinishedEvent(this.exchange, this.transcript, later.masked, now);
    const originals = this.settings.sealing?.responses.get(this.exchange)?.all() ?? [];
    const sealedResponse = this.seal('response', originals);
    const sealedPrompt =
      later.originals.length === 0 ? undefined : this.seal('prompt', later.originals);
    const finished = { ...event, sealedResponse, sealedPrompt };
    this.finished = this.settings.log.append({ exchangeFinished: finished }).then(
      () => this.releaseHeld(),
      (err: unknown) => {
        this.held = undefined;
        this.exchange.log.warn({ err }, 'audit frame of the exchange not stored');
        const message = 'the audit log cannot be written; the response is withheld';
        return LocalReply.of('ERR_AUDIT_UNAVAILABLE', message, AUDIT_UNAVAILABLE);
      },
    );
    return this.finished;
  }

  /** The originals of one direction sealed to the security team, when sealing is on. */
  private seal(
    direction: SealedDirection,
    originals: readonly OriginalText[],
  ): SealedRecord | undefined {
    const sealing = this.settings.sealing;
    if (sealing === undefined) return undefined;
    const { logId } = this.settings.log;
    const texts = originals.map(asText);
    return sealOriginal(sealing.recipient, logId, this.exchange.id, direction, texts);
  }

  private releaseHeld(): void {
    const held = this.held;
    this.held = undefined;
    if (held !== undefined) this.callbacks.continueResponseMessage(held);
  }
}

/** Builds the audit filter for a listener; it belongs first in the chain. */
export function auditFilterFactory<M extends ExchangeMessage>(
  settings: AuditSettings<M>,
): FilterFactory<M> {
  return {
    name: 'audit',
    create: (exchange, callbacks) => new AuditFilter(exchange, callbacks, settings),
  };
}

function asText({ stream, bytes }: OriginalText): MaskedTextRecord {
  return { stream, text: bytes.toString('utf8') };
}
