// The admin listener: liveness and readiness for orchestrators, tokens, audit unseals and
// reviews, on a port of its own.

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { JsonWebKeySet } from '../config/gateway-config';
import type { ServerTls } from '../identity/server-tls';
import type { LoadedCertificate } from '../identity/tls-material';
import { readTlsPeer } from '../identity/tls-peer';
import type { AdminAnswer } from './admin-caller';
import { listenOn } from './listen-on';
import {
  isReviewPath,
  REVIEW_REQUEST_MAX_BYTES,
  REVIEWS_PATH,
  type ReviewEndpoint,
} from './admin-review-endpoint';
import { TOKEN_REQUEST_MAX_BYTES, type TokenEndpoint } from './admin-token-endpoint';
import {
  UNSEAL_PATH,
  UNSEAL_REQUEST_MAX_BYTES,
  type UnsealEndpoint,
} from './admin-unseal-endpoint';
import type { Logger } from '../observe/logger';

/** Where the admin listener accepts, and how it learns whether the gateway takes traffic. */
export interface AdminListenerOptions {
  readonly host: string;
  readonly port: number;
  /** Whether the gateway takes traffic now, answered at `/readyz`. */
  readonly readiness: () => Readiness;
  readonly logger: Logger;
  /** TLS for the admin port; undefined serves cleartext. */
  readonly tls?: ServerTls | undefined;
  /** `POST /token`, when infergate issues tokens. */
  readonly tokens?: TokenEndpoint | undefined;
  /** The public keys of infergate's token issuer, served at `/.well-known/jwks.json`. */
  readonly jwks?: JsonWebKeySet | undefined;
  /** Every certificate the gateway presents or trusts now, served at `/certificates`. */
  readonly certificates?: () => readonly LoadedCertificate[];
  /** `POST /audit/unseal`, when audit is on; it answers 404 itself when no role may unseal. */
  readonly unseal?: UnsealEndpoint | undefined;
  /** `/reviews` and everything under it, when reviews are configured; it checks its callers. */
  readonly reviews?: ReviewEndpoint | undefined;
  /** `GET /metrics`: the Prometheus text exposition. */
  readonly metrics?: { readonly contentType: string; render(): Promise<string> } | undefined;
}

/** What `/readyz` answers: 200 with it when `status` is `ready`, 503 otherwise. */
export interface Readiness {
  /**
   * `ready`, or why not: `starting`, `draining`, `audit_unavailable`, `revocations_unavailable`,
   * `upstream_unreachable`.
   */
  readonly status: string;
  /** Each upstream's reachability as last probed, when the gateway probes them. */
  readonly upstreams?: Readonly<Record<string, string>>;
}

const DAY_MS = 86_400_000;

/** Paths served without a client certificate: probes of orchestrators present none. */
const OPEN_PATHS = new Set(['/healthz', '/readyz', '/.well-known/jwks.json']);

/**
 * `/healthz` answers 200 while the process serves HTTP at all; `/readyz` answers 200 only when
 * the gateway could serve a request now (see `Readiness`), so a load balancer stops sending
 * traffic before a restart closes connections, while the audit log refuses frames, and while
 * the model servers cannot be reached. `/metrics` is the Prometheus exposition. Over TLS, every other path needs a verified
 * client certificate: the token endpoint hands out credentials. `/audit/unseal` and `/reviews`
 * check their callers themselves (certificate, bound token, role) so that they can refuse in
 * their own terms, and serve POST as well.
 */
export class AdminListener {
  private readonly server: http.Server;

  constructor(private readonly options: AdminListenerOptions) {
    const handler = (request: IncomingMessage, response: ServerResponse) =>
      this.handle(request, response);
    if (options.tls === undefined) {
      this.server = http.createServer(handler);
    } else {
      this.server = https.createServer(options.tls.serverOptions(), handler);
      options.tls.attach(this.server as https.Server);
    }
    this.server.keepAliveTimeout = 5_000;
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 10_000;
  }

  /** Binds the port; resolves with the address actually bound. */
  listen(): Promise<AddressInfo> {
    return listenOn(this.server, this.options.port, this.options.host);
  }

