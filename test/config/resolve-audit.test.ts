// The `audit` section: one store, paths from the configuration's folder, defaults, problems.

import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { buildConfig } from '../../src/config/load-config';
import { DEFAULTS } from '../../src/config/defaults';
import { configErrorOf, env } from './config-fixtures';

const ORIGIN = { source: 'audit.yaml', baseDir: '/etc/infergate' };
const UPSTREAMS = [{ name: 'models', address: 'grpc://127.0.0.1:8001' }];

test('resolves segment files and keys from the configuration folder, with defaults', () => {
  const config = buildConfig(
    { upstreams: UPSTREAMS, audit: { files: { dir: 'frames' }, signingKeyDir: 'keys' } },
    env(),
    {},
    ORIGIN,
  );

  assert.deepEqual(config.audit, {
    logId:
      hostname()
        .replace(/[^A-Za-z0-9._-]/g, '-')
        .replace(/^\.+/, '') || 'infergate',
    store: {
      kind: 'files',
      dir: path.join('/etc/infergate', 'frames'),
      segmentMaxBytes: DEFAULTS.audit.segmentMaxBytes,
      segmentMaxAgeMs: DEFAULTS.audit.segmentMaxAgeMs,
    },
    signingKeyDir: path.join('/etc/infergate', 'keys'),
    checkpointEveryFrames: 1000,
    checkpointIntervalMs: 1000,
    maxTextBytes: 64 * 1024,
    sealingKeyPem: undefined,
    unsealRoles: [],
  });
});

test('takes a PostgreSQL store with its table and an explicit log id', () => {
  const config = buildConfig(
    {
      upstreams: UPSTREAMS,
      audit: {
        logId: 'gw-2',
        postgres: { connectionString: 'postgres://infergate@db/audit' },
        signingKeyDir: '/keys',
      },
    },
    env(),
    {},
    ORIGIN,
  );

  assert.equal(config.audit?.logId, 'gw-2');
  assert.deepEqual(config.audit?.store, {
    kind: 'postgres',
    connectionString: 'postgres://infergate@db/audit',
    table: 'infergate_audit_frames',
  });
});

test('reports no store, two stores, a bad log id and a missing sealing key at once', () => {
  const both = {
    logId: 'gw-1',
    files: { dir: 'a' },
    postgres: { connectionString: 'postgres://db/x' },
    signingKeyDir: 'k',
  };
  const none = { signingKeyDir: 'k', sealingKeyFile: '/nonexistent/seal.pub.pem' };

  const twoStores = configErrorOf(() =>
    buildConfig({ upstreams: UPSTREAMS, audit: both }, env(), {}, ORIGIN),
  );
  const noStore = configErrorOf(() =>
    buildConfig({ upstreams: UPSTREAMS, audit: none }, env(), {}, ORIGIN),
  );

  const badId = configErrorOf(() =>
    buildConfig({ upstreams: UPSTREAMS, audit: { ...both, logId: '../up' } }, env(), {}, ORIGIN),
  );

  assert.deepEqual(
    twoStores.issues.map((issue) => `${issue.path}: ${issue.reason}`),
    ['audit: name exactly one store: files or postgres'],
  );
  assert.deepEqual(
    badId.issues.map((issue) => issue.path),
    ['audit.logId'],
  );
  assert.deepEqual(
    noStore.issues.map((issue) => `${issue.path}: ${issue.reason}`),
    [
      'audit: name exactly one store: files or postgres',
      'audit.sealingKeyFile: cannot read /nonexistent/seal.pub.pem (ENOENT)',
    ],
  );
});

test('takes the unseal roles the roles section defines', () => {
  const config = buildConfig(
    {
      upstreams: UPSTREAMS,
      roles: { security: { models: ['*'], operations: ['models'] } },
      audit: { files: { dir: 'frames' }, signingKeyDir: 'keys', unsealRoles: ['security'] },
    },
    env(),
    {},
    ORIGIN,
  );

  assert.deepEqual(config.audit?.unsealRoles, ['security']);
});

test('reports an unseal role no role section defines, and one that is no role name', () => {
  const audit = { files: { dir: 'frames' }, signingKeyDir: 'keys' };
  const roles = { security: { models: ['*'], operations: ['models'] } };

  const unknown = configErrorOf(() =>
    buildConfig(
      { upstreams: UPSTREAMS, roles, audit: { ...audit, unsealRoles: ['security', 'secops'] } },
      env(),
      {},
      ORIGIN,
    ),
  );
  const malformed = configErrorOf(() =>
    buildConfig(
      { upstreams: UPSTREAMS, roles, audit: { ...audit, unsealRoles: ['Security Team'] } },
      env(),
      {},
      ORIGIN,
    ),
  );

  assert.deepEqual(
    unknown.issues.map((issue) => `${issue.path}: ${issue.reason}`),
    ['audit.unsealRoles[1]: no role "secops" is defined'],
  );
  assert.deepEqual(
    malformed.issues.map((issue) => issue.path),
    ['audit.unsealRoles[0]'],
  );
});

test('reports audit problems together with schema problems elsewhere in the file', () => {
  const document = {
    upstreams: UPSTREAMS,
    listeners: { http: { port: 'eighty' } },
    audit: { signingKeyDir: 'k' },
  };

  const error = configErrorOf(() => buildConfig(document, env(), {}, ORIGIN));

  assert.deepEqual(error.issues.map((issue) => issue.path).sort(), [
    'audit',
    'listeners.http.port',
  ]);
});
