// One client connection and all of its exchanges: where it came from and what TLS proved.

import type { TlsPeer } from '../identity/tls-peer';

/** The connection an exchange arrived on, shared by every exchange of that connection. */
export interface Session {
  readonly id: string;
  readonly remoteAddress: string | undefined;
  /** undefined on a cleartext listener. */
  readonly tls: TlsPeer | undefined;
}