  /** Stops accepting and closes idle connections; requests in flight finish. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const path = (request.url ?? '/').split('?', 1)[0]!;
    if (path === '/token' && request.method === 'POST') return this.token(request, response);
    if (path === UNSEAL_PATH) {
      if (request.method === 'POST') return this.unseal(request, response);
      const body = { error: { message: 'only POST is served', type: 'method_not_allowed' } };
      return send(response, 405, body, { allow: 'POST' });
    }
    if (isReviewPath(path)) return this.reviews(request, response, path);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      const body = {
        error: { message: 'only GET and HEAD are served', type: 'method_not_allowed' },
      };
      // RFC 9110 §15.5.6: a 405 names the methods the resource does support.
      return send(response, 405, body, { allow: 'GET, HEAD' });
    }
    const secure = this.options.tls !== undefined;
    if (secure && !OPEN_PATHS.has(path) && this.certificateOf(request) === undefined) {
      return send(response, 401, {
        error: { message: 'a trusted client certificate is required', type: 'unauthorized' },
      });
    }
    if (path === '/healthz') return send(response, 200, { status: 'ok' });
    if (path === '/readyz') {
      const readiness = this.options.readiness();
      return send(response, readiness.status === 'ready' ? 200 : 503, readiness);
    }
    if (path === '/.well-known/jwks.json' && this.options.jwks !== undefined) {
      return send(response, 200, this.options.jwks);
    }
    if (path === '/metrics' && this.options.metrics !== undefined) {
      return this.metrics(this.options.metrics, response);
    }
    if (path === '/certificates') {
      const now = Date.now();
      const certificates = (this.options.certificates?.() ?? []).map((certificate) => ({
        ...certificate,
        daysLeft: Math.floor((certificate.validTo.getTime() - now) / DAY_MS),
      }));
      return send(response, 200, { certificates });
    }
    send(response, 404, {
      error: { message: `no admin endpoint at ${path.slice(0, 64)}`, type: 'not_found' },
    });
  }

  private metrics(
    metrics: NonNullable<AdminListenerOptions['metrics']>,
    response: ServerResponse,
  ): void {
    metrics.render().then(
      (text) => {
        response.writeHead(200, {
          'content-type': metrics.contentType,
          'content-length': Buffer.byteLength(text),
          'cache-control': 'no-store',
        });
        response.end(text);
      },
      (err: unknown) => {
        this.options.logger.error({ err }, 'metrics could not be collected');
        send(response, 500, {
          error: { message: 'metrics could not be collected', type: 'internal_error' },
        });
      },
    );
  }

  /** The verified client certificate of the request's connection, if it has one. */
  private certificateOf(request: IncomingMessage) {
    if (this.options.tls === undefined) return undefined;
    const peer = readTlsPeer(request.socket as TLSSocket);
    return peer.verified ? peer.certificate : undefined;
  }

  private token(request: IncomingMessage, response: ServerResponse): void {
    const endpoint = this.options.tokens;
    const certificate = this.certificateOf(request);
    if (endpoint === undefined) {
      return send(response, 404, {
        error: 'invalid_request',
        error_description: 'no token issuer is configured',
      });
    }
    if (certificate === undefined) {
      // RFC 6749 §5.2: the client could not be authenticated.
      return send(response, 401, {
        error: 'invalid_client',
        error_description: 'a trusted client certificate is required',
      });
    }
    readBody(request, TOKEN_REQUEST_MAX_BYTES)
      .then((body) =>
        body === undefined ? tooLarge(response) : endpoint.answer(certificate, body),
      )
      .then(
        (answer) => answer !== undefined && send(response, answer.status, answer.body),
        (err: unknown) => {
          this.options.logger.error({ err }, 'token endpoint failed');
          send(response, 500, {
            error: 'server_error',
            error_description: 'internal error in infergate',
          });
        },
      );
  }

  private unseal(request: IncomingMessage, response: ServerResponse): void {
    const endpoint = this.options.unseal;
    if (endpoint === undefined) {
      return send(response, 404, {
        error: { message: `no admin endpoint at ${UNSEAL_PATH}`, type: 'not_found' },
      });
    }
    readBody(request, UNSEAL_REQUEST_MAX_BYTES)
      .then((body) =>
        endpoint.answer({
          certificate: this.certificateOf(request),
          authorization: request.headers.authorization,
          body,
        }),
      )
      .then(...this.answerWith(response, 'unseal endpoint failed'));
  }

  private reviews(request: IncomingMessage, response: ServerResponse, path: string): void {
    const endpoint = this.options.reviews;
    if (endpoint === undefined) {
      return send(response, 404, {
        error: { message: `no admin endpoint at ${REVIEWS_PATH}`, type: 'not_found' },
      });
    }
    readBody(request, REVIEW_REQUEST_MAX_BYTES)
      .then((body) =>
        endpoint.answer({
          method: request.method ?? 'GET',
          path,
          certificate: this.certificateOf(request),
          authorization: request.headers.authorization,
          body,
        }),
      )
      .then(...this.answerWith(response, 'review endpoint failed'));
  }

  /** Sends an endpoint's answer; a rejection is a bug, logged with `failed` and answered 500. */
  private answerWith(
    response: ServerResponse,
    failed: string,
  ): [(answer: AdminAnswer) => void, (err: unknown) => void] {
    return [
      (answer) => send(response, answer.status, answer.body, answer.headers),
      (err) => {
        this.options.logger.error({ err }, failed);
        send(response, 500, {
          error: { message: 'internal error in infergate', type: 'internal_error' },
        });
      },
    ];
  }
}

/**
 * Reads a request body up to `limit` bytes; undefined when it is longer. The rest of a long
 * body is read and dropped so that the answer can still be sent; the server's request timeout
 * bounds a client that never stops.
 */
function readBody(request: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    request.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length <= limit) chunks.push(chunk);
    });
    request.on('end', () =>
      resolve(length > limit ? undefined : Buffer.concat(chunks).toString('utf8')),
    );
    request.on('error', reject);
  });
}

function tooLarge(response: ServerResponse): undefined {
  send(response, 413, { error: 'invalid_request', error_description: 'request body is too large' });
  return undefined;
}

function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  response.end(response.req.method === 'HEAD' ? undefined : text);
}
