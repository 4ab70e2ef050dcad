// Resolving the `revocations` section: its defaults, the TLS it needs, a safe table name, and a
// staleness longer than one refresh interval.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { buildConfig } from '../../src/config/load-config';
import { configErrorOf, env } from './config-fixtures';

const URL = 'postgres://infergate@db:5432/gw';

/** A `tls` section whose files exist (they are named, not parsed, when resolved). */
function tlsSection(t: TestContext): Record<string, unknown> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'infergate-revocations-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = (name: string) => {
    const where = path.join(dir, name);
    fs.writeFileSync(where, 'test only\n');
    return where;
  };
  return {
    certFile: file('server.pem'),
    keyFile: file('key.pem'),
    clientCaFiles: [file('ca.pem')],
  };
}

function documentWith(revocations: unknown, tls?: unknown): Record<string, unknown> {
  return {
    upstreams: [{ name: 'models', address: 'grpc://127.0.0.1:8001' }],
    ...(tls === undefined ? {} : { tls }),
    revocations,
  };
}

test('applies the defaults of the table, the refresh interval and the staleness', (t) => {
  const config = buildConfig(
    documentWith({ postgres: { connectionString: URL } }, tlsSection(t)),
    env(),
  );

  assert.deepEqual(config.revocations, {
    postgres: { connectionString: URL, table: 'infergate_revocations' },
    refreshIntervalMs: 5_000,
    maxStaleMs: 60_000,
  });
});

test('a file without the section has no revocations', () => {
  const config = buildConfig(documentWith(undefined), env());

  assert.equal('revocations' in config, false);
});

test('revocations without tls are a configuration error', () => {
  const error = configErrorOf(() =>
    buildConfig(documentWith({ postgres: { connectionString: URL } }), env()),
  );

  assert.deepEqual(error.issues, [
    {
      path: 'revocations',
      reason: 'revocations need the tls section: they name client certificates',
    },
  ]);
});

test('reports a bad table name and a staleness within one refresh, together', (t) => {
  const section = {
    postgres: { connectionString: URL, table: 'Revocations; drop' },
    refreshIntervalMs: 5_000,
    maxStaleMs: 5_000,
  };

  const error = configErrorOf(() => buildConfig(documentWith(section, tlsSection(t)), env()));

  assert.deepEqual(
    error.issues.map((issue) => issue.path),
    ['revocations.postgres.table', 'revocations.maxStaleMs'],
  );
});

test('rejects unknown keys and a missing postgres store', (t) => {
  const error = configErrorOf(() =>
    buildConfig(documentWith({ refreshIntervalMs: 0, extra: true }, tlsSection(t)), env()),
  );

  const paths = error.issues.map((issue) => issue.path).sort();
  assert.deepEqual(paths, ['revocations', 'revocations.postgres', 'revocations.refreshIntervalMs']);
});
