// The texts of HTTP messages for the masking filter: OpenAI requests, responses and stream
// events, Triton infer bodies (JSON and binary) and the generate extension's bodies and events.

import type { HttpMessage } from './http-message';
import type { JsonTextSpan } from './json-path';
import { decodeOpenAIEvent, decodeOpenAIResponse } from './openai-response-codec';
import type { OpenAIUsage } from './openai-response-facts';
import {
  isOpenAIStreamOperation,
  listOpenAIOperations,
  type OpenAIOperation,
} from './openai-routes';
import { parseSseBlock } from './sse-event';
import { parseInferenceHeaderLength } from './triton-http-binary-data';
import {
  decodeTritonGenerateEvent,
  decodeTritonGenerateRequest,
  decodeTritonGenerateResponse,
} from './triton-http-generate-codec';
import {
  decodeTritonInferRequest,
  decodeTritonInferResponse,
  type TritonTextSpan,
} from './triton-http-infer-codec';
import { JsonEventTemplate } from './json-event-template';
import { ProxyError } from '../errors/proxy-error';
import type { FrameTexts, TextPiece, TokenCounts } from '../masking/frame-holdback';
import type { Exchange } from '../pipeline/exchange';
import { jsonTextPieces, type StreamedSpan } from './json-text-pieces';
import type { TextCodec } from './text-codec';

const OPENAI_OPERATIONS: ReadonlySet<string> = new Set(listOpenAIOperations());

/** A body of unknown shape is one text: its bytes are masked as they come. */
const BODY_STREAM = 'body/';

/** Reads the masking texts of one HTTP exchange, by its operation. */
class HttpTextCodec implements TextCodec<HttpMessage> {
  /** The last event with one streamed text, which the next events of a stream usually repeat. */
  private readonly template = new JsonEventTemplate();
  private templateStream: string | undefined;

  constructor(private readonly exchange: Exchange) {}

  requestTexts(message: HttpMessage): FrameTexts<HttpMessage> | undefined {
    if (message.kind !== 'request-body') return undefined;
    const body = message.frame;
    if (message.openai !== undefined) return whole(body, message.openai.texts);
    switch (this.exchange.operation) {
      case 'triton.infer': {
        const length = this.exchange.requestHeaders['inference-header-content-length'];
        const facts = decodeTritonInferRequest(body, parseInferenceHeaderLength(length));
        return tritonTexts(body, facts.form === 'json', facts.texts);
      }
      case 'triton.generate':
      case 'triton.generate_stream':
        return whole(body, decodeTritonGenerateRequest(body).texts);
      default:
        return undefined;
    }
  }

  responseTexts(message: HttpMessage): FrameTexts<HttpMessage> | undefined {
    switch (message.kind) {
      case 'sse-event':
        return this.eventTexts(message);
      case 'whole-body':
        return this.bodyTexts(message.frame, message.headers);
      case 'body-chunk':
        return unending([{ bytes: message.frame, stream: BODY_STREAM }]);
      default:
        return undefined;
    }
  }

  private eventTexts(message: HttpMessage & { kind: 'sse-event' }): FrameTexts<HttpMessage> {
    const repeated = this.template.match(message.frame);
    if (repeated !== undefined) {
      const bytes = message.frame.subarray(repeated.start, repeated.end);
      return unending([{ bytes, stream: this.templateStream }]);
    }
    const texts = this.decodeEvent(message);
    if (texts === undefined) return unending([{ bytes: message.frame, stream: BODY_STREAM }]);
    this.rememberShape(message.frame, texts);
    const pieces = jsonTextPieces(message.frame, texts.pieces, rebuildEvent);
    const { endedStreams, endsAll, usage } = texts;
    return { ...pieces, endedStreams, endsAll, usage };
  }

  /** The event's texts as spans, read by the operation's codec; undefined for no known shape. */
  private decodeEvent(message: HttpMessage & { kind: 'sse-event' }): EventSpans | undefined {
    const operation = this.exchange.operation;
    if (isOpenAIOperation(operation) && isOpenAIStreamOperation(operation)) {
      const facts = decodeOpenAIEvent(message.event, operation);
      const { texts, endedStreams, terminal } = facts;
      return { pieces: texts, endedStreams, endsAll: terminal, usage: tokenCounts(facts.usage) };
    }
    if (operation === 'triton.generate_stream') {
      const facts = decodeTritonGenerateEvent(message.event);
      // Triton writes each output as a top-level field of every event: a field is one text.
      const pieces = facts.texts.map((span) => ({ ...span, stream: `${span.path}/` }));
      return { pieces, ...NO_END };
    }
    return undefined;
  }

