// Scenario E: new connections per second to the HTTP listener, one small request on each; for
// the secured target every connection is a full TLS handshake with a client certificate.

import http from 'node:http';
import https from 'node:https';
import { TLSSocket, type ConnectionOptions } from 'node:tls';
import { requestError } from './http-client';
import {
  runClosedLoop,
  type RoundSamples,
  type Scenario,
  type ScenarioCall,
  type TargetAccess,
} from './scenario';
import { LATENCY_SERIES, measureExchanges } from './scenario-figures';

/** Connections being opened at once: enough to keep a gateway's core busy with handshakes. */
const CONCURRENCY = 16;

/** The request each connection carries: the smallest the gateway relays to its upstream. */
const HEALTH_PATH = '/health';

/** A connection taking this long from connect to the end of its response counts as an error. */
const CONNECTION_TIMEOUT_MS = 10_000;

/**
 * The options of one request on a connection of its own. `agent: false` gives each request a
 * fresh agent, so it has no socket to reuse and no TLS session to resume: every connection of a
 * secured target is a full handshake, client certificate included.
 */
function requestOptions(access: TargetAccess): https.RequestOptions & ConnectionOptions {
  const separator = access.http.lastIndexOf(':');
  const options: https.RequestOptions & ConnectionOptions = {
    host: access.http.slice(0, separator),
    port: Number(access.http.slice(separator + 1)),
    path: HEALTH_PATH,
    agent: false,
    timeout: CONNECTION_TIMEOUT_MS,
  };
  const { credentials } = access;
  if (credentials === undefined) return options;
  const { secureContext, serverName, authorization } = credentials;
  return { ...options, secureContext, servername: serverName, headers: { authorization } };
}

/**
 * Why a finished response does not count: a status other than 200, or a resumed TLS session,
 * which would skip the handshake this scenario is about.
 */
function responseError(response: http.IncomingMessage): string | undefined {
  if (response.statusCode !== 200) return `GET ${HEALTH_PATH}: HTTP ${response.statusCode}`;
  const { socket } = response;
  if (socket instanceof TLSSocket && socket.isSessionReused()) {
    return 'TLS session was resumed, not a full handshake';
  }
  return undefined;
}

/**
 * One connection: connect (with TLS for a secured target), GET /health, read the response to its
 * end. Timed from issuing the request, which opens the connection, to the end of the body.
 */
function connectOnce(): ScenarioCall<TargetAccess> {
  return (access: TargetAccess, samples: RoundSamples) =>
    new Promise((resolve) => {
      const startedMs = performance.now();
      const transport = access.credentials === undefined ? http : https;
      const request = transport.get(requestOptions(access), (response) => {
        const error = responseError(response);
        response.resume();
        response.once('end', () => {
          if (error === undefined) {
            samples.completed += 1;
            samples.series[LATENCY_SERIES]!.push(performance.now() - startedMs);
          }
          resolve(error);
        });
        response.once('error', (err) => resolve(requestError(err)));
      });
      request.once('timeout', () => request.destroy(new Error('no response in time')));
      request.once('error', (err) => resolve(requestError(err)));
    });
}

/** New connections to the HTTP listener, each carrying one GET /health, 16 opening at once. */
export function tlsHandshakeScenario(): Scenario {
  const call = connectOnce();
  return {
    id: 'tls-handshakes',
    family: 'tls-handshakes',
    protocol: 'http',
    title: `new connection + GET ${HEALTH_PATH} (TLS with client certificate for secured), c=${CONCURRENCY}`,
    concurrency: CONCURRENCY,
    ownConnections: true,
    figures: [
      { key: 'throughput', label: 'connections', kind: 'throughput', unit: 'conn/s' },
      { key: 'latencyP50', label: 'connection p50', kind: 'latency', unit: 'ms' },
      { key: 'latencyP99', label: 'connection p99', kind: 'latency', unit: 'ms' },
    ],
    runRound: (clients, durationMs) =>
      runClosedLoop([clients.access], CONCURRENCY, durationMs, [LATENCY_SERIES], call),
    measure: measureExchanges,
  };
}
