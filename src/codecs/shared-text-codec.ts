// One text codec per exchange for every filter that reads texts, each message decoded once.

import type { OutgoingHttpHeaders } from 'node:http2';
import type { FrameTexts } from '../masking/frame-holdback';
import { grpcTextCodec } from './grpc-text-codec';
import type { GrpcMessage } from './grpc-message';
import { httpTextCodec } from './http-text-codec';
import type { HttpMessage } from './http-message';
import type { Exchange } from '../pipeline/exchange';
import type { ExchangeMessage } from '../pipeline/filter';
import type { TextCodec, TextCodecFactory } from './text-codec';

/** What a reading of a message that carries no text is remembered as. */
const NO_TEXTS = null;

/**
 * Remembers what the codec read of each message, so the next reader of the same message gets
 * the same reading instead of decoding it again. Sound because of how the chain passes
 * messages: a piece is a view into the message's frame or a copy owned by the reading, every
 * reader that keeps text copies it before passing the message on, and the one filter that
 * rewrites texts (masking) rewrites those same views in place, so a later reader sees them as
 * they now are. A message masking had to re-encode has a new frame, and is read afresh. The
 * reading is kept on the message itself: a map keyed by messages cost more than the decoding
 * it saved on a token stream.
 */
class SharedTextCodec<M extends ExchangeMessage> implements TextCodec<M> {
  constructor(private readonly codec: TextCodec<M>) {}

  requestTexts(message: M): FrameTexts<M> | undefined {
    const known = readingOf(message);
    if (known !== undefined) return known ?? undefined;
    return remember(message, this.codec.requestTexts(message));
  }

  responseHeaders(headers: OutgoingHttpHeaders): void {
    this.codec.responseHeaders?.(headers);
  }

  responseTexts(message: M): FrameTexts<M> | undefined {
    const known = readingOf(message);
    if (known !== undefined) return known ?? undefined;
    return remember(message, this.codec.responseTexts(message));
  }
}

/** The reading kept on `message` for its frame; undefined when it has none. */
function readingOf<M extends ExchangeMessage>(
  message: M,
): FrameTexts<M> | typeof NO_TEXTS | undefined {
  const reading = message.reading;
  if (reading === undefined || reading.frame !== message.frame) return undefined;
  return reading.texts as FrameTexts<M> | typeof NO_TEXTS;
}

function remember<M extends ExchangeMessage>(
  message: M,
  texts: FrameTexts<M> | undefined,
): FrameTexts<M> | undefined {
  message.reading = { frame: message.frame, texts: texts ?? NO_TEXTS };
  return texts;
}

/**
 * Wraps `factory` so that the filters of one listener share one codec instance per exchange:
 * the originals tap, masking, reviews and the audit trail each read the same response
 * messages, and each message is decoded by the first of them only. A codec that throws for a
 * message is asked again by the next reader, which then gets the same error.
 */
export function sharedTextCodec<M extends ExchangeMessage>(
  factory: TextCodecFactory<M>,
): TextCodecFactory<M> {
  const byExchange = new WeakMap<Exchange, SharedTextCodec<M>>();
  return (exchange) => {
    let codec = byExchange.get(exchange);
    if (codec === undefined) {
      codec = new SharedTextCodec(factory(exchange));
      byExchange.set(exchange, codec);
    }
    return codec;
  };
}

/** The shared codecs of a gateway's two data listeners. */
export interface ListenerTextCodecs {
  readonly grpc: TextCodecFactory<GrpcMessage>;
  readonly http: TextCodecFactory<HttpMessage>;
}

/** Shared codecs for the gRPC and HTTP listeners; `maxMessageBytes` bounds a gRPC message. */
export function listenerTextCodecs(maxMessageBytes: number): ListenerTextCodecs {
  return {
    grpc: sharedTextCodec(grpcTextCodec(maxMessageBytes)),
    http: sharedTextCodec(httpTextCodec),
  };
}
