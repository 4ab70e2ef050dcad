// One exchange on the demo HTTP server: its body, its answer, and noticing a client that left.

import type { EventEmitter } from 'node:events';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { status as grpcStatus } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { DemoVocabulary } from './demo-http-vocabulary';
import type { DemoModelRegistry } from './demo-models';
import type { DemoFailure } from './kserve-messages';

/** Largest request body read; a bigger one is answered 413 and its connection closed. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** What every route handler of one demo HTTP server shares. */
export interface DemoHttpContext {
  readonly registry: DemoModelRegistry;
  readonly vocabulary: DemoVocabulary;
  /** Emits 'request' and 'disconnected' (see `DemoHttpServer.events`). */
  readonly events: EventEmitter;
  /** Delay between streamed tokens; 0 sends them as fast as the socket takes them. */
  readonly tokenDelayMs: number;
  readonly logger: Logger;
  /** The version reported by `GET /version` and `GET /v2`. */
  readonly version: string;
  /** Unix seconds when the server started: the `created` time of every model. */
  readonly startedS: number;
  /** A fresh id with `prefix`, from a per-server counter so that runs are repeatable. */
  nextId(prefix: string): string;
}

/** OpenAI `type` names by HTTP status, as vLLM reports them. */
const OPENAI_ERROR_TYPES: Readonly<Record<number, string>> = Object.freeze({
  400: 'BadRequestError',
  401: 'AuthenticationError',
  404: 'NotFoundError',
  405: 'MethodNotAllowedError',
  413: 'RequestEntityTooLargeError',
  500: 'InternalServerError',
  503: 'ServiceUnavailableError',
});

/** HTTP statuses for the gRPC codes the demo models fail with (Triton's mapping). */
const HTTP_STATUS_OF_GRPC: Readonly<Record<number, number>> = Object.freeze({
  [grpcStatus.NOT_FOUND]: 404,
  [grpcStatus.UNAVAILABLE]: 503,
  [grpcStatus.UNIMPLEMENTED]: 501,
  [grpcStatus.INTERNAL]: 500,
});

/** Where an OpenAI-shaped error points: the offending request field, if any. */
export interface ErrorDetail {
  readonly param?: string;
}

/**
 * One request and its response. Routes under `/v2` answer errors in Triton's shape
 * `{"error": "..."}`, every other route in vLLM's `{"error": {message, type, param, code}}`.
 */
export class HttpExchange {
  /** The request path without its query string. */
  readonly path: string;
  private body = Buffer.alloc(0);
  private departed = false;
  private readonly departureWaiters = new Set<() => void>();

  constructor(
    readonly request: IncomingMessage,
    readonly response: ServerResponse,
    readonly context: DemoHttpContext,
  ) {
    this.path = (request.url ?? '/').split('?', 1)[0] ?? '/';
    response.once('close', () => this.onClose());
  }

  /** True once the client went away before the response was complete. */
  get gone(): boolean {
    return this.departed;
  }

  /** The request body, once `readBody` has resolved. */
  get bodyBytes(): Buffer {
    return this.body;
  }

