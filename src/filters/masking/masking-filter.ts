// The masking filter: card data in prompts is masked before the upstream sees it, and in
// responses before the client does, as the frames flow (PCI DSS Req. 3.3, 3.4).

import type { OutgoingHttpHeaders } from 'node:http2';
import type { MaskDirection } from '../../config/gateway-config';
import type { CardFingerprinter } from '../../masking/card-fingerprint';
import type { FindingObserver } from '../../masking/card-masker';
import { FrameHoldback } from '../../masking/frame-holdback';
import {
  emptyMaskCounts,
  type MaskCounts,
  type ResolvedMaskOptions,
} from '../../masking/mask-options';
import { MAX_FINGERPRINTS, type MaskingRecord } from '../../masking/masking-record';
import type { MaskPattern, PatternCounts } from '../../masking/pattern-masker';
import { emptyTextMaskCounts, maskText, type TextMaskPolicy } from '../../masking/text-masker';
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
import { ProxyError } from '../../errors/proxy-error';
import type { TextCodec, TextCodecFactory } from '../../codecs/text-codec';

/** What the filter runs on, built once from configuration. */
export interface MaskingSettings {
  readonly options: ResolvedMaskOptions;
  /** The operator's own patterns, masked after card data; empty when there are none. */
  readonly patterns: readonly MaskPattern[];
  /** What each route masks; a route not listed masks both ways. */
  readonly routes: ReadonlyMap<string, MaskDirection>;
  readonly unmaskedRoles: ReadonlySet<string>;
  readonly fingerprinter: CardFingerprinter | undefined;
  readonly maxHeldBytes: number;
}

/**
 * Masks one exchange. Prompts are masked whole, in place, before they are forwarded. Responses
 * pass a FrameHoldback: a frame leaves at once when its text is decided, and is held only while
 * a card number may still be completing in a later frame. Fails closed: a frame whose text
 * cannot be read, or a hold-back past `maxHeldBytes`, ends the exchange with an error, and what
 * was held is dropped, never sent unmasked.
 */
class MaskingFilter<M extends ExchangeMessage> implements Filter<M>, MaskingRecord {
  private direction: MaskDirection | undefined;
  private holdback: FrameHoldback<M> | undefined;
  /** Whether responses are masked, decided at the first response message. */
  private maskResponses: boolean | undefined;
  private readonly prompted = emptyTextMaskCounts();
  private readonly seen = new Set<string>();
  private readonly policy: TextMaskPolicy;
  private failed = false;

  constructor(
    private readonly exchange: Exchange,
    private readonly callbacks: FilterCallbacks<M>,
    private readonly settings: MaskingSettings,
    private readonly codec: TextCodec<M>,
  ) {
    const fingerprinter = settings.fingerprinter;
    let observe: FindingObserver | undefined;
    if (fingerprinter !== undefined) {
      observe = (text, finding) => {
        if (this.seen.size >= MAX_FINGERPRINTS) return;
        const fingerprint = fingerprinter.fingerprint(text, finding);
        if (fingerprint !== undefined) this.seen.add(fingerprint);
      };
    }
    this.policy = { options: settings.options, patterns: settings.patterns, observe };
    exchange.masking = this;
  }

  get prompts(): boolean {
    const direction = this.routeDirection();
    return direction === 'both' || direction === 'prompts';
  }

  get responses(): boolean {
    return this.responsesMasked();
  }

  get promptCounts(): Readonly<MaskCounts> {
    return this.prompted.cards;
  }

  get responseCounts(): Readonly<MaskCounts> {
    return this.holdback?.counts ?? emptyMaskCounts();
  }

  get promptPatternCounts(): Readonly<PatternCounts> {
    return this.prompted.patterns;
  }

  get responsePatternCounts(): Readonly<PatternCounts> {
    return this.holdback?.patternCounts ?? {};
  }

  get fingerprints(): readonly string[] {
    return [...this.seen];
  }

  get held() {
    return this.holdback?.stats ?? { heldFrames: 0, maxHeldBytes: 0, heldMs: 0, maxHeldMs: 0 };
  }

