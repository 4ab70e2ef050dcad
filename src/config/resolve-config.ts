// Cross-field rules and file reads that turn a schema-valid file into a GatewayConfig.

import type { CheckableConfig, ConfigFile } from './config-schema';
import type { ConfigIssue } from './config-error';
import { configPath, readConfigFile } from './config-files';
import type {
  GatewayConfig,
  MaskDirection,
  RouteConfig,
  UpstreamConfig,
  UpstreamProtocol,
  UpstreamTlsConfig,
} from './gateway-config';
import { compileModelPattern } from '../pipeline/model-pattern';
import { DEFAULTS } from './defaults';
import { resolveAudit } from './resolve-audit';
import { resolveIdentity } from './resolve-identity';
import { resolveMasking } from './resolve-masking';
import { resolveReviews } from './resolve-reviews';
import { resolveRevocations } from './resolve-revocations';
import { parseUpstreamAddress } from './upstream-address';

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
  const routes = resolveRoutes(file, upstreams, issues);
  checkListenerPorts(file, issues);
  const identity = resolveIdentity(file, baseDir, issues);
  const masking = resolveMasking(file, baseDir, issues);
  const audit = resolveAudit(file, baseDir, issues);
  const reviews = resolveReviews(file, routes, issues);
  const revocations = resolveRevocations(file, issues);

  return {
    listeners: file.listeners,
    upstreams,
    routes,
    ...identity,
    masking,
    audit,
    reviews,
    // Only when configured, so a file without the section resolves as it did before it existed.
    ...(revocations === undefined ? {} : { revocations }),
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
  if (!address.secure && upstream.tls !== undefined) {
    const reason = 'TLS settings need a grpcs:// or https:// address';
    issues.push({ path: `${path}.tls`, reason });
  }
  const defaultConnections =
    address.protocol === 'grpc'
      ? DEFAULTS.upstream.grpcConnections
      : DEFAULTS.upstream.httpConnections;

  return {
    name: upstream.name,
    ...address,
    tls: address.secure ? (tls ?? EMPTY_TLS) : undefined,
    credentialHeaders: resolveCredentials(upstream, path, baseDir, issues),
    connections: upstream.connections ?? defaultConnections,
    connectTimeoutMs: upstream.connectTimeoutMs,
    headersTimeoutMs: upstream.headersTimeoutMs,
    bodyTimeoutMs: upstream.bodyTimeoutMs,
  };
}

const EMPTY_TLS: UpstreamTlsConfig = {
  ca: undefined,
  cert: undefined,
  key: undefined,
  serverName: undefined,
  files: { caFile: undefined, certFile: undefined, keyFile: undefined },
};

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

  const absolute = (file: string | undefined) =>
    file === undefined ? undefined : configPath(file, baseDir);
  return {
    ca: readConfigFile(tls.caFile, `${path}.tls.caFile`, baseDir, issues),
    cert: readConfigFile(tls.certFile, `${path}.tls.certFile`, baseDir, issues),
    key: readConfigFile(tls.keyFile, `${path}.tls.keyFile`, baseDir, issues),
    serverName: tls.serverName,
    files: {
      caFile: absolute(tls.caFile),
      certFile: absolute(tls.certFile),
      keyFile: absolute(tls.keyFile),
    },
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

function resolveRoutes(
  file: CheckableConfig,
  upstreams: readonly UpstreamConfig[],
  issues: ConfigIssue[],
): RouteConfig[] {
  // An upstream whose address did not parse has no known protocol: it takes part in no
  // per-protocol check, so a file with one bad address gets one issue, not follow-on ones.
  const known = upstreams.filter((upstream) => upstream.authority !== '');
  const protocols = new Map(known.map((upstream) => [upstream.name, upstream.protocol]));
  const routes: RouteConfig[] = [];
  const unknown: RouteConfig[] = [];
  const mask = file.masking.mask;
  file.routes.forEach((route, index) => {
    if (route === undefined) return;
    checkRoute(route, `routes[${index}]`, file.upstreamNames, issues);
    const protocol = protocols.get(route.upstream);
    const resolved = { ...route, masking: route.masking ?? mask };
    if (protocol === undefined) unknown.push({ ...resolved, protocol: 'grpc' });
    else routes.push({ ...resolved, protocol });
  });
  for (const protocol of UPSTREAM_PROTOCOLS) {
    const serving = known.filter((upstream) => upstream.protocol === protocol);
    const own = routes.filter((route) => route.protocol === protocol);
    checkDefaults(own, protocol, issues);
    if (own.length > 0 || serving.length === 0) continue;
    // One upstream of a protocol and no routes for it: everything goes there, the shape
    // `--upstream` builds.
    if (serving.length === 1) routes.push(implicitRoute(serving[0]!, mask));
    else issues.push({ path: 'routes', reason: `several ${protocol} upstreams need routes` });
  }
  return [...routes, ...unknown];
}

const UPSTREAM_PROTOCOLS: readonly UpstreamProtocol[] = ['grpc', 'http'];

function implicitRoute(upstream: UpstreamConfig, masking: MaskDirection): RouteConfig {
  const { name, protocol } = upstream;
  return { name: 'default', models: [], default: true, upstream: name, protocol, masking };
}

function checkDefaults(routes: readonly RouteConfig[], protocol: string, issues: ConfigIssue[]) {
  const defaults = routes.filter((route) => route.default).length;
  if (defaults > 1) {
    const reason = `${defaults} ${protocol} routes are marked default; at most one may be`;
    issues.push({ path: 'routes', reason });
  }
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
  const bound = new Map<string, string>();
  for (const name of ['grpc', 'http', 'admin'] as const) {
    const { host, port } = file.listeners[name];
    const owner = bound.get(`${host}:${port}`);
    if (port !== 0 && owner !== undefined) {
      const reason = `port ${port} is already the ${owner} listener's`;
      issues.push({ path: `listeners.${name}.port`, reason });
    }
    bound.set(`${host}:${port}`, name);
  }
}
