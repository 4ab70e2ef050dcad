// One client connection and all of its exchanges: where it came from and what TLS proved.

import type { TlsPeer } from '../identity/tls-peer';

/** The connection an exchange arrived on, shared by every exchange of that connection. */
export interface Session {
  readonly id: string;
  readonly remoteAddress: string | undefined;
  /** undefined on a cleartext listener. */
  readonly tls: TlsPeer | undefined;
}

/** Told when client connections open and close, so each session can be recorded. */
export interface SessionObserver {
  /** A connection completed its handshake on `listener`; runs before any of its exchanges. */
  opened(listener: string, session: Session): void;
  /** The connection is gone; no exchange of it starts after this. */
  closed(session: Session): void;
  /** A connection's TLS handshake failed, so it never became a session. */
  refused(listener: string, remoteAddress: string | undefined, reason: string): void;
}
