// The undici HTTP/1.1 clients the benchmark drives, one set per target, built identically.

import { Client, type Dispatcher } from 'undici';
import type { ClientCredentials } from './target-credentials';

/**
 * An exchange that waits this long for its response headers, or for the next body bytes,
 * counts as an error instead of stalling the round.
 */
const HTTP_STALL_TIMEOUT_MS = 10_000;

/** Path of the OpenAI chat completions API, the same on the demo server and the gateway. */
export const CHAT_COMPLETIONS_PATH = '/v1/chat/completions';

const JSON_HEADERS = { 'content-type': 'application/json' };

/** One keep-alive connection to a target and the headers each request on it carries. */
export interface HttpConnection {
  readonly client: Client;
  /** The JSON content type, and for a secured target its `authorization`. */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Creates `count` connections to `address` ('host:port'), each one keep-alive connection
 * without pipelining, as HTTP/1.1 clients are deployed; a worker owns one, so requests never
 * queue in the client. With `credentials` each speaks TLS, presents the client certificate and
 * sends the token. Connections open on first use (the warm-up round).
 */
export function createHttpClients(
  address: string,
  count: number,
  credentials?: ClientCredentials,
): HttpConnection[] {
  const scheme = credentials === undefined ? 'http' : 'https';
  const connect =
    credentials === undefined
      ? undefined
      : { secureContext: credentials.secureContext, servername: credentials.serverName };
  const headers =
    credentials === undefined
      ? JSON_HEADERS
      : { ...JSON_HEADERS, authorization: credentials.authorization };
  const connections: HttpConnection[] = [];
  for (let index = 0; index < count; index += 1) {
    const client = new Client(`${scheme}://${address}`, {
      pipelining: 1,
      headersTimeout: HTTP_STALL_TIMEOUT_MS,
      bodyTimeout: HTTP_STALL_TIMEOUT_MS,
      ...(connect === undefined ? {} : { connect }),
    });
    connections.push({ client, headers });
  }
  return connections;
}

/** POSTs a JSON `body` to the chat completions API; rejects on a connection or timeout error. */
export function postChatCompletion(
  connection: HttpConnection,
  body: string,
): Promise<Dispatcher.ResponseData> {
  return connection.client.request({
    path: CHAT_COMPLETIONS_PATH,
    method: 'POST',
    headers: connection.headers,
    body,
  });
}

/** Closes every connection, waiting for it to end. */
export async function closeHttpClients(connections: readonly HttpConnection[]): Promise<void> {
  await Promise.all(connections.map((connection) => connection.client.close()));
}

/** The message of an error a request rejected with, for the report. */
export function requestError(err: unknown): string {
  if (!(err instanceof Error)) return `request failed: ${String(err)}`;
  const code = (err as { code?: unknown }).code;
  return `request failed: ${typeof code === 'string' ? `${code} ` : ''}${err.message}`;
}
