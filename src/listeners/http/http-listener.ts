// The HTTP listener: accepts HTTP/1.1 connections on a raw socket server.

import net, { type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import type { ServerTls } from '../../identity/server-tls';
import { handshakeFailureReason, readTlsPeer } from '../../identity/tls-peer';
import type { Session, SessionObserver } from '../../pipeline/session';
import { listenOn } from '../listen-on';
import type { HttpCallContext } from './http-call-context';
import { HttpConnection, type HttpConnectionLimits } from './http-connection';

/** Where the listener accepts, and the limits each connection enforces. */
export interface HttpListenerOptions extends HttpConnectionLimits {
  readonly host: string;
  readonly port: number;
  /** TLS for every connection; undefined accepts cleartext. */
  readonly tls: ServerTls | undefined;
  readonly nextSessionId: () => string;
  readonly sessions?: SessionObserver;
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
    private readonly context: HttpCallContext,
  ) {
    const accept = (socket: Socket, session: Session) => {
      const connection = new HttpConnection(socket, session, options, context);
      this.connections.add(connection);
      options.sessions?.opened(context.listenerName, session);
      socket.once('close', () => {
        this.connections.delete(connection);
        options.sessions?.closed(session);
      });
    };
    this.server = options.tls === undefined ? net.createServer() : this.secureServer(options.tls);
    const event = options.tls === undefined ? 'connection' : 'secureConnection';
    this.server.on(event, (socket: Socket) => accept(socket, this.sessionOf(socket)));
  }

  private secureServer(serverTls: ServerTls): tls.Server {
    const server = tls.createServer({ ...serverTls.serverOptions(), ALPNProtocols: ['http/1.1'] });
    serverTls.attach(server);
    // A failed handshake never becomes a connection; its client sees the TLS alert.
    server.on('tlsClientError', (err, socket) => {
      this.context.logger.debug({ err }, 'http tls handshake failed');
      const reason = handshakeFailureReason(err);
      this.options.sessions?.refused(this.context.listenerName, socket.remoteAddress, reason);
    });
    return server;
  }

  private sessionOf(socket: Socket): Session {
    const secure = this.options.tls !== undefined;
    return {
      id: this.options.nextSessionId(),
      remoteAddress: socket.remoteAddress,
      tls: secure ? readTlsPeer(socket as TLSSocket) : undefined,
    };
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
