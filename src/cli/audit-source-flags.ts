// Flags the `infergate audit` readers share: which store to read, which keys to trust,
// and how their output renders values that JSON has no form for.

import { readVerifyingKeys } from '../audit/audit-key-directory';
import type { AuditVerifyingKey } from '../audit/audit-signing';
import type { AuditSource } from '../audit/audit-store';
import { PostgresAuditSource } from '../audit/postgres-source';
import { SegmentFileSource } from '../audit/segment-file-source';
import { readEnvironment } from '../config/environment';
import { loadConfigFile } from '../config/load-config';
import { ProxyError } from '../errors/proxy-error';
import { openAuditSource } from '../gateway-audit';

/** The flags that pick the store and the trusted keys. */
export const AUDIT_SOURCE_FLAGS = {
  dir: { type: 'string', short: 'd' },
  pg: { type: 'string' },
  config: { type: 'string', short: 'c' },
  table: { type: 'string' },
  keys: { type: 'string', short: 'k', multiple: true },
} as const;

/** Help lines for {@link AUDIT_SOURCE_FLAGS}. */
export const AUDIT_SOURCE_FLAGS_HELP = [
  '  -d, --dir DIR          read the segment files in DIR',
  '      --pg URL           read a PostgreSQL table instead (postgres://user:pass@host/db)',
  '      --table T          the table --pg reads; infergate_audit_frames unless given',
  '  -c, --config FILE      read the store the audit section of an infergate.yaml names',
  '  -k, --keys PATH        trust the public key PATH (*.pub.pem), or every *.pub.pem of the',
  '                         directory PATH; repeat for more keys (at least one)',
].join('\n');

/** What the source flags parse into. */
export interface AuditSourceChoice {
  readonly source: AuditSource;
  readonly keys: readonly AuditVerifyingKey[];
}

/** The values of {@link AUDIT_SOURCE_FLAGS} as `parseFlags` returns them. */
export interface AuditSourceFlagValues {
  readonly dir?: string | undefined;
  readonly pg?: string | undefined;
  readonly config?: string | undefined;
  readonly table?: string | undefined;
  readonly keys?: readonly string[] | undefined;
}

/**
 * The store and keys the flags name. Throws `ERR_USAGE` unless exactly one of `--dir`, `--pg`
 * and `--config` is given, for `--table` without `--pg`, and without `--keys`; a key that cannot be read
 * throws `ERR_AUDIT_KEY_INVALID`. Nothing is read from the store yet.
 */
export function auditSourceFromFlags(flags: AuditSourceFlagValues): AuditSourceChoice {
  const source = sourceOf(flags);
  const paths = flags.keys ?? [];
  // Trust never comes from the store itself: without keys, a forger's own key would do.
  if (paths.length === 0) throw new ProxyError('ERR_USAGE', '--keys is required');
  return { source, keys: readVerifyingKeys(paths) };
}

function sourceOf(flags: AuditSourceFlagValues): AuditSource {
  const { dir, pg, table, config } = flags;
  if ([dir, pg, config].filter((value) => value !== undefined).length > 1) {
    throw new ProxyError('ERR_USAGE', 'give one of --dir, --pg and --config');
  }
  if (config !== undefined) return configuredSource(config, table);
  if (table !== undefined && pg === undefined) {
    throw new ProxyError('ERR_USAGE', '--table needs --pg');
  }
  if (dir !== undefined && dir.length > 0) return new SegmentFileSource({ dir });
  if (pg !== undefined && pg.length > 0) {
    return new PostgresAuditSource({ connectionString: pg, table });
  }
  throw new ProxyError('ERR_USAGE', 'one of --dir, --pg and --config is required');
}

/** The store a configuration file's `audit` section names; its problems are reported as at start. */
function configuredSource(file: string, table: string | undefined): AuditSource {
  if (table !== undefined) throw new ProxyError('ERR_USAGE', '--table needs --pg');
  const audit = loadConfigFile(file, readEnvironment(), {}).audit;
  if (audit === undefined) {
    throw new ProxyError('ERR_USAGE', `${file} has no audit section to read a store from`);
  }
  return openAuditSource(audit);
}

/**
 * `value` as one line of JSON, bytes as lowercase hex. The replacer looks at the holder's own
 * value because `JSON.stringify` has already turned a Buffer into `{ type, data }` by then.
 */
export function auditJson(value: unknown): string {
  return JSON.stringify(value, function (this: unknown, key: string, replaced: unknown) {
    const original = (this as Record<string, unknown>)[key];
    return original instanceof Uint8Array ? Buffer.from(original).toString('hex') : replaced;
  });
}
