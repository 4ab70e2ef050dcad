// The filter contract every stage of the chain implements, for gRPC and HTTP alike.

import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import type { Exchange } from './exchange';
import type { LocalReply } from './local-reply';

/** One message of an exchange as it travels: the bytes on the wire, framing included. */
export interface ExchangeMessage {
  /** The frame to forward. A filter that rewrites text in place keeps the same buffer. */
  frame: Buffer;
  /**
   * What the exchange's shared text codec read of `frame`, kept for the message's other readers
   * (see `shared-text-codec.ts`); it holds only while `frame` is the buffer it was read from.
   */
  reading?: { readonly frame: Buffer; readonly texts: unknown };
}

/** Returned by a message hook that keeps the message; it passes it on later via callbacks. */
export const HOLD: unique symbol = Symbol('hold');

/** What a hook answers: continue (undefined), a local reply, or, for message hooks, HOLD. */
export type HeadersResult = void | LocalReply | Promise<void | LocalReply>;
export type MessageResult = void | LocalReply | typeof HOLD | Promise<void | LocalReply>;

/**
 * A stage of the chain, one instance per exchange. Request hooks run in chain order, response
 * hooks in reverse. Every hook is optional; an absent hook costs nothing. A hook never throws
 * for an expected failure: it returns a LocalReply. `onExchangeComplete` runs exactly once,
 * however the exchange ended, and must not throw.
 */
export interface Filter<M extends ExchangeMessage = ExchangeMessage> {
  onRequestHeaders?(headers: IncomingHttpHeaders): HeadersResult;
  onRequestMessage?(message: M): MessageResult;
  onRequestEnd?(): HeadersResult;
  onResponseHeaders?(headers: OutgoingHttpHeaders): HeadersResult;
  onResponseMessage?(message: M): MessageResult;
  onResponseTrailers?(trailers: OutgoingHttpHeaders): HeadersResult;
  /**
   * A local reply is about to end the exchange (a refusal, an upstream failure): runs in
   * response order before the reply is written, and may delay it (a promise) or replace it.
   */
  onLocalReply?(reply: LocalReply): HeadersResult;
  onExchangeComplete?(): void;
}

/** What a filter may call later, after it returned HOLD or to end the exchange on its own. */
export interface FilterCallbacks<M extends ExchangeMessage = ExchangeMessage> {
  /** Passes a held request message on to the filters after this one. */
  continueRequestMessage(message: M): void;
  /** Passes a held response message on to the filters before this one, towards the client. */
  continueResponseMessage(message: M): void;
  /** Ends the exchange with a local reply. */
  reply(reply: LocalReply): void;
}

/**
 * Builds a filter for one exchange from configuration parsed once at start-up. Returning
 * undefined leaves the filter out of this exchange.
 */
export interface FilterFactory<M extends ExchangeMessage = ExchangeMessage> {
  readonly name: string;
  create(exchange: Exchange, callbacks: FilterCallbacks<M>): Filter<M> | undefined;
}
