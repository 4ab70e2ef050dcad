// How client commands (`audit unseal`, `reviews`) call a gateway's admin listener: over mTLS with
// the material of `client-credentials.ts`, one JSON request and its JSON answer.

import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import { ProxyError } from '../errors/proxy-error';
import type { TlsClientMaterial } from './client-credentials';

/** Where the admin listener is unless `--admin` says otherwise: its default port on this host. */
export const DEFAULT_ADMIN_ADDRESS = 'localhost:9090';

const REQUEST_TIMEOUT_MS = 30_000;

/** Answers past this are not the admin listener's; a sealed record is the largest it sends. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** Where the admin listener accepts. */
export interface AdminAddress {
  readonly host: string;
  readonly port: number;
}

/** One answer of the admin listener; `body` is undefined when it was not JSON. */
export interface AdminAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** `host:port` or `[v6]:port` (brackets dropped for the socket); throws ERR_USAGE otherwise. */
export function parseAdminAddress(value: string, flag = 'admin'): AdminAddress {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  if (match === null || port < 1 || port > 65_535) {
    throw new ProxyError('ERR_USAGE', `--${flag} "${value}" is not HOST:PORT`);
  }
  return { host: match[1] ?? match[2]!, port };
}

/**
 * Sends one request over mTLS, `payload` as JSON when given, and reads the JSON answer whatever
 * its status. Rejects with an Error when the listener cannot be reached or does not answer.
 */
export function adminRequest(
  address: AdminAddress,
  material: TlsClientMaterial,
  method: string,
  path: string,
  payload?: unknown,
): Promise<AdminAnswer> {
  const text = payload === undefined ? undefined : JSON.stringify(payload);
  const headers: Record<string, string | number> = {};
  if (text !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(text);
  }
  if (material.authorization !== undefined) headers.authorization = material.authorization;
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        ...address,
        method,
        path,
        headers,
        ca: material.ca,
        cert: material.cert,
        key: material.key,
        agent: false,
        timeout: REQUEST_TIMEOUT_MS,
      },
      (response) => readAnswer(response, resolve, reject),
    );
    request.on('timeout', () => request.destroy(new Error('the admin listener did not answer')));
    request.on('error', (err) =>
      reject(new Error(`cannot reach the admin listener: ${err.message}`)),
    );
    request.end(text);
  });
}

function readAnswer(
  response: IncomingMessage,
  resolve: (answer: AdminAnswer) => void,
  reject: (err: Error) => void,
): void {
  const chunks: Buffer[] = [];
  let length = 0;
  response.on('data', (chunk: Buffer) => {
    length += chunk.length;
    if (length > MAX_ANSWER_BYTES) response.destroy(new Error('the answer is too large'));
    else chunks.push(chunk);
  });
  response.on('error', reject);
  response.on('end', () => {
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      // A proxy in between may answer HTML; the status still says what happened.
      body = undefined;
    }
    resolve({ status: response.statusCode ?? 0, body });
  });
}

/** `the gateway refused (403 self_review): message`, from the listener's JSON error body. */
export function refusalText(answer: AdminAnswer): string {
  const error = (answer.body as { error?: { message?: unknown; type?: unknown } } | undefined)
    ?.error;
  const type = typeof error?.type === 'string' ? ` ${error.type}` : '';
  const message = typeof error?.message === 'string' ? `: ${error.message}` : '';
  return `the gateway refused (${answer.status}${type})${message}`;
}
