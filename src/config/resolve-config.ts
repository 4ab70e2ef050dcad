// Cross-field rules and file reads that turn a schema-valid file into a GatewayConfig.

import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { CheckableConfig, ConfigFile } from './config-schema';
import type { ConfigIssue } from './config-error';
import type {
  GatewayConfig,
  RouteConfig,
  UpstreamConfig,
  UpstreamTlsConfig,
} from './gateway-config';
import { compileModelPattern } from '../pipeline/model-pattern';

type Upstream = ConfigFile['upstreams'][number];
type Route = ConfigFile['routes'][number];

/**
 * Checks what one field cannot check alone and reads the files the configuration names,
 * relative to `baseDir`. Problems are appended to `issues`; the result is only meaningful
 * when no issue was added.
 */
export function resolveConfig(
  file: CheckableConfig,
  baseDir: string,
  issues: ConfigIssue[],
): GatewayConfig {
  const upstreams: UpstreamConfig[] = [];
  file.upstreams.forEach((upstream, index) => {
    if (upstream !== undefined) {
      upstreams.push(resolveUpstream(upstream, `upstreams[${index}]`, baseDir, issues));
    }
  });
  checkUniqueNames(file.upstreams, 'upstreams', issues);
  checkUniqueNames(file.routes, 'routes', issues);
  const routes = resolveRoutes(file, issues);
  checkListenerPorts(file, issues);

  return {
    listeners: file.listeners,
    upstreams,
    routes,
    drainTimeoutMs: file.drainTimeoutMs,
    log: file.log,
  };
}

function resolveUpstream(
  upstream: Upstream,
  path: string,
  baseDir: string,
  issues: ConfigIssue[],
): UpstreamConfig {
  const address = parseUpstreamAddress(upstream.address, `${path}.address`, issues);
  const tls = resolveTls(upstream, path, baseDir, issues);
  if (address.scheme === 'grpc' && upstream.tls !== undefined) {
    issues.push({ path: `${path}.tls`, reason: 'TLS settings need a grpcs:// address' });
  }

  return {
    name: upstream.name,
    ...address,
    tls: address.scheme === 'grpcs' ? (tls ?? EMPTY_TLS) : undefined,
    credentialHeaders: resolveCredentials(upstream, path, baseDir, issues),
    connections: upstream.connections,
    connectTimeoutMs: upstream.connectTimeoutMs,
  };
}

const EMPTY_TLS: UpstreamTlsConfig = {
  ca: undefined,
  cert: undefined,
  key: undefined,
  serverName: undefined,
};

/** Parses `grpc://host:port` or `grpcs://host:port`; IPv6 hosts in brackets. */
export function parseUpstreamAddress(
  text: string,
  path: string,
  issues: ConfigIssue[],
): Pick<UpstreamConfig, 'scheme' | 'host' | 'port' | 'authority'> {
  const fallback = { scheme: 'grpc' as const, host: '', port: 0, authority: '' };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    issues.push({ path, reason: `"${text}" is not a URL like grpc://host:port` });
    return fallback;
  }
  const scheme = url.protocol.slice(0, -1);
  if (scheme !== 'grpc' && scheme !== 'grpcs') {
    issues.push({ path, reason: `scheme "${scheme}:" is not supported; use grpc:// or grpcs://` });
    return fallback;
  }
  if (url.port === '' || url.hostname === '' || (url.pathname !== '' && url.pathname !== '/')) {
    issues.push({ path, reason: `"${text}" must be exactly ${scheme}://host:port` });
    return fallback;
  }

  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { scheme, host, port: Number(url.port), authority: url.host };
}

function resolveTls(
  upstream: Upstream,
  path: string,
  baseDir: string,
  issues: ConfigIssue[],
): UpstreamTlsConfig | undefined {
  const tls = upstream.tls;
  if (tls === undefined) return undefined;
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    issues.push({ path: `${path}.tls`, reason: 'certFile and keyFile must be given together' });
  }

  return {
    ca: readConfigFile(tls.caFile, `${path}.tls.caFile`, baseDir, issues),
    cert: readConfigFile(tls.certFile, `${path}.tls.certFile`, baseDir, issues),
    key: readConfigFile(tls.keyFile, `${path}.tls.keyFile`, baseDir, issues),
    serverName: tls.serverName,
  };
}

