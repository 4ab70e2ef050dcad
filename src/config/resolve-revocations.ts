// Resolves the `revocations` section: its table name, its timing, and the TLS it depends on.

import type { CheckableConfig } from './config-schema';
import type { ConfigIssue } from './config-error';
import type { RevocationsConfig } from './gateway-config';
import { isTableName } from '../postgres/postgres-database';

/**
 * Builds the revocation configuration, or undefined when the file has no `revocations` section.
 * The listeners must verify client certificates (`tls`): revocations name certificates and the
 * tokens bound to them, and a cleartext listener sees neither. The table name must be safe to
 * write into SQL, and the list may go stale only after more than one refresh interval.
 */
export function resolveRevocations(
  file: CheckableConfig,
  issues: ConfigIssue[],
): RevocationsConfig | undefined {
  const section = file.revocations;
  if (section === undefined) return undefined;
  if (file.tls === undefined) {
    const reason = 'revocations need the tls section: they name client certificates';
    issues.push({ path: 'revocations', reason });
  }
  if (!isTableName(section.postgres.table)) {
    const reason = 'must be a lowercase SQL identifier of at most 48 characters';
    issues.push({ path: 'revocations.postgres.table', reason });
  }
  if (section.maxStaleMs <= section.refreshIntervalMs) {
    const reason = `${section.maxStaleMs} ms would be stale between two refreshes ${section.refreshIntervalMs} ms apart`;
    issues.push({ path: 'revocations.maxStaleMs', reason });
  }

  const { connectionString, table } = section.postgres;
  return {
    postgres: { connectionString, table },
    refreshIntervalMs: section.refreshIntervalMs,
    maxStaleMs: section.maxStaleMs,
  };
}
