// Resolves the `audit` section: one store, its paths, the log id, the sealing key and who unseals.

import { hostname } from 'node:os';
import type { CheckableConfig } from './config-schema';
import type { ConfigIssue } from './config-error';
import { configPath, readConfigFile } from './config-files';
import type { AuditConfig, AuditStoreConfig } from './gateway-config';
import { DEFAULTS } from './defaults';

/**
 * Builds the audit configuration, or undefined when the file has no `audit` section. Exactly
 * one of `files` and `postgres` names the store, and every unseal role must be defined under
 * `roles`; the key directory and the sealing key are checked when the gateway starts, by the
 * code that reads them.
 */
export function resolveAudit(
  file: CheckableConfig,
  baseDir: string,
  issues: ConfigIssue[],
): AuditConfig | undefined {
  const section = file.audit;
  if (section === undefined) return undefined;
  const store = resolveStore(section, baseDir, issues);
  const sealingKeyPem = readConfigFile(
    section.sealingKeyFile,
    'audit.sealingKeyFile',
    baseDir,
    issues,
  );
  checkUnsealRoles(section.unsealRoles, file, issues);
  return {
    logId: section.logId ?? defaultLogId(),
    store,
    signingKeyDir: configPath(section.signingKeyDir, baseDir),
    checkpointEveryFrames: section.checkpointEveryFrames,
    checkpointIntervalMs: section.checkpointIntervalMs,
    maxTextBytes: section.maxTextBytes,
    sealingKeyPem,
    unsealRoles: section.unsealRoles,
  };
}

/** A role no section defines is a typo: the security team would learn of it when it is too late. */
function checkUnsealRoles(roles: readonly string[], file: CheckableConfig, issues: ConfigIssue[]) {
  roles.forEach((role, index) => {
    if (!Object.hasOwn(file.roles, role)) {
      issues.push({ path: `audit.unsealRoles[${index}]`, reason: `no role "${role}" is defined` });
    }
  });
}

function resolveStore(
  section: NonNullable<CheckableConfig['audit']>,
  baseDir: string,
  issues: ConfigIssue[],
): AuditStoreConfig {
  const { files, postgres } = section;
  if ((files === undefined) === (postgres === undefined)) {
    issues.push({ path: 'audit', reason: 'name exactly one store: files or postgres' });
  }
  if (postgres !== undefined) return { kind: 'postgres', ...postgres };
  return {
    kind: 'files',
    dir: configPath(files?.dir ?? 'audit', baseDir),
    segmentMaxBytes: files?.segmentMaxBytes ?? DEFAULTS.audit.segmentMaxBytes,
    segmentMaxAgeMs: files?.segmentMaxAgeMs ?? DEFAULTS.audit.segmentMaxAgeMs,
  };
}

/** The host name, cut to what a log id may hold, so each machine writes a chain of its own. */
export function defaultLogId(): string {
  const cleaned = hostname()
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .replace(/^\.+/, '');
  return (cleaned || 'infergate').slice(0, 128);
}
