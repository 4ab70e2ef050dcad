// The contract of the codecs that find the texts (prompts, generated tokens) inside messages.

import type { OutgoingHttpHeaders } from 'node:http2';
import type { FrameTexts } from '../masking/frame-holdback';
import type { Exchange } from '../pipeline/exchange';
import type { ExchangeMessage } from '../pipeline/filter';

/**
 * Reads the texts of one exchange's messages, for masking and for the audit trail; protocol
 * knowledge lives here, not in the filters. One instance per exchange and reader: an instance
 * may keep state across the messages of its exchange (stream names, event shapes).
 */
export interface TextCodec<M extends ExchangeMessage> {
  /**
   * The texts of a request message, each complete in itself; undefined when it carries none.
   * Throws ProxyError for a message it cannot read.
   */
  requestTexts(message: M): FrameTexts<M> | undefined;
  /** Sees the response headers before the first response message. */
  responseHeaders?(headers: OutgoingHttpHeaders): void;
  /** The texts of a response message; throws ProxyError for one it cannot read. */
  responseTexts(message: M): FrameTexts<M> | undefined;
}

/** Makes the codec instance of one exchange. */
export type TextCodecFactory<M extends ExchangeMessage> = (exchange: Exchange) => TextCodec<M>;
