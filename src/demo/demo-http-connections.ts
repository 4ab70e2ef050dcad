// Tracks the demo HTTP server's connections so that closing ends idle ones at once.

import type http from 'node:http';
import type { Socket } from 'node:net';

/**
 * Knows which connections are between exchanges. Node's `closeIdleConnections` misses a
 * connection that has not sent its first request yet (fetch opens a spare one after an abort),
 * and `server.close()` leaves a keep-alive connection open after its last response until the
 * client's keep-alive timer ends; both would hold `close()` for seconds.
 */
export class ConnectionTracker {
  private readonly idle = new Set<Socket>();
  private readonly all = new Set<Socket>();
  private closing = false;

  constructor(server: http.Server) {
    server.on('connection', (socket: Socket) => this.onConnection(socket));
    server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) =>
      this.onExchange(request.socket, response),
    );
  }

  /** From now on a connection ends as soon as it has no exchange; idle ones end now. */
  endIdle(): void {
    this.closing = true;
    for (const socket of this.idle) {
      socket.destroy();
    }
  }

  /** Cuts every connection, busy or not. */
  destroyAll(): void {
    for (const socket of this.all) {
      socket.destroy();
    }
  }

  private onConnection(socket: Socket): void {
    this.all.add(socket);
    this.idle.add(socket);
    socket.once('close', () => {
      this.all.delete(socket);
      this.idle.delete(socket);
    });
  }

  private onExchange(socket: Socket, response: http.ServerResponse): void {
    this.idle.delete(socket);
    response.once('close', () => {
      if (this.closing) {
        // end() rather than destroy(): the response just written still reaches the client.
        socket.end();
        return;
      }
      this.idle.add(socket);
    });
  }
}
