// One HTTP exchange through the proxy: classify, route, filter, forward, relay the answer.

import type { Socket } from 'node:net';
import type { Dispatcher } from 'undici';
import { findHeader, type Http1RequestHead } from '../../codecs/http1-request-parser';
import { decodeOpenAIRequest, type OpenAIRequestFacts } from '../../codecs/openai-request-codec';
import { SseDecoder, type SseEventBytes } from '../../codecs/sse-decoder';
import type { HttpMessage } from '../../codecs/http-message';
import { isProxyError } from '../../errors/proxy-error';
import { Exchange } from '../../pipeline/exchange';
import { FilterChain } from '../../pipeline/filter-chain';
import { afterHook } from '../../pipeline/hook-result';
import { LocalReply } from '../../pipeline/local-reply';
import type { Session } from '../../pipeline/session';
import type { RouteConfig } from '../../config/gateway-config';
import { findHttpApiTarget, type HttpApiTarget } from './http-api-routes';
import type { HttpCallContext } from './http-call-context';
import { errorBody, errorEvent } from './http-error-body';
import { clientHeaders, upstreamHeaders } from './http-headers';
import { HttpResponseWriter, type BodyFraming, type HeaderLine } from './http-response-writer';
import { UpstreamResponse, type UpstreamResponseEvents } from './upstream-response';

/** What the call needs from its connection. */
export interface HttpCallOwner {
  readonly socket: Socket;
  readonly session: Session;
  /** True once the connection will close after this exchange (pipelining, drain, errors). */
  readonly closing: boolean;
  /** The call has sent its whole response; `reusable` when the connection may carry another. */
  onCallFinished(reusable: boolean): void;
}

const JSON_HEADERS = [['content-type', 'application/json']] as const;

/**
 * Drives one exchange. The request body is read whole (bounded by the listener's limit) because
 * OpenAI requests name their model inside it; the response streams back as it arrives, SSE
 * events passing the response path of the chain one by one when a filter inspects them.
 */
export class HttpCall implements UpstreamResponseEvents {
  private readonly exchange: Exchange;
  private readonly chain: FilterChain<HttpMessage>;
  private readonly writer: HttpResponseWriter;
  private readonly body: Buffer[] = [];
  private target: HttpApiTarget | undefined;
  private route: RouteConfig | undefined;
  private upstream: UpstreamResponse | undefined;
  private sse: SseDecoder | undefined;
  /** The response is an event stream: a failure after its start becomes an error event. */
  private eventStream = false;
  private mode: ResponseMode = 'raw';
  /** Status and headers held back while a whole body passes the chain. */
  private pendingHead: { status: number; lines: HeaderLine[] } | undefined;
  private upstreamHeaders: Record<string, string | string[] | undefined> = {};
  private readonly whole: Buffer[] = [];
  private wholeBytes = 0;
  private headersPending: Promise<void> | undefined;
  private finished = false;
  /** A local reply is on its way out: nothing else may answer. */
  private replying = false;

  constructor(
    private readonly context: HttpCallContext,
    private readonly owner: HttpCallOwner,
    private readonly head: Http1RequestHead,
  ) {
    this.writer = new HttpResponseWriter(owner.socket);
    this.exchange = new Exchange({
      id: context.nextId(),
      listener: context.listenerName,
      protocol: 'http',
      // The path stays out of the record until classified: it is the client's text.
      operation: `${head.method} (unclassified)`,
      requestHeaders: Object.fromEntries(head.headers),
      session: owner.session,
      logger: context.logger,
    });
    this.chain = new FilterChain(this.exchange, context.filters, {
      forwardRequest: (message) => this.forwardRequest(message),
      forwardResponse: (message) => this.forwardResponse(message),
      reply: (reply) => this.reply(reply),
    });
  }

