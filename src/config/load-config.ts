// Reads infergate.yaml (or a built-in document), validates it all at once, and freezes it.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { ProxyError } from '../errors/proxy-error';
import {
  configFileSchema,
  listenersSchema,
  routeSchema,
  upstreamSchema,
  type CheckableConfig,
  type ConfigFile,
} from './config-schema';
import { DEFAULTS } from './defaults';
import { auditSchema } from './audit-schema';
import { reviewsSchema } from './reviews-schema';
import { revocationsSchema } from './revocations-schema';
import { authSchema, listenerTlsSchema, rolesSchema } from './identity-schema';
import { DEFAULT_MASKING_SECTION, maskingSchema } from './masking-schema';
import { ConfigError, formatPath, type ConfigIssue } from './config-error';
import type { Environment } from './environment';
import { deepFreeze, type GatewayConfig } from './gateway-config';
import { resolveConfig } from './resolve-config';

/** Values given on the command line, applied over the file before validation. */
export interface ConfigOverrides {
  readonly grpcPort?: number;
  readonly httpPort?: number;
  readonly adminPort?: number;
  readonly logLevel?: string;
}

/** Where a configuration document came from, for messages, and where its relative paths start. */
export interface ConfigOrigin {
  readonly source: string;
  readonly baseDir: string;
}

/**
 * Loads and validates a configuration file. Throws ConfigError listing every problem, or
 * ProxyError ERR_CONFIG_UNREADABLE when the file cannot be read or is not YAML.
 */
export function loadConfigFile(
  file: string,
  env: Environment,
  overrides: ConfigOverrides = {},
): GatewayConfig {
  const path = resolve(file);
  const raw = parseYaml(readText(path), path);
  return buildConfig(raw, env, overrides, { source: path, baseDir: dirname(path) });
}

/**
 * Validates a configuration document already in memory (the embedded default, `--upstream`,
 * tests). `${env:NAME}` references in strings are replaced from `env` first.
 */
export function buildConfig(
  raw: unknown,
  env: Environment,
  overrides: ConfigOverrides = {},
  origin: ConfigOrigin = { source: '(built in)', baseDir: process.cwd() },
): GatewayConfig {
  const issues: ConfigIssue[] = [];
  const document = applyOverrides(substituteEnv(raw, [], env, issues), overrides, env);
  const parsed = configFileSchema.safeParse(document);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      issues.push({ path: formatPath(issue.path), reason: issue.message });
    }
  }

  const checkable = parsed.success ? withNames(parsed.data) : salvage(document);
  const config = resolveConfig(checkable, origin.baseDir, issues);
  if (issues.length > 0) throw new ConfigError(issues, origin.source);
  return deepFreeze(config);
}

function withNames(file: ConfigFile): CheckableConfig {
  return { ...file, upstreamNames: new Set(file.upstreams.map((upstream) => upstream.name)) };
}

/**
 * The parts of a rejected document the schema accepts on their own, so the cross-field checks
 * still run and every problem is reported in one pass, not the schema's first.
 */
function salvage(document: unknown): CheckableConfig {
  const root = isRecord(document) ? document : {};
  const entries = (key: string) => (Array.isArray(root[key]) ? (root[key] as unknown[]) : []);
  const upstreams = entries('upstreams');
  const names = upstreams.map((entry) => (isRecord(entry) ? entry.name : undefined));
  return {
    listeners: listenersSchema.safeParse(root.listeners).data ?? listenersSchema.parse(undefined),
    upstreams: upstreams.map((entry) => upstreamSchema.safeParse(entry).data),
    routes: entries('routes').map((entry) => routeSchema.safeParse(entry).data),
    upstreamNames: new Set(names.filter((name): name is string => typeof name === 'string')),
    tls: listenerTlsSchema.safeParse(root.tls).data,
    auth: authSchema.safeParse(root.auth).data,
    roles: rolesSchema.safeParse(root.roles).data ?? {},
    masking: maskingSchema.safeParse(root.masking).data ?? DEFAULT_MASKING_SECTION,
    audit: auditSchema.safeParse(root.audit).data,
    reviews: reviewsSchema.safeParse(root.reviews).data,
    revocations: revocationsSchema.safeParse(root.revocations).data,
    drainTimeoutMs: DEFAULTS.drainTimeoutMs,
    log: { level: DEFAULTS.log.level },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ProxyError('ERR_CONFIG_UNREADABLE', `cannot read ${path} (${reason})`, {
      cause: error,
    });
  }
}

function parseYaml(text: string, path: string): unknown {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: true });
  const first = document.errors[0];
  if (first !== undefined) {
    const { line, col: column } = lineCounter.linePos(first.pos[0]);
    throw new ProxyError(
      'ERR_CONFIG_UNREADABLE',
      `${path}:${line}:${column} is not valid YAML (${first.code})`,
    );
  }
  return document.toJS() ?? {};
}

const ENV_REFERENCE = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Replaces `${env:NAME}` in every string, so secrets stay out of the file. */
function substituteEnv(
  value: unknown,
  path: PropertyKey[],
  env: Environment,
  issues: ConfigIssue[],
): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REFERENCE, (_match, name: string) => {
      const found = env.lookup(name);
      if (found === undefined) {
        issues.push({ path: formatPath(path), reason: `environment variable ${name} is not set` });
      }
      return found ?? `\${env:${name}}`;
    });
  }
  if (Array.isArray(value))
    return value.map((item, index) => substituteEnv(item, [...path, index], env, issues));
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(([key, child]) => [
      key,
      substituteEnv(child, [...path, key], env, issues),
    ]);
    return Object.fromEntries(entries);
  }
  return value;
}

function applyOverrides(raw: unknown, overrides: ConfigOverrides, env: Environment): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const document = structuredClone(raw) as Record<string, unknown>;
  const listeners = objectAt(document, 'listeners');
  if (overrides.grpcPort !== undefined) objectAt(listeners, 'grpc').port = overrides.grpcPort;
  if (overrides.httpPort !== undefined) objectAt(listeners, 'http').port = overrides.httpPort;
  if (overrides.adminPort !== undefined) objectAt(listeners, 'admin').port = overrides.adminPort;
  const level = overrides.logLevel ?? env.logLevel;
  if (level !== undefined) objectAt(document, 'log').level = level;
  return document;
}

function objectAt(parent: Record<string, unknown>, key: string): Record<string, unknown> {
  const existing = parent[key];
  if (existing !== null && typeof existing === 'object' && !Array.isArray(existing)) {
    return existing as Record<string, unknown>;
  }
  const created: Record<string, unknown> = {};
  parent[key] = created;
  return created;
}
