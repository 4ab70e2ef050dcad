// The demo model server's HTTP/1.1 side: OpenAI / vLLM and Triton HTTP/REST, same reply script.

import { createHash, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { ConnectionTracker } from './demo-http-connections';
import { HttpExchange, type DemoHttpContext } from './demo-http-exchange';
import { matchRoute } from './demo-http-routes';
import { DemoVocabulary } from './demo-http-vocabulary';
import { DemoModelRegistry } from './demo-models';
import { hostPort } from './demo-server';
import { PACKAGE_VERSION } from '../package-version';

/** How long `close()` waits for in-flight exchanges before cutting their connections. */
const CLOSE_GRACE_MS = 2_000;

/** Where and how the demo HTTP server runs. */
export interface DemoHttpServerOptions {
  /** Interface to bind; default '127.0.0.1'. */
  host?: string;
  /** Port to bind; default 0 picks a free one (read it back from `DemoHttpServer.port`). */
  port?: number;
  /** Delay between streamed tokens; default 0 (as fast as the socket takes them). */
  tokenDelayMs?: number;
  /** Logger for lifecycle lines and handler failures; default a disabled logger. */
  logger?: Logger;
  /** When set, `/v1/...` routes need `Authorization: Bearer <apiKey>`, as vLLM's --api-key. */
  apiKey?: string;
}

/** A running demo HTTP server. */
export interface DemoHttpServer {
  /** 'host:port' actually bound. */
  readonly address: string;
  readonly port: number;
  /**
   * Emits `('request', method, path, headers, body: Buffer)` once each request body has been
   * read, before authentication and routing; and `('disconnected', path)` when a client goes
   * away before its response is complete (generation stops and its timers are cleared).
   */
  readonly events: EventEmitter;
  /** Stops accepting, lets in-flight exchanges finish, and cuts them off after a short bound. */
  close(): Promise<void>;
}

function createContext(options: DemoHttpServerOptions, logger: Logger): DemoHttpContext {
  let sequence = 0;
  return {
    registry: new DemoModelRegistry(),
    vocabulary: new DemoVocabulary(),
    events: new EventEmitter(),
    tokenDelayMs: Math.max(0, options.tokenDelayMs ?? 0),
    logger,
    version: PACKAGE_VERSION,
    startedS: Math.floor(Date.now() / 1000),
    nextId: (prefix) => {
      sequence += 1;
      return `${prefix}${sequence.toString(16).padStart(24, '0')}`;
    },
  };
}

/**
 * SHA-256 of a credential. Comparing digests with timingSafeEqual keeps the comparison's time
 * independent of how much of a guessed key is right (a timing oracle on the key otherwise).
 */
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * True when the exchange may proceed. As vLLM does, only `/v1` paths are checked, so health,
 * tokenizer and Triton routes stay open.
 */
function authorized(keyDigest: Buffer | undefined, exchange: HttpExchange): boolean {
  const guarded = exchange.path === '/v1' || exchange.path.startsWith('/v1/');
  if (keyDigest === undefined || !guarded) {
    return true;
  }
  const header = exchange.request.headers.authorization ?? '';
  const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
  return timingSafeEqual(digest(token), keyDigest);
}

/** Reads the body, reports the request, authenticates, routes and runs the handler. */
async function serveExchange(exchange: HttpExchange, keyDigest: Buffer | undefined): Promise<void> {
  if (!(await exchange.readBody())) {
    return;
  }
  const { request, path: requestPath, context } = exchange;
  const method = request.method ?? 'GET';
  context.events.emit('request', method, requestPath, request.headers, exchange.bodyBytes);

  if (!authorized(keyDigest, exchange)) {
    exchange.fail(401, 'Unauthorized');
    return;
  }
  const match = matchRoute(method, requestPath);
  if (match === undefined) {
    exchange.fail(404, `no route for ${requestPath}`);
    return;
  }
  if ('allowed' in match) {
    exchange.response.setHeader('allow', match.allowed.join(', '));
    exchange.fail(405, `method ${method} is not allowed for ${requestPath}`);
    return;
  }
  await match.handler(exchange, match.path);
}

/** A handler that threw is a bug: log it, answer 500 if nothing was sent, else cut the stream. */
function answerException(exchange: HttpExchange, err: unknown): void {
  exchange.context.logger.error({ err, path: exchange.path }, 'demo http handler failed');
  if (exchange.response.headersSent) {
    exchange.response.destroy();
    return;
  }
  exchange.fail(500, 'the demo server failed to answer');
}

function listen(server: http.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Ends idle connections now, busy ones after their exchange, and cuts the rest at the bound. */
function shutdown(
  server: http.Server,
  connections: ConnectionTracker,
  logger: Logger,
): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      logger.warn({ graceMs: CLOSE_GRACE_MS }, 'demo http server forced shutdown');
      connections.destroyAll();
    }, CLOSE_GRACE_MS);
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    connections.endIdle();
  });
}

/**
 * Starts the demo HTTP server with `demo-chat` and `echo` ready, answering from the same reply
 * script as the gRPC side (`startDemoServer`). Rejects when the address cannot be bound.
 */
export async function startDemoHttpServer(
  options: DemoHttpServerOptions = {},
): Promise<DemoHttpServer> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? pino({ enabled: false });
  const context = createContext(options, logger);
  const keyDigest = options.apiKey === undefined ? undefined : digest(options.apiKey);
  const server = http.createServer((request, response) => {
    const exchange = new HttpExchange(request, response, context);
    serveExchange(exchange, keyDigest).catch((err: unknown) => answerException(exchange, err));
  });
  const connections = new ConnectionTracker(server);

  const port = await listen(server, host, options.port ?? 0);
  const address = hostPort(host, port);
  logger.info({ address, tokenDelayMs: context.tokenDelayMs }, 'demo http server listening');

  let closing: Promise<void> | undefined;
  return {
    address,
    port,
    events: context.events,
    close: () => {
      closing ??= shutdown(server, connections, logger).then(() =>
        logger.info({ address }, 'demo http server closed'),
      );
      return closing;
    },
  };
}
