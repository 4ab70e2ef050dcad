// The admin listener: liveness and readiness for orchestrators, on a port of its own.

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenOn } from './listen-on';
import type { Logger } from '../observe/logger';

/** Where the admin listener accepts, and how it learns whether the gateway takes traffic. */
export interface AdminListenerOptions {
  readonly host: string;
  readonly port: number;
  /** Why the gateway is not ready (`starting`, `draining`), or undefined when it is. */
  readonly notReadyReason: () => string | undefined;
  readonly logger: Logger;
}

/**
 * `/healthz` answers 200 while the process serves HTTP at all; `/readyz` answers 200 only when
 * every listener is bound and the gateway is not draining, so a load balancer stops sending
 * traffic before a restart closes connections.
 */
export class AdminListener {
  private readonly server: http.Server;

  constructor(private readonly options: AdminListenerOptions) {
    this.server = http.createServer((request, response) => this.handle(request, response));
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
    const path = (request.url ?? '/').split('?', 1)[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      const body = {
        error: { message: 'only GET and HEAD are served', type: 'method_not_allowed' },
      };
      // RFC 9110 §15.5.6: a 405 names the methods the resource does support.
      return send(response, 405, body, { allow: 'GET, HEAD' });
    }
    if (path === '/healthz') return send(response, 200, { status: 'ok' });
    if (path === '/readyz') {
      const reason = this.options.notReadyReason();
      return send(response, reason === undefined ? 200 : 503, { status: reason ?? 'ready' });
    }
    send(response, 404, {
      error: { message: `no admin endpoint at ${path?.slice(0, 64)}`, type: 'not_found' },
    });
  }
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
