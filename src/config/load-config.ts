// Reads infergate.yaml (or a built-in document), validates it all at once, and freezes it.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ProxyError } from '../errors/proxy-error';
import { configFileSchema } from './config-schema';
import { ConfigError, formatPath, type ConfigIssue } from './config-error';
import type { Environment } from './environment';
import { deepFreeze, type GatewayConfig } from './gateway-config';
import { resolveConfig } from './resolve-config';

/** Values given on the command line, applied over the file before validation. */
export interface ConfigOverrides {
  readonly grpcPort?: number;
  readonly adminPort?: number;
  readonly logLevel?: string;
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
  origin: { source: string; baseDir: string } = { source: '(built in)', baseDir: process.cwd() },
): GatewayConfig {
  const issues: ConfigIssue[] = [];
  const substituted = substituteEnv(raw, [], env, issues);
  const parsed = configFileSchema.safeParse(applyOverrides(substituted, overrides, env));
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      issues.push({ path: formatPath(issue.path), reason: issue.message });
    }
    throw new ConfigError(issues, origin.source);
  }

  const config = resolveConfig(parsed.data, origin.baseDir, issues);
  if (issues.length > 0) throw new ConfigError(issues, origin.source);
  return deepFreeze(config);
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ProxyError('ERR_CONFIG_UNREADABLE', `cannot read ${path} (${reason})`, { cause: error });
  }
}

function parseYaml(text: string, path: string): unknown {
  const document = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const first = document.errors[0];
  if (first !== undefined) {
    const [line, column] = first.linePos?.[0] ? [first.linePos[0].line, first.linePos[0].col] : [0, 0];
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
      return found ?? '';
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => substituteEnv(item, [...path, index], env, issues));
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
