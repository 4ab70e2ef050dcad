// Opens and closes one target's clients: grpc-js channels and undici HTTP/1.1 connections, over
// TLS with a client certificate and a token for the secured target.

import { closeHttpClients, createHttpClients } from './http-client';
import { closeClients, createClients, waitForClients } from './inference-client';
import type { Scenario, TargetAccess, TargetClients } from './scenario';
import type { TargetEndpoint } from './target-processes';

/**
 * How many HTTP connections a target needs: one per request in flight in the busiest scenario
 * that uses the target's connections (not one that opens its own).
 */
export function httpConnectionsFor(scenarios: readonly Scenario[]): number {
  const http = scenarios.filter(
    (scenario) => scenario.protocol === 'http' && scenario.ownConnections !== true,
  );
  return Math.max(0, ...http.map((scenario) => scenario.concurrency));
}

/**
 * Creates a target's clients and waits for its gRPC channels to connect; HTTP connections open
 * on first use. Rejects naming the target when the channels do not connect in time (for the
 * secured target also when the TLS handshake or its certificate is refused), after closing
 * whatever it created.
 */
export async function openTargetClients(
  endpoint: TargetEndpoint,
  channels: number,
  httpConnections: number,
  readRssBytes: () => number | undefined,
): Promise<TargetClients> {
  const { addresses, credentials } = endpoint;
  const access: TargetAccess = { http: addresses.http, credentials, readRssBytes };
  const clients = {
    grpc: createClients(addresses.grpc, channels, credentials),
    http: createHttpClients(addresses.http, httpConnections, credentials),
    access,
  };
  try {
    await waitForClients(endpoint.label, clients.grpc);
  } catch (err) {
    await closeTargetClients(clients);
    throw err;
  }
  return clients;
}

/** Closes a target's channels and connections. */
export async function closeTargetClients(clients: TargetClients): Promise<void> {
  closeClients(clients.grpc);
  await closeHttpClients(clients.http);
}