function resolveCredentials(
  upstream: Upstream,
  path: string,
  baseDir: string,
  issues: ConfigIssue[],
): Record<string, string> {
  const credentials = upstream.credentials;
  if (credentials === undefined) return {};
  const headers: Record<string, string> = { ...credentials.headers };
  if (credentials.bearerToken !== undefined && credentials.bearerTokenFile !== undefined) {
    issues.push({
      path: `${path}.credentials`,
      reason: 'give bearerToken or bearerTokenFile, not both',
    });
  }

  const filePath = `${path}.credentials.bearerTokenFile`;
  const fromFile = readConfigFile(credentials.bearerTokenFile, filePath, baseDir, issues);
  const token = credentials.bearerToken ?? fromFile?.toString('utf8').trim();
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  return headers;
}

function readConfigFile(
  file: string | undefined,
  path: string,
  baseDir: string,
  issues: ConfigIssue[],
): Buffer | undefined {
  if (file === undefined) return undefined;
  const absolute = isAbsolute(file) ? file : resolve(baseDir, file);
  try {
    return readFileSync(absolute);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    issues.push({ path, reason: `cannot read ${absolute} (${reason})` });
    return undefined;
  }
}

function resolveRoutes(file: CheckableConfig, issues: ConfigIssue[]): RouteConfig[] {
  const routes: Route[] = [];
  file.routes.forEach((route, index) => {
    if (route === undefined) return;
    checkRoute(route, `routes[${index}]`, file.upstreamNames, issues);
    routes.push(route);
  });
  const defaults = routes.filter((route) => route.default);
  if (defaults.length > 1) {
    issues.push({
      path: 'routes',
      reason: `${defaults.length} routes are marked default; at most one may be`,
    });
  }
  const only = file.upstreams.length === 1 ? file.upstreams[0] : undefined;
  if (file.routes.length === 0 && only !== undefined) {
    // One upstream and no routes: everything goes there, the shape `--upstream` builds.
    return [{ name: 'default', models: [], default: true, upstream: only.name }];
  }
  if (file.routes.length === 0 && file.upstreams.length > 1) {
    issues.push({
      path: 'routes',
      reason: 'several upstreams need routes that say which models go where',
    });
  }
  return routes;
}

function checkRoute(
  route: Route,
  path: string,
  upstreamNames: ReadonlySet<string>,
  issues: ConfigIssue[],
): void {
  if (!upstreamNames.has(route.upstream)) {
    issues.push({ path: `${path}.upstream`, reason: `no upstream is named "${route.upstream}"` });
  }
  if (!route.default && route.models.length === 0) {
    issues.push({
      path: `${path}.models`,
      reason: 'a route that is not the default needs model patterns',
    });
  }
  route.models.forEach((pattern, index) => {
    const problem = compileModelPattern(pattern).problem;
    if (problem !== undefined) issues.push({ path: `${path}.models[${index}]`, reason: problem });
  });
}

function checkUniqueNames(
  items: readonly ({ name: string } | undefined)[],
  path: string,
  issues: ConfigIssue[],
): void {
  const seen = new Set<string>();
  items.forEach((item, index) => {
    if (item === undefined) return;
    if (seen.has(item.name)) {
      issues.push({ path: `${path}[${index}].name`, reason: `"${item.name}" is used twice` });
    }
    seen.add(item.name);
  });
}

function checkListenerPorts(file: CheckableConfig, issues: ConfigIssue[]): void {
  const { grpc, admin } = file.listeners;
  if (grpc.port !== 0 && grpc.port === admin.port && grpc.host === admin.host) {
    issues.push({
      path: 'listeners.admin.port',
      reason: `port ${admin.port} is already the grpc listener's`,
    });
  }
}
