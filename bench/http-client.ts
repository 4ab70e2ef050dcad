// The undici HTTP/1.1 clients the benchmark drives, one set per target, built identically.

import { Client, type Dispatcher } from 'undici';

/**
 * An exchange that waits this long for its response headers, or for the next body bytes,
 * counts as an error instead of stalling the round.
 */
const HTTP_STALL_TIMEOUT_MS = 10_000;

/** Path of the OpenAI chat completions API, the same on the demo server and the gateway. */
export const CHAT_COMPLETIONS_PATH = '/v1/chat/completions';

const JSON_HEADERS = { 'content-type': 'application/json' };

/**
 * Creates `count` clients for `address` ('host:port'), each one keep-alive connection without
 * pipelining, as HTTP/1.1 clients are deployed; a worker owns one, so requests never queue in
 * the client. Connections open on first use (the warm-up round).
 */
export function createHttpClients(address: string, count: number): Client[] {
  const clients: Client[] = [];
  for (let index = 0; index < count; index += 1) {
    const client = new Client(`http://${address}`, {
      pipelining: 1,
      headersTimeout: HTTP_STALL_TIMEOUT_MS,
      bodyTimeout: HTTP_STALL_TIMEOUT_MS,
    });
    clients.push(client);
  }
  return clients;
}

/** POSTs a JSON `body` to the chat completions API; rejects on a connection or timeout error. */
export function postChatCompletion(client: Client, body: string): Promise<Dispatcher.ResponseData> {
  return client.request({
    path: CHAT_COMPLETIONS_PATH,
    method: 'POST',
    headers: JSON_HEADERS,
    body,
  });
}

/** Closes every client, waiting for its connection to end. */
export async function closeHttpClients(clients: readonly Client[]): Promise<void> {
  await Promise.all(clients.map((client) => client.close()));
}

/** The message of an error a request rejected with, for the report. */
export function requestError(err: unknown): string {
  if (!(err instanceof Error)) return `request failed: ${String(err)}`;
  const code = (err as { code?: unknown }).code;
  return `request failed: ${typeof code === 'string' ? `${code} ` : ''}${err.message}`;
}