  /**
   * Remembers an event with one plain streamed text and nothing that ends a stream, so the
   * events that repeat it but for that text (a chat stream's deltas) are read without a scan.
   */
  private rememberShape(frame: Buffer, texts: EventSpans): void {
    const [only, ...others] = texts.pieces;
    const repeatable =
      only !== undefined &&
      others.length === 0 &&
      !only.escaped &&
      only.stream !== undefined &&
      texts.endedStreams.length === 0 &&
      !texts.endsAll;
    if (!repeatable) return this.template.forget();
    this.template.remember(frame, only.start, only.end);
    this.templateStream = only.stream;
  }

  private bodyTexts(
    body: Buffer,
    headers: Readonly<Record<string, string | string[] | undefined>>,
  ): FrameTexts<HttpMessage> | undefined {
    const operation = this.exchange.operation;
    if (isOpenAIOperation(operation)) {
      const facts = decodeOpenAIResponse(body, operation);
      return { ...whole(body, facts.texts), usage: tokenCounts(facts.usage) };
    }
    switch (operation) {
      case 'triton.infer': {
        const length = parseInferenceHeaderLength(headers['inference-header-content-length']);
        const facts = decodeTritonInferResponse(body, length);
        return tritonTexts(body, facts.form === 'json', facts.texts);
      }
      case 'triton.generate':
        return whole(body, decodeTritonGenerateResponse(body).texts);
      default:
        // Limitation: Triton's metadata, configuration, statistics and repository answers are
        // relayed unmasked; they carry no model output, only the server's own descriptions.
        return undefined;
    }
  }
}

const NO_END = { endedStreams: [], endsAll: false } as const;

/**
 * The texts of a frame that ends no stream, the common case: written out rather than spread
 * from NO_END, which costs a chat stream's every event about 100 ns.
 */
function unending(pieces: readonly TextPiece[]): FrameTexts<HttpMessage> {
  return { pieces, endedStreams: NO_END.endedStreams, endsAll: false };
}

/** An event's text spans and the streams it ends. */
interface EventSpans {
  readonly pieces: readonly StreamedSpan[];
  readonly endedStreams: readonly string[];
  readonly endsAll: boolean;
  readonly usage?: TokenCounts;
}

/** Token counts from an OpenAI `usage` object; missing counts are 0. */
function tokenCounts(usage: OpenAIUsage | undefined): TokenCounts | undefined {
  if (usage === undefined) return undefined;
  return { promptTokens: usage.promptTokens ?? 0, completionTokens: usage.completionTokens ?? 0 };
}

function isOpenAIOperation(operation: string): operation is OpenAIOperation {
  return OPENAI_OPERATIONS.has(operation);
}

/** Every span a text of its own, masked at once. */
function whole(body: Buffer, spans: readonly JsonTextSpan[]): FrameTexts<HttpMessage> {
  const own: StreamedSpan[] = spans.map((span) => ({ ...span, stream: undefined }));
  return { ...jsonTextPieces(body, own, rebuildBody), ...NO_END };
}

/**
 * Binary elements are raw bytes, masked in place; JSON strings may need re-encoding, which a
 * body with a binary part cannot take: its JSON length is a header the other side reads.
 */
function tritonTexts(
  body: Buffer,
  jsonOnly: boolean,
  spans: readonly TritonTextSpan[],
): FrameTexts<HttpMessage> {
  const json: StreamedSpan[] = [];
  const binary: TextPiece[] = [];
  for (const span of spans) {
    if (span.form === 'json') json.push({ ...span, stream: undefined });
    else binary.push({ bytes: body.subarray(span.start, span.end), stream: undefined });
  }
  const texts = jsonTextPieces(body, json, jsonOnly ? rebuildBody : refuseRebuild);
  return { ...texts, pieces: [...texts.pieces, ...binary], ...NO_END };
}

// Limitation: card data written with JSON escapes in the JSON header of a binary infer body is
// refused rather than masked; Triton and its clients write digits plainly.
function refuseRebuild(): never {
  throw new ProxyError(
    'ERR_MASKING_FAILED',
    'card data in a JSON escape of a binary infer body cannot be masked in place',
  );
}

/** The message with a re-encoded body; only JSON bodies are ever re-encoded. */
function rebuildBody(message: HttpMessage, frame: Buffer): HttpMessage {
  return { ...message, frame };
}

/** The message with a re-encoded event, its fields read again from the new bytes. */
function rebuildEvent(message: HttpMessage, frame: Buffer): HttpMessage {
  return { ...message, frame, kind: 'sse-event', event: parseSseBlock(frame, false) };
}

/** The codec for the HTTP listener's masking filter. */
export function httpTextCodec(exchange: Exchange): TextCodec<HttpMessage> {
  return new HttpTextCodec(exchange);
}
