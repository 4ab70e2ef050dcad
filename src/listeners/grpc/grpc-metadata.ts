// gRPC metadata across the proxy: what is relayed, what is dropped, deadlines and status.

import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import type { UpstreamConfig } from '../../config/gateway-config';
import { ProxyError } from '../../errors/proxy-error';

/**
 * Never relayed. Hop-by-hop fields belong to one connection (RFC 9110 §7.6.1) and are
 * forbidden in HTTP/2 (RFC 9113 §8.2.2); `te` is set anew. Credentials are dropped so a
 * client's key never reaches a model server, which sees only the upstream's own credentials.
 */
const HOP_BY_HOP_HEADERS = [
  'connection',
  'http2-settings',
  'proxy-connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
];

const DROPPED_REQUEST_HEADERS = new Set([
  ...HOP_BY_HOP_HEADERS,
  'te',
  'host',
  'grpc-timeout',
  'authorization',
  'proxy-authorization',
  'cookie',
  'x-api-key',
  // The approval a retry redeems is the gateway's business, not the model server's.
  'x-infergate-review-id',
]);

const DROPPED_RESPONSE_HEADERS = new Set(HOP_BY_HOP_HEADERS);

/** The request headers for the upstream: relayed metadata, a fresh deadline, its credentials. */
export function upstreamRequestHeaders(
  downstream: IncomingHttpHeaders,
  path: string,
  upstream: UpstreamConfig,
  remainingMs: number | undefined,
): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {
    ':method': 'POST',
    ':scheme': upstream.secure ? 'https' : 'http',
    ':authority': upstream.authority,
    ':path': path,
    te: 'trailers',
  };
  for (const name in downstream) {
    if (name.charCodeAt(0) === 58 /* ':' */ || DROPPED_REQUEST_HEADERS.has(name)) continue;
    headers[name] = downstream[name];
  }
  if (remainingMs !== undefined) headers['grpc-timeout'] = formatGrpcTimeout(remainingMs);
  Object.assign(headers, upstream.credentialHeaders);
  return headers;
}

/** Response headers or trailers from the upstream, as relayed to the client. */
export function relayedResponseHeaders(upstream: IncomingHttpHeaders): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const name in upstream) {
    if (name.charCodeAt(0) === 58 || DROPPED_RESPONSE_HEADERS.has(name)) continue;
    headers[name] = upstream[name];
  }
  return headers;
}

const TIMEOUT_UNIT_MS: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1_000,
  m: 1,
  u: 0.001,
  n: 0.000_001,
};

/** Parses `grpc-timeout` (at most 8 digits and a unit) to milliseconds; undefined if absent. */
export function parseGrpcTimeout(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value[0]! : value;
  const match = /^(\d{1,8})([HMSmun])$/.exec(text);
  if (match === null) {
    throw new ProxyError(
      'ERR_MALFORMED_HEADER',
      `grpc-timeout "${text.slice(0, 16)}" is malformed`,
    );
  }
  return Number(match[1]) * TIMEOUT_UNIT_MS[match[2]!]!;
}

/** Formats milliseconds as `grpc-timeout`, in the finest unit that fits in 8 digits. */
export function formatGrpcTimeout(ms: number): string {
  const micros = Math.max(0, Math.ceil(ms * 1000));
  if (micros < 1e8) return `${micros}u`;
  const millis = Math.ceil(ms);
  if (millis < 1e8) return `${millis}m`;
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 1e8) return `${seconds}S`;
  return `${Math.min(99_999_999, Math.ceil(ms / 3_600_000))}H`;
}

/** Percent-encodes `grpc-message`: bytes outside 0x20-0x7E and '%' become %XX. */
export function encodeGrpcMessage(message: string): string {
  const bytes = Buffer.from(message, 'utf8');
  let out = '';
  for (const byte of bytes) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Decodes `grpc-message`; bad escapes are kept as written, never an error. */
export function decodeGrpcMessage(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    // Bad percent-encoding must not fail the decoder (gRPC over HTTP/2): keep the raw text.
    return value;
  }
}

/** Status trailers for a reply infergate gives itself. */
export function statusTrailers(status: number, message: string): OutgoingHttpHeaders {
  return { 'grpc-status': String(status), 'grpc-message': encodeGrpcMessage(message) };
}