  /** Checks the request's method and path and runs the request-headers hooks. */
  start(): void {
    try {
      this.target = findHttpApiTarget(this.head.method, this.head.path);
    } catch {
      return this.reply(
        LocalReply.of(
          'ERR_HTTP_MALFORMED',
          'model name in the path is not valid percent-encoding',
          'malformed_path',
        ),
      );
    }
    if (this.target === undefined) {
      const message = `no API operation at ${this.head.method} ${this.head.path.slice(0, 128)}`;
      return this.reply(LocalReply.of('ERR_UNKNOWN_OPERATION', message, 'unknown_operation'));
    }
    this.exchange.operation = this.target.operation;
    const encoding = findHeader(this.head, 'content-encoding');
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
      // A compressed body could hide prompt text from every filter: refuse rather than pass.
      const message = `content-encoding "${encoding.slice(0, 32)}" is not supported`;
      return this.reply(LocalReply.of('ERR_UNSUPPORTED_ENCODING', message, 'unsupported_encoding'));
    }
    const result = this.chain.onRequestHeaders(this.exchange.requestHeaders);
    if (result instanceof LocalReply) return this.reply(result);
    if (result !== undefined) this.headersPending = this.awaitHeaders(result);
  }

  /** A piece of the request body, already de-chunked by the parser. */
  onRequestBody(chunk: Buffer): void {
    this.exchange.requestBytes += chunk.length;
    this.body.push(chunk);
  }

  /** The request is complete: route it and send it on. */
  onRequestEnd(): void {
    if (this.finished) return;
    if (this.headersPending === undefined) return this.routeRequest();
    void this.headersPending.then(() => this.routeRequest());
  }

  /** The rest of the request cannot be read: answer with `reply`, then the connection closes. */
  rejectRequest(reply: LocalReply): void {
    this.reply(reply);
  }

  /**
   * The client went away: stop the upstream at once. A client that had the whole response (every
   * byte of its declared length) and closed, as `connection: close` lets it, before the
   * upstream's end was seen here, did not go away from anything: the exchange ended normally.
   */
  onClientGone(): void {
    if (this.finished) return;
    this.finished = true;
    if (!this.writer.complete) {
      this.exchange.detail ||= 'downstream_disconnected';
      this.exchange.status ??= 499;
    }
    this.upstream?.abort();
    this.complete();
  }

  private async awaitHeaders(pending: Promise<void | LocalReply>): Promise<void> {
    const result = await pending;
    if (result instanceof LocalReply) this.reply(result);
  }

  private routeRequest(): void {
    if (this.finished) return;
    const body = this.body.length === 1 ? this.body[0]! : Buffer.concat(this.body);
    this.exchange.requestMessages = 1;
    let openai: OpenAIRequestFacts | undefined;
    try {
      openai = this.target!.bodyModel ? decodeOpenAIRequest(this.head.path, body) : undefined;
    } catch (err) {
      return this.fail(err);
    }
    const model = openai === undefined ? this.target!.pathModel : openai.model;
    const router = this.context.router;
    this.route = model === undefined ? router.defaultRoute : router.match(model);
    this.exchange.model = model;
    if (this.route === undefined) return this.noRoute(model);

    this.exchange.route = this.route.name;
    this.exchange.upstream = this.route.upstream;
    this.chain.requestMessage({ frame: body, kind: 'request-body', openai });
  }

  private noRoute(model: string | undefined): void {
    const message =
      model === undefined
        ? `no default route for ${this.target!.operation}`
        : `no route for model "${model}"`;
    this.reply(LocalReply.of('ERR_ROUTE_NOT_FOUND', message, 'route_not_found'));
  }

  private forwardRequest(message: HttpMessage): void {
    if (this.finished) return;
    const pool = this.context.pools.get(this.route!.upstream)!;
    const options: Dispatcher.DispatchOptions = {
      method: this.head.method as Dispatcher.HttpMethod,
      // Origin-form as received; an absolute-form target is sent on as its path.
      path: this.head.target.startsWith('/') ? this.head.target : this.head.path,
      headers: upstreamHeaders(this.head.headers, pool.upstream),
      body: this.head.method === 'GET' && message.frame.length === 0 ? null : message.frame,
    };
    this.exchange.upstreamRequestAt = performance.now();
    this.upstream = new UpstreamResponse(pool, options, this);
  }

  onUpstreamStart(status: number, headers: Record<string, string | string[] | undefined>): void {
    if (this.finished) return;
    this.exchange.upstreamHeadersAt = performance.now();
    this.exchange.status = status;
    const contentType = String(headers['content-type'] ?? '');
    this.upstreamHeaders = headers;
    this.eventStream = contentType.startsWith('text/event-stream');
    this.mode = responseMode(this.chain.inspectsResponseMessages, this.eventStream, headers);
    if (this.mode === 'events') this.sse = new SseDecoder();
    const lines = clientHeaders(headers);
    if (this.mode === 'whole') {
      // The body passes the chain as one message; its length is known only after that.
      this.pendingHead = { status, lines };
      return;
    }
    // An event a filter re-encodes may change length, so events never keep a declared length.
    const length = this.mode === 'events' ? undefined : headers['content-length'];
    this.writeHead(status, lines, length === undefined ? undefined : Number(length));
  }

  onUpstreamData(chunk: Buffer): void {
    if (this.finished) return;
    this.exchange.upstreamFirstByteAt ??= performance.now();
    this.exchange.responseBytes += chunk.length;
    if (this.mode === 'raw') return void this.forwardChunk(chunk);
    if (this.mode === 'chunks')
      return this.chain.responseMessage({ frame: chunk, kind: 'body-chunk' });
    if (this.mode === 'whole') return this.collectWhole(chunk);
    try {
      this.sse!.push(chunk, (event) => this.forwardEvent(event));
    } catch (err) {
      this.fail(err);
    }
  }

  onUpstreamEnd(): void {
    if (this.finished) return;
    try {
      const rest = this.sse?.end((event) => this.forwardEvent(event));
      if (rest !== undefined) this.chain.responseMessage({ frame: rest, kind: 'body-chunk' });
    } catch (err) {
      return this.fail(err);
    }
    if (this.mode === 'whole') {
      const frame = Buffer.concat(this.whole);
      this.chain.responseMessage({ frame, kind: 'whole-body', headers: this.upstreamHeaders });
    }
    afterHook(
      this.chain.onResponseTrailers({}),
      () => this.endResponse(),
      (reply) => this.reply(reply),
      (err) => this.fail(err),
    );
  }

  private forwardEvent(event: SseEventBytes): void {
    this.chain.responseMessage({ frame: event.bytes, kind: 'sse-event', event });
  }

  private endResponse(): void {
    if (this.finished) return;
    this.writer.end();
    this.finish(this.head.keepAlive);
  }

  private collectWhole(chunk: Buffer): void {
    this.wholeBytes += chunk.length;
    if (this.wholeBytes > this.context.maxBodyBytes) {
      const message = `upstream response exceeds ${this.context.maxBodyBytes} bytes`;
      return this.reply(
        LocalReply.of('ERR_UPSTREAM_PROTOCOL', message, 'upstream_response_too_large'),
      );
    }
    this.whole.push(chunk);
  }

  /** Sends the status line and headers; a known length keeps the body's framing. */
  private writeHead(status: number, lines: HeaderLine[], length: number | undefined): void {
    const framing: BodyFraming =
      length !== undefined ? 'length' : this.head.version === '1.1' ? 'chunked' : 'close';
    if (framing === 'length') lines.push(['content-length', String(length)]);
    if (framing === 'close') lines.push(['connection', 'close']);
    else lines.push(...this.closeHeader());
    this.writer.writeHead(status, lines, framing, length);
  }

  onUpstreamError(err: Error, beforeResponse: boolean): void {
    if (this.finished) return;
    const reply = upstreamFailure(this.route!.upstream, err);
    if (this.writer.headSent && !beforeResponse) {
      this.exchange.log.warn(
        { err, upstream: this.route!.upstream },
        'upstream failed mid-response',
      );
    }
    this.reply(reply);
  }

  /**
   * Ends a response whose status line is already out: an event stream gets an error event in
   * its API's shape and a proper end; any other body can only be cut, which the client sees
   * as a truncated response.
   */
  private endStarted(reply: LocalReply): void {
    this.exchange.detail = reply.detail;
    if (!this.eventStream) {
      this.owner.socket.destroy();
      return this.finish(false);
    }
    this.writer.write(errorEvent(this.target?.api, reply));
    this.writer.end();
    this.finish(false);
  }

  private forwardResponse(message: HttpMessage): void {
    if (this.finished) return;
    this.exchange.responseMessages++;
    const head = this.pendingHead;
    if (head !== undefined) {
      this.pendingHead = undefined;
      this.writeHead(head.status, head.lines, message.frame.length);
    }
    this.forwardChunk(message.frame);
  }

  private forwardChunk(chunk: Buffer): boolean {
    this.exchange.firstByteAt ??= performance.now();
    const room = this.writer.write(chunk);
    if (!room) this.upstream?.pauseUntilDrained(this.owner.socket);
    return room;
  }

  private fail(err: unknown): void {
    if (!isProxyError(err)) this.exchange.log.error({ err }, 'unexpected error in http call');
    this.reply(LocalReply.fromError(err));
  }

  /**
   * Answers with a local reply: a JSON error, or an error event when a stream already began.
   * The local-reply hooks see it first and may hold it (until its audit frame is durable) or
   * replace it.
   */
  private reply(reply: LocalReply): void {
    if (this.finished || this.replying) return;
    this.replying = true;
    this.upstream?.abort();
    this.exchange.detail = reply.detail;
    if (!this.writer.headSent) this.exchange.status = reply.error.httpStatus;
    const send = (final: LocalReply) => this.sendReply(final);
    afterHook(
      this.chain.onLocalReply(reply),
      () => send(reply),
      send,
      (err) => {
        this.exchange.log.error({ err }, 'local reply hook failed');
        send(LocalReply.fromError(err));
      },
    );
  }

  private sendReply(reply: LocalReply): void {
    if (this.finished) return;
    if (this.writer.headSent) return this.endStarted(reply);
    this.exchange.detail = reply.detail;
    this.exchange.status = reply.error.httpStatus;
    const body = errorBody(this.target?.api, reply);
    this.writer.writeComplete(
      reply.error.httpStatus,
      [...JSON_HEADERS, ...reply.httpHeaders, ...this.closeHeader()],
      body,
    );
    this.finish(this.head.keepAlive);
  }

  /** `connection: close` when this response is the connection's last. */
  private closeHeader(): (readonly [string, string])[] {
    return this.head.keepAlive && !this.owner.closing ? [] : [['connection', 'close']];
  }

  private finish(reusable: boolean): void {
    this.finished = true;
    this.complete();
    this.owner.onCallFinished(reusable);
  }

  private complete(): void {
    this.exchange.endedAt = performance.now();
    this.chain.complete();
  }
}