  onRequestMessage(message: M): MessageResult {
    if (!this.prompts) return undefined;
    let out: M;
    try {
      out = this.maskRequest(message);
    } catch (err) {
      return LocalReply.fromError(err);
    }
    if (out === message) return undefined;
    this.callbacks.continueRequestMessage(out);
    return HOLD;
  }

  /** Masks each text of a request message; the message to forward. */
  private maskRequest(message: M): M {
    const texts = this.codec.requestTexts(message);
    if (texts === undefined) return message;
    for (const piece of texts.pieces) maskText(piece.bytes, this.policy, this.prompted);
    return texts.finish?.(message) ?? message;
  }

  onResponseHeaders(headers: OutgoingHttpHeaders): HeadersResult {
    this.codec.responseHeaders?.(headers);
    return undefined;
  }

  onResponseMessage(message: M): MessageResult {
    if (this.failed) return HOLD;
    if (!this.responsesMasked()) return undefined;
    const { options, observe, patterns } = this.policy;
    const holdback = (this.holdback ??= new FrameHoldback(options, observe, patterns));
    let out: M[];
    try {
      const texts = this.codec.responseTexts(message);
      if (texts === undefined && holdback.heldBytes === 0) return undefined;
      out = holdback.add(message, texts);
    } catch (err) {
      return this.fail(unreadableResponse(err, this.exchange.upstream));
    }
    if (holdback.heldBytes > this.settings.maxHeldBytes) {
      const text = `more than ${this.settings.maxHeldBytes} response bytes wait for undecided text`;
      return this.fail(LocalReply.of('ERR_MASKING_FAILED', text, 'masking_hold_exceeded'));
    }
    if (out.length === 1 && out[0] === message) return undefined;
    for (const released of out) this.callbacks.continueResponseMessage(released);
    return HOLD;
  }

  /** The response is complete: every stream's text is decided, every held frame leaves. */
  onResponseTrailers(): HeadersResult {
    if (this.failed || this.holdback === undefined) return undefined;
    for (const released of this.holdback.flush()) this.callbacks.continueResponseMessage(released);
    return undefined;
  }

  private fail(reply: LocalReply): LocalReply {
    this.failed = true;
    this.exchange.log.warn({ code: reply.error.code, detail: reply.detail }, 'masking failed');
    return reply;
  }

  private routeDirection(): MaskDirection {
    const route = this.exchange.route;
    this.direction ??=
      route === undefined ? undefined : (this.settings.routes.get(route) ?? 'both');
    return this.direction ?? 'both';
  }

  /** Responses are masked unless the route says not, or a role of the caller may see them. */
  private responsesMasked(): boolean {
    if (this.maskResponses !== undefined) return this.maskResponses;
    const direction = this.routeDirection();
    const roles = this.exchange.identity?.roles ?? [];
    const unmasked = roles.some((role) => this.settings.unmaskedRoles.has(role));
    this.maskResponses = (direction === 'both' || direction === 'responses') && !unmasked;
    return this.maskResponses;
  }
}

/**
 * The reply for a response message the codec could not read. The upstream is at fault, not the
 * caller, so a codec's request-side status (INVALID_ARGUMENT, 400) must not reach the client:
 * it is answered as a masking failure (INTERNAL, 502) naming the upstream, the codec's reason
 * kept as the cause. Anything but a ProxyError is a bug and answers as one.
 */
function unreadableResponse(err: unknown, upstream: string | undefined): LocalReply {
  if (!(err instanceof ProxyError)) return LocalReply.fromError(err);
  const message = `a response of upstream "${upstream ?? ''}" could not be read for masking: ${err.message}`;
  const error = new ProxyError('ERR_MASKING_FAILED', message, { cause: err });
  return new LocalReply(error, 'masking_unreadable_response');
}

/** Builds the masking filter for a listener; `codec` reads its protocol's messages. */
export function maskingFilterFactory<M extends ExchangeMessage>(
  settings: MaskingSettings,
  codec: TextCodecFactory<M>,
): FilterFactory<M> {
  return {
    name: 'masking',
    create: (exchange, callbacks) =>
      new MaskingFilter(exchange, callbacks, settings, codec(exchange)),
  };
}
