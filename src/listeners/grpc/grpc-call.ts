// One downstream gRPC call through the proxy: route, filter, forward, relay the answer.

import {
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { checkEncoding, readPayload } from '../../codecs/grpc-compression';
import { encodeGrpcFrame, GrpcFrameDecoder } from '../../codecs/grpc-frame-decoder';
import type { GrpcMessage } from '../../codecs/grpc-message';
import { encodeStreamInferError } from '../../codecs/protobuf-wire-writer';
import { decodeInferRequest } from '../../codecs/kserve-request-codec';
import { readModelTarget, type RpcSpec } from '../../codecs/kserve-rpc';
import { GrpcStatus } from '../../errors/error-codes';
import { isProxyError } from '../../errors/proxy-error';
import { Exchange } from '../../pipeline/exchange';
import { FilterChain } from '../../pipeline/filter-chain';
import type { HeadersResult } from '../../pipeline/filter';
import { afterHook } from '../../pipeline/hook-result';
import { LocalReply } from '../../pipeline/local-reply';
import type { Session } from '../../pipeline/session';
import type { GrpcListenerContext } from './grpc-listener-context';
import {
  parseGrpcTimeout,
  relayedResponseHeaders,
  statusTrailers,
  upstreamRequestHeaders,
} from './grpc-metadata';
import { UpstreamLeg, type LegEvents } from './grpc-upstream-leg';

const RESPONSE_HEADERS: OutgoingHttpHeaders = {
  ':status': 200,
  'content-type': 'application/grpc',
};

/**
 * Drives one call. Requests are routed message by message (each ModelStreamInfer request by
 * its own model), pass the request path of the chain, and go to one upstream leg per upstream.
 * Responses of every leg pass the response path and are interleaved at message boundaries. The
 * call ends with exactly one status: the upstream's trailers relayed as they came, or a local
 * reply. Cancellation travels both ways as RST_STREAM CANCEL.
 */
export class GrpcCall implements LegEvents {
  private readonly exchange: Exchange;
  private readonly chain: FilterChain<GrpcMessage>;
  private readonly decoder: GrpcFrameDecoder;
  private readonly legs = new Map<string, UpstreamLeg>();
  private readonly upstreamFull = new Set<UpstreamLeg>();
  private downstreamFull = false;
  private readonly encoding: string | undefined;
  private deadlineAt: number | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private responseStarted = false;
  private requestEnded = false;
  private finished = false;
  /** A local reply is on its way out: nothing else may answer. */
  private replying = false;
  /**
   * Response messages are no longer written: a local reply ends the call, or the status is out.
   * Until then a filter may still release held messages from its response-trailers hook.
   */
  private responsesClosed = false;
  private lastOutcome: { trailers: OutgoingHttpHeaders; status: number } | undefined;
  private pendingTrailers: OutgoingHttpHeaders | undefined;

  constructor(
    private readonly context: GrpcListenerContext,
    session: Session,
    private readonly stream: ServerHttp2Stream,
    private readonly headers: IncomingHttpHeaders,
    private readonly method: RpcSpec,
  ) {
    this.exchange = new Exchange({
      id: context.nextId(),
      listener: context.listenerName,
      protocol: 'grpc',
      operation: method.name,
      requestHeaders: headers,
      session,
      logger: context.logger,
    });
    this.decoder = new GrpcFrameDecoder(context.maxMessageBytes);
    this.encoding = headerValue(headers['grpc-encoding']);
    this.chain = new FilterChain(this.exchange, context.filters, {
      forwardRequest: (message) => this.forwardRequest(message),
      forwardResponse: (message) => this.forwardResponse(message),
      reply: (reply) => this.reply(reply),
    });
  }

  /** Starts the call: checks its headers, runs the request-headers hooks, then reads. */
  start(): void {
    this.stream.on('close', () => this.onDownstreamClosed());
    this.stream.on('wantTrailers', () => this.stream.sendTrailers(this.pendingTrailers ?? {}));
    try {
      checkEncoding(this.encoding);
      this.startDeadline(parseGrpcTimeout(this.headers['grpc-timeout']));
    } catch (err) {
      return this.fail(err);
    }

    const result = this.chain.onRequestHeaders(this.headers);
    if (result === undefined) return this.read();
    this.stream.pause();
    this.settle(result, () => this.read());
  }

  private read(): void {
    this.stream.on('data', (chunk: Buffer) => this.onRequestData(chunk));
    this.stream.on('end', () => this.onRequestEnd());
    this.stream.resume();
  }

  private onRequestData(chunk: Buffer): void {
    if (this.finished) return;
    this.exchange.requestBytes += chunk.length;
    try {
      this.decoder.push(chunk, (frame, compressed) => this.onRequestFrame(frame, compressed));
    } catch (err) {
      this.fail(err);
    }
  }

  /** Routes one request message and hands it to the chain; throws ProxyError on bad input. */
  private onRequestFrame(frame: Buffer, compressed: boolean): void {
    if (this.finished) return;
    if (++this.exchange.requestMessages > 1 && !this.method.clientStreaming) {
      const message = `${this.method.name} takes exactly one request message`;
      return this.reply(
        LocalReply.of('ERR_CARDINALITY_VIOLATION', message, 'cardinality_violation'),
      );
    }
    const payload = readPayload(frame, compressed, this.encoding, this.context.maxMessageBytes);
    const target = readModelTarget(this.method, payload);
    const model = target?.model || undefined;
    const route =
      model === undefined ? this.context.router.defaultRoute : this.context.router.match(model);
    if (route === undefined) return this.noRoute(payload, model);

    this.noteRoute(model, route.name, route.upstream);
    this.chain.requestMessage({ frame, compressed, model, upstream: route.upstream });
  }

  private noteRoute(model: string | undefined, route: string, upstream: string): void {
    if (this.exchange.route !== undefined) return;
    this.exchange.model = model;
    this.exchange.route = route;
    this.exchange.upstream = upstream;
  }

  /**
   * No route for the model. A stream answers that one request with an in-stream error and stays
   * open, as Triton does for an unknown model; any other call ends with NOT_FOUND.
   */
  private noRoute(payload: Buffer, model: string | undefined): void {
    const message =
      model === undefined
        ? `no default route for ${this.method.name}`
        : `no route for model "${model}"`;
    if (!this.method.clientStreaming) {
      return this.reply(LocalReply.of('ERR_ROUTE_NOT_FOUND', message, 'route_not_found'));
    }

    this.exchange.log.debug({ model }, 'no route for stream request');
    const facts = { modelName: model ?? '', modelVersion: '', id: decodeInferRequest(payload).id };
    const frame = encodeGrpcFrame(encodeStreamInferError(message, facts));
    this.startResponse(RESPONSE_HEADERS);
    this.chain.responseMessage({ frame, compressed: false, model, upstream: undefined });
  }

  private forwardRequest(message: GrpcMessage): void {
    if (this.finished) return;
    const leg = this.legs.get(message.upstream!) ?? this.openLeg(message.upstream!);
    if (leg === undefined) return;
    if (!this.method.clientStreaming) {
      // The one request message is the whole request: send it with END_STREAM in one go.
      return leg.end(message.frame);
    }
    if (!leg.write(message.frame) && !this.upstreamFull.has(leg)) {
      // Backpressure: stop reading the client until this upstream stream drains.
      this.upstreamFull.add(leg);
      this.stream.pause();
      leg.stream.once('drain', () => {
        this.upstreamFull.delete(leg);
        if (this.upstreamFull.size === 0) this.stream.resume();
      });
    }
  }

  private openLeg(upstreamName: string): UpstreamLeg | undefined {
    const pool = this.context.pools.get(upstreamName)!;
    const remainingMs =
      this.deadlineAt === undefined ? undefined : this.deadlineAt - performance.now();
    const headers = upstreamRequestHeaders(
      this.headers,
      this.method.path,
      pool.upstream,
      remainingMs,
    );
    this.exchange.upstreamRequestAt ??= performance.now();
    try {
      const leg = new UpstreamLeg(pool, headers, this.context.maxMessageBytes, this);
      this.legs.set(upstreamName, leg);
      return leg;
    } catch (err) {
      this.exchange.log.warn({ err, upstream: upstreamName }, 'upstream stream could not open');
      const message = `upstream "${upstreamName}" is unavailable`;
      this.reply(LocalReply.of('ERR_UPSTREAM_UNAVAILABLE', message, 'upstream_unavailable'));
      return undefined;
    }
  }

  private onRequestEnd(): void {
    this.requestEnded = true;
    if (this.finished) return;
    if (this.decoder.midMessage) {
      const reply = LocalReply.of(
        'ERR_MALFORMED_MESSAGE',
        'request ended inside a message',
        'truncated_message',
      );
      return this.reply(reply);
    }
    this.settle(this.chain.onRequestEnd(), () => this.endLegs());
  }

  private endLegs(): void {
    if (this.exchange.requestMessages === 0 && !this.method.clientStreaming) {
      const message = `${this.method.name} takes exactly one request message`;
      return this.reply(
        LocalReply.of('ERR_CARDINALITY_VIOLATION', message, 'cardinality_violation'),
      );
    }
    for (const leg of this.legs.values()) leg.end();
    this.finishIfDone();
  }

  onLegHeaders(_leg: UpstreamLeg, headers: IncomingHttpHeaders): void {
    this.exchange.upstreamHeadersAt ??= performance.now();
    if (this.responseStarted || this.finished) return;
    const relayed = { ...RESPONSE_HEADERS, ...relayedResponseHeaders(headers) };
    const result = this.chain.onResponseHeaders(relayed);
    if (result === undefined) return this.startResponse(relayed);
    this.pauseLegs();
    this.settle(result, () => {
      this.startResponse(relayed);
      this.resumeLegs();
    });
  }

  onLegFrame(leg: UpstreamLeg, frame: Buffer, compressed: boolean): void {
    if (this.finished) return;
    this.exchange.upstreamFirstByteAt ??= performance.now();
    this.exchange.responseMessages++;
    this.chain.responseMessage({ frame, compressed, model: undefined, upstream: leg.upstreamName });
  }

  private forwardResponse(message: GrpcMessage): void {
    if (this.responsesClosed) return;
    this.startResponse(RESPONSE_HEADERS);
    this.exchange.firstByteAt ??= performance.now();
    if (!this.stream.write(message.frame) && !this.downstreamFull) {
      // Backpressure: stop reading the upstreams until the client takes what was written.
      this.downstreamFull = true;
      this.pauseLegs();
      this.stream.once('drain', () => {
        this.downstreamFull = false;
        this.resumeLegs();
      });
    }
  }

  onLegError(leg: UpstreamLeg, err: unknown): void {
    if (isProxyError(err)) {
      // The upstream broke gRPC framing or sent an oversized message: end the call with it.
      leg.cancel();
      return this.fail(err);
    }
    this.exchange.log.debug({ err, upstream: leg.upstreamName }, 'upstream stream error');
  }

  onLegClosed(leg: UpstreamLeg): void {
    this.exchange.responseBytes += leg.bytesReceived;
    if (this.legs.get(leg.upstreamName) === leg) this.legs.delete(leg.upstreamName);
    if (this.finished) return;
    const outcome = leg.outcome();
    if (outcome.status !== GrpcStatus.OK) {
      if (outcome.status === GrpcStatus.UNAVAILABLE)
        this.exchange.detail ||= 'upstream_unavailable';
      return this.finish(outcome.trailers, outcome.status);
    }
    this.lastOutcome = outcome;
    this.finishIfDone();
  }

  /** Ends the call once the client is done sending (or cannot send more) and no leg is open. */
  private finishIfDone(): void {
    const clientDone = this.requestEnded || !this.method.clientStreaming;
    if (!clientDone || this.legs.size > 0 || this.finished) return;
    const outcome = this.lastOutcome ?? {
      trailers: statusTrailers(GrpcStatus.OK, ''),
      status: GrpcStatus.OK,
    };
    this.finish(outcome.trailers, outcome.status);
  }

  private fail(err: unknown): void {
    this.reply(this.failure(err));
  }

  /** The reply for an error; one that is not a ProxyError is a bug and is logged as one. */
  private failure(err: unknown): LocalReply {
    if (!isProxyError(err)) this.exchange.log.error({ err }, 'unexpected error in grpc call');
    return LocalReply.fromError(err);
  }

  /** Answers the call with a local reply and cancels whatever is still open upstream. */
  private reply(reply: LocalReply): void {
    if (this.finished || this.replying) return;
    this.replying = true;
    // A reply given before the request was read (a refusal in the request-headers hooks) must
    // still let the request's remaining bytes drain: the stream closes, and the exchange
    // completes, only once both of its sides have ended.
    if (this.stream.isPaused()) this.stream.resume();
    this.responsesClosed = true;
    this.exchange.detail = reply.detail;
    this.exchange.log.debug({ code: reply.error.code, detail: reply.detail }, 'local reply');
    const send = (final: LocalReply) => {
      this.exchange.detail = final.detail;
      const status = final.error.grpcStatus;
      const trailers = statusTrailers(status, final.error.message);
      for (const [name, value] of final.metadata) trailers[name] = value;
      this.finish(trailers, status);
    };
    afterHook(
      this.chain.onLocalReply(reply),
      () => send(reply),
      send,
      (err) => send(this.failure(err)),
    );
  }

  /**
   * Ends the call with its one status, after the response-trailers hooks had their say (a hook
   * may replace the status with a local reply, or hold it until its work is durable).
   */
  private finish(trailers: OutgoingHttpHeaders, status: number): void {
    if (this.finished) return;
    this.finished = true;
    this.exchange.status = status;
    clearTimeout(this.deadlineTimer);
    for (const leg of this.legs.values()) leg.cancel();
    if (this.stream.destroyed || this.stream.closed) return;

    afterHook(
      this.chain.onResponseTrailers(trailers),
      () => this.sendStatus(trailers),
      (reply) => this.sendStatus(this.replaceStatus(reply)),
      (err) => this.sendStatus(this.replaceStatus(this.failure(err))),
    );
  }

  private replaceStatus(reply: LocalReply): OutgoingHttpHeaders {
    this.exchange.status = reply.error.grpcStatus;
    this.exchange.detail = reply.detail;
    return statusTrailers(reply.error.grpcStatus, reply.error.message);
  }

  /** Sends the status: Trailers-Only when no response has started yet. */
  private sendStatus(trailers: OutgoingHttpHeaders): void {
    this.responsesClosed = true;
    if (this.stream.destroyed || this.stream.closed) return;
    if (!this.responseStarted) {
      this.responseStarted = true;
      this.stream.respond({ ...RESPONSE_HEADERS, ...trailers }, { endStream: true });
      return;
    }
    this.pendingTrailers = trailers;
    this.stream.end();
  }

  private startResponse(headers: OutgoingHttpHeaders): void {
    if (this.responseStarted || this.stream.destroyed || this.stream.closed) return;
    this.responseStarted = true;
    this.stream.respond(headers, { waitForTrailers: true });
  }

  private startDeadline(timeoutMs: number | undefined): void {
    if (timeoutMs === undefined) return;
    this.deadlineAt = performance.now() + timeoutMs;
    this.deadlineTimer = setTimeout(() => {
      const message = `deadline of ${timeoutMs} ms exceeded`;
      this.reply(LocalReply.of('ERR_DEADLINE_EXCEEDED', message, 'deadline_exceeded'));
    }, timeoutMs);
  }

  private onDownstreamClosed(): void {
    clearTimeout(this.deadlineTimer);
    if (!this.finished) {
      // The client reset the stream or its connection dropped: the upstream must stop too.
      this.finished = true;
      this.responsesClosed = true;
      this.exchange.status = GrpcStatus.CANCELLED;
      this.exchange.detail = 'downstream_cancelled';
      for (const leg of this.legs.values()) leg.cancel();
    }
    this.exchange.endedAt = performance.now();
    this.chain.complete();
  }

  private pauseLegs(): void {
    for (const leg of this.legs.values()) leg.stream.pause();
  }

  private resumeLegs(): void {
    for (const leg of this.legs.values()) leg.stream.resume();
  }
  /** Goes on with `next` once the hooks let the call go on; see afterHook. */
  private settle(result: HeadersResult, next: () => void): void {
    afterHook(
      result,
      next,
      (reply) => this.reply(reply),
      (err) => this.fail(err),
    );
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