  /**
   * Reads the whole body. Resolves false when the client left first, or when the body is over
   * `MAX_BODY_BYTES` (then 413 has been answered).
   */
  readBody(): Promise<boolean> {
    const chunks: Buffer[] = [];
    let size = 0;
    return new Promise((resolve) => {
      this.request.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          this.request.removeAllListeners('data');
          this.rejectOversized();
          resolve(false);
          return;
        }
        chunks.push(chunk);
      });
      this.request.once('end', () => {
        this.body = Buffer.concat(chunks, size);
        resolve(true);
      });
      this.request.once('close', () => resolve(false));
      this.request.on('error', (err) =>
        this.context.logger.debug({ err }, 'demo http body failed'),
      );
    });
  }

  /** Parses the body as a JSON object; answers 400 and returns undefined when it is not one. */
  jsonObject(bytes: Buffer = this.body): Record<string, unknown> | undefined {
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch {
      // The parser's message quotes the body, which may hold a prompt; answer without it.
      this.fail(400, 'request body is not valid JSON');
      return undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      this.fail(400, 'request body must be a JSON object');
      return undefined;
    }
    return parsed as Record<string, unknown>;
  }

  /** Answers with a JSON document. */
  sendJson(status: number, value: unknown, headers: OutgoingHttpHeaders = {}): void {
    const body = Buffer.from(JSON.stringify(value));
    this.sendBytes(status, body, { 'content-type': 'application/json', ...headers });
  }

  /** Answers with a body of bytes; the caller sets the content type. */
  sendBytes(status: number, body: Buffer, headers: OutgoingHttpHeaders = {}): void {
    this.response.writeHead(status, { ...headers, 'content-length': body.length });
    this.response.end(body);
  }

  /** Answers with an empty body. */
  sendEmpty(status: number, headers: OutgoingHttpHeaders = {}): void {
    this.response.writeHead(status, { ...headers, 'content-length': 0 });
    this.response.end();
  }

  /** Answers an error in the route family's shape (see the class comment). */
  fail(status: number, message: string, detail: ErrorDetail = {}): void {
    if (this.path.startsWith('/v2')) {
      this.sendJson(status, { error: message });
      return;
    }
    const type = OPENAI_ERROR_TYPES[status] ?? 'InternalServerError';
    this.sendJson(status, { error: { message, type, param: detail.param ?? null, code: status } });
  }

  /** Answers a model failure with the HTTP status Triton uses for its gRPC code. */
  failWith(failure: DemoFailure, detail: ErrorDetail = {}): void {
    this.fail(HTTP_STATUS_OF_GRPC[failure.code] ?? 400, failure.details, detail);
  }

  /** Sends the head of a server-sent event stream (WHATWG HTML §9.2). */
  startEventStream(): void {
    this.response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
    });
  }

  /** Writes a chunk; resolves true once the socket may take more, false if the client left. */
  write(chunk: string | Buffer): Promise<boolean> {
    if (this.departed) {
      return Promise.resolve(false);
    }
    if (this.response.write(chunk)) {
      return Promise.resolve(true);
    }
    return this.untilDeparture((done) => {
      const onDrain = (): void => done(true);
      this.response.once('drain', onDrain);
      return () => this.response.off('drain', onDrain);
    });
  }

  /** Ends a streamed response. */
  end(): void {
    if (!this.departed) {
      this.response.end();
    }
  }

  /** Resolves true after `ms`, or false at once when the client leaves first (timer cleared). */
  sleep(ms: number): Promise<boolean> {
    if (this.departed || ms <= 0) {
      return Promise.resolve(!this.departed);
    }
    return this.untilDeparture((done) => {
      const timer = setTimeout(() => done(true), ms);
      return () => clearTimeout(timer);
    });
  }

  /**
   * Waits for what `arm` sets up (it calls `done(true)`), or for the client to leave (false).
   * `arm` returns how to undo itself; whichever comes first undoes the other.
   */
  private untilDeparture(arm: (done: (value: boolean) => void) => () => void): Promise<boolean> {
    return new Promise((resolve) => {
      const onDeparture = (): void => {
        disarm();
        resolve(false);
      };
      const disarm = arm((value) => {
        this.departureWaiters.delete(onDeparture);
        disarm();
        resolve(value);
      });
      this.departureWaiters.add(onDeparture);
    });
  }

  private rejectOversized(): void {
    this.fail(413, `request body is over ${MAX_BODY_BYTES} bytes`);
    this.response.once('finish', () => this.request.destroy());
  }

  /** 'close' after an unfinished response means the client went away: wake every waiter. */
  private onClose(): void {
    if (this.response.writableFinished) {
      return;
    }
    this.departed = true;
    this.context.events.emit('disconnected', this.path);
    for (const waiter of this.departureWaiters) {
      waiter();
    }
    this.departureWaiters.clear();
  }
}
