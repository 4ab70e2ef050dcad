// Binding a listener's server to its address, shared by every listener.

import type { Server } from 'node:net';
import type { AddressInfo } from 'node:net';

/** Binds `server`; resolves with the address actually bound, rejects with the bind error. */
export function listenOn(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}
