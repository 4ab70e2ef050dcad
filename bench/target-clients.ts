// Opens and closes one target's clients: grpc-js channels and undici HTTP/1.1 connections.

import { closeHttpClients, createHttpClients } from './http-client';
import { closeClients, createClients, waitForClients } from './inference-client';
import type { Scenario, ScenarioProtocol, TargetClients } from './scenario';

/** How many HTTP connections a target needs: one per request in flight in the busiest scenario. */
export function httpConnectionsFor(scenarios: readonly Scenario[]): number {
  const http = scenarios.filter((scenario) => scenario.protocol === 'http');
  return Math.max(0, ...http.map((scenario) => scenario.concurrency));
}

/**
 * Creates a target's clients and waits for its gRPC channels to connect; HTTP connections open
 * on first use. Rejects naming `target` when the channels do not connect in time, after
 * closing whatever it created.
 */
export async function openTargetClients(
  target: string,
  addresses: Readonly<Record<ScenarioProtocol, string>>,
  channels: number,
  httpConnections: number,
): Promise<TargetClients> {
  const clients = {
    grpc: createClients(addresses.grpc, channels),
    http: createHttpClients(addresses.http, httpConnections),
  };
  try {
    await waitForClients(target, clients.grpc);
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
