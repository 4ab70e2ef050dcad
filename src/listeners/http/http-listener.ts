// The HTTP listener: accepts HTTP/1.1 connections on a raw socket server.

import net, { type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { listenOn } from '../listen-on';
import type { HttpCallContext } from './http-call-context';
import { HttpConnection, type HttpConnectionLimits } from './http-connection';

/** Where the listener accepts, and the limits each connection enforces. */
export interface HttpListenerOptions extends HttpConnectionLimits {
  readonly host: string;
  readonly port: number;
}

/**
 * Serves the OpenAI wire protocol, vLLM's extras and Triton's HTTP/REST API over HTTP/1.1 with
 * keep-alive. Parsing happens on the raw socket bytes (no `http` module objects per request).
 */
export class HttpListener {
  private readonly server: Server;
  private readonly connections = new Set<HttpConnection>();

  constructor(
    private readonly options: HttpListenerOptions,
    context: HttpCallContext,
  ) {
    this.server = net.createServer((socket) => {
      const connection = new HttpConnection(socket, options, context);
      this.connections.add(connection);
      socket.once('close', () => this.connections.delete(connection));
    });
  }

  /** Binds the port; resolves with the address actually bound. */
  listen(): Promise<AddressInfo> {
    return listenOn(this.server, this.options.port, this.options.host);
  }

  /**
   * Stops accepting; idle connections close at once, busy ones after their exchange; whatever
   * is left after `drainTimeoutMs` is destroyed.
   */
  async close(drainTimeoutMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of this.connections) connection.shutdown();
    const timer = setTimeout(() => {
      for (const connection of this.connections) connection.socket.destroy();
    }, drainTimeoutMs);
    await closed;
    clearTimeout(timer);
  }
}
