// Runs an exchange's filters: request path in order, response path in reverse.

import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import type { Exchange } from './exchange';
import {
  HOLD,
  type ExchangeMessage,
  type Filter,
  type FilterCallbacks,
  type FilterFactory,
  type HeadersResult,
  type MessageResult,
} from './filter';
import { LocalReply } from './local-reply';

/** Where messages go once every filter let them through, and where local replies go. */
export interface ChainSinks<M extends ExchangeMessage> {
  forwardRequest(message: M): void;
  forwardResponse(message: M): void;
  reply(reply: LocalReply): void;
}

type MessageHook = 'onRequestMessage' | 'onResponseMessage';
type HeadersHook =
  'onRequestHeaders' | 'onRequestEnd' | 'onResponseHeaders' | 'onResponseTrailers' | 'onLocalReply';

/** Per-direction state: messages wait here while a filter's promise is pending. */
interface Lane<M extends ExchangeMessage> {
  readonly filters: readonly Filter<M>[];
  readonly hook: MessageHook;
  readonly sink: (message: M) => void;
  busy: boolean;
  readonly queue: { message: M; from: number }[];
}

/**
 * The filters of one exchange. Message order is kept per direction even when a hook answers
 * with a promise: later messages wait until it settles. A filter that returned HOLD passes the
 * message on through its callbacks and is responsible for the order of what it holds.
 */
export class FilterChain<M extends ExchangeMessage = ExchangeMessage> {
  private readonly filters: Filter<M>[] = [];
  /** The filters in response-path order. */
  private readonly reversed: Filter<M>[];
  private readonly requestLane: Lane<M>;
  private readonly responseLane: Lane<M>;
  private ended = false;

  constructor(
    private readonly exchange: Exchange,
    factories: readonly FilterFactory<M>[],
    private readonly sinks: ChainSinks<M>,
  ) {
    for (const factory of factories) this.addFilter(factory);
    this.reversed = [...this.filters].reverse();
    this.requestLane = this.lane(this.filters, 'onRequestMessage', sinks.forwardRequest);
    this.responseLane = this.lane(this.reversed, 'onResponseMessage', sinks.forwardResponse);
  }

  /** True when some filter inspects response messages; otherwise bytes may pass unparsed. */
  get inspectsResponseMessages(): boolean {
    return this.responseLane.filters.length > 0;
  }

  onRequestHeaders(headers: IncomingHttpHeaders): HeadersResult {
    return this.runHeaders('onRequestHeaders', this.filters, headers);
  }

  onRequestEnd(): HeadersResult {
    return this.runHeaders('onRequestEnd', this.filters, undefined);
  }

  onResponseHeaders(headers: OutgoingHttpHeaders): HeadersResult {
    return this.runHeaders('onResponseHeaders', this.reversed, headers);
  }

  onResponseTrailers(trailers: OutgoingHttpHeaders): HeadersResult {
    return this.runHeaders('onResponseTrailers', this.reversed, trailers);
  }

  /** Lets the filters see (and delay, or replace) a local reply before it is written. */
  onLocalReply(reply: LocalReply): HeadersResult {
    return this.runHeaders('onLocalReply', this.reversed, reply);
  }

  /** Runs a request message through the filters, then to the upstream sink. */
  requestMessage(message: M): void {
    this.enqueue(this.requestLane, message, 0);
  }

  /** Runs a response message through the filters in reverse, then to the client sink. */
  responseMessage(message: M): void {
    this.enqueue(this.responseLane, message, 0);
  }

  /** Tells every filter the exchange is over; runs once, whatever ended it. */
  complete(): void {
    if (this.ended) return;
    this.ended = true;
    for (const filter of this.filters) {
      try {
        filter.onExchangeComplete?.();
      } catch (err) {
        this.exchange.log.error({ err }, 'filter threw on exchange completion');
      }
    }
  }

  private addFilter(factory: FilterFactory<M>): void {
    const index = this.filters.length;
    const callbacks: FilterCallbacks<M> = {
      continueRequestMessage: (message) => this.resume(this.requestLane, message, index),
      continueResponseMessage: (message) => this.resume(this.responseLane, message, index),
      reply: (reply) => this.sinks.reply(reply),
    };
    const filter = factory.create(this.exchange, callbacks);
    if (filter !== undefined) this.filters.push(filter);
  }

  private lane(filters: Filter<M>[], hook: MessageHook, sink: (message: M) => void): Lane<M> {
    return {
      filters: filters.filter((f) => f[hook] !== undefined),
      hook,
      sink,
      busy: false,
      queue: [],
    };
  }

  private resume(lane: Lane<M>, message: M, filterIndex: number): void {
    const position = lane.filters.indexOf(this.filters[filterIndex]!);
    this.enqueue(lane, message, position + 1);
  }

  private enqueue(lane: Lane<M>, message: M, from: number): void {
    if (lane.busy) {
      lane.queue.push({ message, from });
      return;
    }
    this.runLane(lane, message, from);
  }

  /** Runs `message` from filter `from` on; stops at HOLD, a local reply or a pending promise. */
  private runLane(lane: Lane<M>, message: M, from: number): void {
    for (let i = from; i < lane.filters.length; i++) {
      const result = this.callMessageHook(lane.filters[i]!, lane.hook, message);
      if (result === undefined) continue;
      if (result === HOLD) return;
      if (result instanceof LocalReply) return this.sinks.reply(result);
      return this.await(lane, result, message, i + 1);
    }
    lane.sink(message);
  }

  private await(
    lane: Lane<M>,
    pending: Promise<void | LocalReply>,
    message: M,
    next: number,
  ): void {
    lane.busy = true;
    pending.then(
      (result) => {
        if (result instanceof LocalReply) return this.sinks.reply(result);
        lane.busy = false;
        this.runLane(lane, message, next);
        this.drain(lane);
      },
      (err: unknown) => this.sinks.reply(this.filterException(err)),
    );
  }

  /** Runs queued messages until the queue is empty or a filter makes the lane wait again. */
  private drain(lane: Lane<M>): void {
    while (!lane.busy) {
      const queued = lane.queue.shift();
      if (queued === undefined) return;
      this.runLane(lane, queued.message, queued.from);
    }
  }

  private callMessageHook(filter: Filter<M>, hook: MessageHook, message: M): MessageResult {
    try {
      return filter[hook]!(message);
    } catch (err) {
      return this.filterException(err);
    }
  }

  private runHeaders(
    hook: HeadersHook,
    filters: readonly Filter<M>[],
    value: unknown,
  ): HeadersResult {
    for (let i = 0; i < filters.length; i++) {
      const result = this.callHeadersHook(filters[i]!, hook, value);
      if (result === undefined) continue;
      if (result instanceof LocalReply) return result;
      return result.then(
        (settled) => settled ?? this.runHeaders(hook, filters.slice(i + 1), value),
        (err: unknown) => this.filterException(err),
      );
    }
    return undefined;
  }

  private callHeadersHook(filter: Filter<M>, hook: HeadersHook, value: unknown): HeadersResult {
    const fn = filter[hook] as ((value: unknown) => HeadersResult) | undefined;
    if (fn === undefined) return undefined;
    try {
      return fn.call(filter, value);
    } catch (err) {
      return this.filterException(err);
    }
  }

  /** An exception escaping a filter is a bug: answer INTERNAL and log it at error. */
  private filterException(err: unknown): LocalReply {
    this.exchange.log.error({ err }, 'filter threw');
    return LocalReply.of('ERR_FILTER_EXCEPTION', 'internal error in infergate', 'filter_exception');
  }
}
