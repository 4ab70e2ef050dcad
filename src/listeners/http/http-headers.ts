// Header rules across the HTTP proxy: what is relayed to the upstream and back, and what not.

import type { IncomingHttpHeaders } from 'undici/types/header';
import type { UpstreamConfig } from '../../config/gateway-config';
import type { HeaderLine } from './http-response-writer';

/**
 * Hop-by-hop fields belong to one connection (RFC 9110 §7.6.1); framing fields are set anew by
 * whoever writes the next hop (RFC 9112 §6). Never relayed in either direction.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'http2-settings',
]);

/**
 * Dropped from requests as well: the client's credentials never reach a model server, which
 * sees only the upstream's own (threat: a leaked client key replayed against the model server
 * directly); `host` and `expect` belong to the client's hop, and `x-infergate-review-id`
 * (the approval a retry redeems) to the gateway.
 */
const REQUEST_ONLY = new Set([
  'host',
  'expect',
  'authorization',
  'proxy-authorization',
  'cookie',
  'x-api-key',
  'api-key',
  'x-infergate-review-id',
]);

/** The upstream request's headers: the client's, less dropped ones, plus the credentials. */
export function upstreamHeaders(
  client: readonly (readonly [string, string])[],
  upstream: UpstreamConfig,
): Record<string, string | string[]> {
  const named = connectionListed(client);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of client) {
    if (HOP_BY_HOP.has(name) || REQUEST_ONLY.has(name) || named.has(name)) continue;
    const existing = headers[name];
    headers[name] = existing === undefined ? value : [existing, value].flat();
  }
  Object.assign(headers, upstream.credentialHeaders);
  return headers;
}

/** The response headers for the client, from what undici parsed of the upstream's. */
export function clientHeaders(upstream: IncomingHttpHeaders): HeaderLine[] {
  const named = new Set(
    String(upstream.connection ?? '')
      .toLowerCase()
      .split(/\s*,\s*/),
  );
  const lines: HeaderLine[] = [];
  for (const name in upstream) {
    if (HOP_BY_HOP.has(name) || named.has(name)) continue;
    const value = upstream[name];
    if (Array.isArray(value)) for (const item of value) lines.push([name, item]);
    else if (value !== undefined) lines.push([name, value]);
  }
  return lines;
}

/** Names the client's `connection` header lists: hop-by-hop for this connection only. */
function connectionListed(client: readonly (readonly [string, string])[]): Set<string> {
  const names = new Set<string>();
  for (const [name, value] of client) {
    if (name !== 'connection') continue;
    for (const member of value.toLowerCase().split(',')) names.add(member.trim());
  }
  return names;
}
