// Upstream addresses: which protocol, TLS or not, host and port, from one URL.

import type { ConfigIssue } from './config-error';
import type { UpstreamConfig } from './gateway-config';

type AddressParts = Pick<
  UpstreamConfig,
  'scheme' | 'protocol' | 'secure' | 'host' | 'port' | 'authority'
>;

const SCHEMES: Readonly<Record<string, Pick<AddressParts, 'protocol' | 'secure'>>> = {
  grpc: { protocol: 'grpc', secure: false },
  grpcs: { protocol: 'grpc', secure: true },
  http: { protocol: 'http', secure: false },
  https: { protocol: 'http', secure: true },
};

const EXPLICIT_PORT = /^[a-z]+:\/\/(?:\[[^\]]*\]|[^/:@?#]*):(\d{1,5})\/?$/i;

const FALLBACK: AddressParts = {
  scheme: 'grpc',
  protocol: 'grpc',
  secure: false,
  host: '',
  port: 0,
  authority: '',
};

/**
 * Parses `grpc://`, `grpcs://`, `http://` or `https://` `host:port` (IPv6 hosts in brackets).
 * A problem is appended to `issues` and a placeholder returned, so validation goes on.
 */
export function parseUpstreamAddress(
  text: string,
  path: string,
  issues: ConfigIssue[],
): AddressParts {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    issues.push({ path, reason: `"${text}" is not a URL like grpc://host:port` });
    return FALLBACK;
  }
  const scheme = url.protocol.slice(0, -1);
  const kind = SCHEMES[scheme];
  if (kind === undefined) {
    const reason = `scheme "${scheme}:" is not supported; use grpc://, grpcs://, http:// or https://`;
    issues.push({ path, reason });
    return FALLBACK;
  }
  // The URL parser drops a port equal to the scheme's default (http://h:80), so the port is
  // read from the text itself; userinfo, a path, a query or a fragment have no place here.
  const port = EXPLICIT_PORT.exec(text)?.[1];
  const extras = url.username || url.password || url.search || url.hash;
  const pathless = url.pathname === '' || url.pathname === '/';
  if (port === undefined || url.hostname === '' || extras || !pathless) {
    issues.push({ path, reason: `"${text}" must be exactly ${scheme}://host:port` });
    return FALLBACK;
  }

  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const parts = { scheme: scheme as AddressParts['scheme'], host, port: Number(port) };
  return { ...parts, ...kind, authority: `${url.hostname}:${port}` };
}