/**
 * How response bytes meet the chain: not at all when no filter reads response messages (`raw`),
 * event by event for SSE, as one message for a JSON body or a Triton binary infer body (whose
 * JSON header length is a header), chunk by chunk for anything else.
 */
type ResponseMode = 'raw' | 'events' | 'whole' | 'chunks';

function responseMode(
  inspected: boolean,
  eventStream: boolean,
  headers: Record<string, string | string[] | undefined>,
): ResponseMode {
  if (!inspected) return 'raw';
  if (eventStream) return 'events';
  if (headers['inference-header-content-length'] !== undefined) return 'whole';
  const contentType = String(headers['content-type'] ?? '');
  return /^application\/(?:[\w.+-]+\+)?json\b/.test(contentType) ? 'whole' : 'chunks';
}

/** The local reply for an upstream failure: unreachable, too slow, or broken. */
function upstreamFailure(upstream: string, err: Error): LocalReply {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return LocalReply.of(
      'ERR_UPSTREAM_TIMEOUT',
      `upstream "${upstream}" did not answer in time`,
      'upstream_timeout',
    );
  }
  if (isProxyError(err)) return new LocalReply(err, 'upstream_protocol_error');
  return LocalReply.of(
    'ERR_UPSTREAM_UNAVAILABLE',
    `upstream "${upstream}" is unavailable`,
    'upstream_unavailable',
  );
}
