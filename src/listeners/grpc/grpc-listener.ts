// The gRPC listener: accepts HTTP/2, checks each call's method and hands it to a GrpcCall.

import http2, {
  type Http2SecureServer,
  type Http2Server,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ServerTls } from '../../identity/server-tls';
import { handshakeFailureReason, readTlsPeer } from '../../identity/tls-peer';
import type { Session, SessionObserver } from '../../pipeline/session';
import { listenOn } from '../listen-on';
import { GrpcStatus } from '../../errors/error-codes';
import { HTTP2_SESSION_SETTINGS, HTTP2_SESSION_WINDOW_BYTES } from '../../upstream/http2-settings';
import { GrpcCall } from './grpc-call';
import type { GrpcListenerContext } from './grpc-listener-context';
import { findGrpcMethod } from './grpc-methods';
import { statusTrailers } from './grpc-metadata';

/** Where and how the listener accepts. */
export interface GrpcListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly maxConcurrentStreams: number;
  /** TLS for every connection; undefined accepts cleartext HTTP/2 (h2c). */
  readonly tls: ServerTls | undefined;
  readonly nextSessionId: () => string;
  readonly sessions?: SessionObserver;
}

/**
 * An HTTP/2 server (TLS with ALPN h2, or cleartext) for the KServe v2 and health services. Calls it cannot relay are
 * answered here: a wrong content type with HTTP 415 (gRPC over HTTP/2, "Requests"), an
 * unknown method with UNIMPLEMENTED, as a gRPC server would.
 */
export class GrpcListener {
  private readonly server: Http2Server | Http2SecureServer;
  /** Each HTTP/2 connection's session, read once when it opens. */
  private readonly sessions = new Map<Http2Session, Session>();

  constructor(
    private readonly options: GrpcListenerOptions,
    private readonly context: GrpcListenerContext,
  ) {
    const settings = {
      ...HTTP2_SESSION_SETTINGS,
      maxConcurrentStreams: options.maxConcurrentStreams,
    };
    if (options.tls === undefined) {
      this.server = http2.createServer({ settings });
    } else {
      const server = http2.createSecureServer({ ...options.tls.serverOptions(), settings });
      options.tls.attach(server);
      server.on('tlsClientError', (err, socket) => {
        context.logger.debug({ err }, 'grpc tls handshake failed');
        const reason = handshakeFailureReason(err);
        options.sessions?.refused(context.listenerName, socket.remoteAddress, reason);
      });
      this.server = server;
    }
    this.server.on('session', (session) => this.onSession(session));
    this.server.on('stream', (stream, headers) => this.onStream(stream, headers));
    this.server.on('sessionError', (err) => context.logger.debug({ err }, 'grpc session error'));
  }

  /** Binds the port; resolves with the address actually bound. */
  listen(): Promise<AddressInfo> {
    return listenOn(this.server, this.options.port, this.options.host);
  }

  /**
   * Stops accepting, sends GOAWAY so clients move elsewhere, lets calls in flight finish, and
   * destroys what is left after `drainTimeoutMs`.
   */
  async close(drainTimeoutMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // The server's callback can come before the sessions' own close events, which record each
    // session's end: wait for those too, so no session outlives the listener.
    const sessionsClosed = [...this.sessions.keys()].map(
      (session) => new Promise((resolve) => session.once('close', resolve)),
    );
    for (const session of this.sessions.keys()) session.close();
    const timer = setTimeout(() => {
      for (const session of this.sessions.keys()) session.destroy();
    }, drainTimeoutMs);
    await Promise.all([closed, ...sessionsClosed]);
    clearTimeout(timer);
  }

  private onSession(session: Http2Session): void {
    const socket = session.socket;
    const record: Session = {
      id: this.options.nextSessionId(),
      remoteAddress: socket?.remoteAddress,
      tls: this.options.tls === undefined ? undefined : readTlsPeer(socket as TLSSocket),
    };
    this.sessions.set(session, record);
    this.options.sessions?.opened(this.context.listenerName, record);
    session.once('close', () => {
      this.sessions.delete(session);
      this.options.sessions?.closed(record);
    });
    session.once('connect', () => session.setLocalWindowSize(HTTP2_SESSION_WINDOW_BYTES));
    if (!session.connecting) session.setLocalWindowSize(HTTP2_SESSION_WINDOW_BYTES);
  }

  private onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on('error', (err) => this.context.logger.debug({ err }, 'grpc stream error'));
    const contentType = headers['content-type'] ?? '';
    if (headers[':method'] !== 'POST' || !contentType.startsWith('application/grpc')) {
      stream.respond({ ':status': 415 }, { endStream: true });
      return;
    }
    const path = headers[':path'] ?? '';
    const method = findGrpcMethod(path);
    if (
      method === undefined ||
      (contentType !== 'application/grpc' && contentType !== 'application/grpc+proto')
    ) {
      const message =
        method === undefined
          ? `unknown method ${path.slice(0, 128)}`
          : `content type ${contentType} is not supported`;
      const status = method === undefined ? GrpcStatus.UNIMPLEMENTED : GrpcStatus.INVALID_ARGUMENT;
      const trailers = statusTrailers(status, message);
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', ...trailers },
        { endStream: true },
      );
      return;
    }

    const session = this.sessions.get(stream.session!)!;
    new GrpcCall(this.context, session, stream, headers, method).start();
  }
}
