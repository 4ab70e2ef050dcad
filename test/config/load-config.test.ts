// Loading infergate.yaml: defaults, every problem reported at once, env references, freezing.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import type { ConfigIssue } from '../../src/config/config-error';
import { buildConfig, loadConfigFile } from '../../src/config/load-config';
import { ProxyError } from '../../src/errors/proxy-error';
import { configErrorOf, env } from './config-fixtures';

/** A temp dir for config files and the files they name, removed after the test. */
function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'infergate-config-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `text` to `dir/name` and returns the file's absolute path. */
function writeFile(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

/** The smallest valid document: one cleartext upstream and nothing else. */
function oneUpstream(address = 'grpc://127.0.0.1:8001'): Record<string, unknown> {
  return { upstreams: [{ name: 'models', address }] };
}

/** Runs `load`, which must throw a ProxyError, and returns it. */
function proxyErrorOf(load: () => unknown): ProxyError {
  try {
    load();
  } catch (err) {
    assert.ok(err instanceof ProxyError, `expected ProxyError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ProxyError');
}

/** Issues in a stable order, so a test states the set without depending on check order. */
function sorted(issues: readonly ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => `${a.path} ${a.reason}`.localeCompare(`${b.path} ${b.reason}`));
}

test('applies every default to a document that names only an upstream', () => {
  const config = buildConfig(oneUpstream(), env());

  assert.deepEqual(config, {
    listeners: {
      grpc: {
        host: '0.0.0.0',
        port: 9001,
        maxMessageBytes: 64 * 1024 * 1024,
        maxConcurrentStreams: 1000,
      },
      http: {
        host: '0.0.0.0',
        port: 9000,
        maxBodyBytes: 16 * 1024 * 1024,
        maxHeaderBytes: 16 * 1024,
        maxHeaderCount: 100,
        headersTimeoutMs: 10_000,
        requestTimeoutMs: 60_000,
        idleTimeoutMs: 60_000,
      },
      admin: { host: '127.0.0.1', port: 9090 },
    },
    upstreams: [
      {
        name: 'models',
        scheme: 'grpc',
        protocol: 'grpc',
        secure: false,
        host: '127.0.0.1',
        port: 8001,
        authority: '127.0.0.1:8001',
        tls: undefined,
        credentialHeaders: {},
        connections: 1,
        connectTimeoutMs: 5000,
        headersTimeoutMs: 300_000,
        bodyTimeoutMs: 300_000,
      },
    ],
    routes: [
      {
        name: 'default',
        models: [],
        default: true,
        upstream: 'models',
        protocol: 'grpc',
        masking: 'both',
      },
    ],
    tls: undefined,
    auth: undefined,
    audit: undefined,
    reviews: undefined,
    roles: {},
    masking: {
      mask: 'both',
      keepFirst: 0,
      keepLast: 4,
      maskByte: 0x2a,
      unmaskedRoles: [],
      fingerprintKey: undefined,
      maxHeldBytes: 1024 * 1024,
      patterns: [],
    },
    drainTimeoutMs: 10_000,
    log: { level: 'info' },
  });
});

test('reports every schema and cross-field problem of a document in one error', (t) => {
  const dir = tempDir(t);
  const file = writeFile(
    dir,
    'infergate.yaml',
    `listeners:
  grpc:
    port: 70000
  admin:
    prot: 9091
upstreams:
  - name: models
    address: grpc://127.0.0.1:8001
    tls:
      caFile: missing-ca.pem
  - name: models
    address: ftp://127.0.0.1:8002
routes:
  - name: llama
    models: ['llama-*']
    upstream: nowhere
  - name: first
    default: true
    upstream: models
  - name: second
    default: true
    upstream: models
`,
  );

  const error = configErrorOf(() => loadConfigFile(file, env()));

  assert.deepEqual(
    sorted(error.issues),
    sorted([
      { path: 'listeners.grpc.port', reason: 'Too big: expected number to be <=65535' },
      { path: 'listeners.admin', reason: 'Unrecognized key: "prot"' },
      {
        path: 'upstreams[0].tls.caFile',
        reason: `cannot read ${path.join(dir, 'missing-ca.pem')} (ENOENT)`,
      },
      { path: 'upstreams[0].tls', reason: 'TLS settings need a grpcs:// or https:// address' },
      {
        path: 'upstreams[1].address',
        reason: 'scheme "ftp:" is not supported; use grpc://, grpcs://, http:// or https://',
      },
      { path: 'upstreams[1].name', reason: '"models" is used twice' },
      { path: 'routes[0].upstream', reason: 'no upstream is named "nowhere"' },
      { path: 'routes', reason: '2 grpc routes are marked default; at most one may be' },
    ]),
  );
  assert.equal(error.message, `configuration ${file} has 8 problem(s)`);
});

test('reports every cross-field problem at once with its path', (t) => {
  const dir = tempDir(t);
  const file = writeFile(
    dir,
    'infergate.yaml',
    `upstreams:
  - name: models
    address: grpc://127.0.0.1:8001
    tls:
      caFile: missing-ca.pem
  - name: models
    address: ftp://127.0.0.1:8002
  - name: secure
    address: grpcs://models.internal:8443
    tls:
      certFile: client.pem
routes:
  - name: llama
    models: ['llama-*']
    upstream: nowhere
  - name: first
    default: true
    upstream: models
  - name: second
    default: true
    upstream: secure
`,
  );

  const error = configErrorOf(() => loadConfigFile(file, env()));

  assert.deepEqual(
    sorted(error.issues),
    sorted([
      {
        path: 'upstreams[0].tls.caFile',
        reason: `cannot read ${path.join(dir, 'missing-ca.pem')} (ENOENT)`,
      },
      { path: 'upstreams[0].tls', reason: 'TLS settings need a grpcs:// or https:// address' },
      {
        path: 'upstreams[1].address',
        reason: 'scheme "ftp:" is not supported; use grpc://, grpcs://, http:// or https://',
      },
      { path: 'upstreams[2].tls', reason: 'certFile and keyFile must be given together' },
      {
        path: 'upstreams[2].tls.certFile',
        reason: `cannot read ${path.join(dir, 'client.pem')} (ENOENT)`,
      },
      { path: 'upstreams[1].name', reason: '"models" is used twice' },
      { path: 'routes[0].upstream', reason: 'no upstream is named "nowhere"' },
      { path: 'routes', reason: '2 grpc routes are marked default; at most one may be' },
    ]),
  );
  assert.equal(
    error.describe().split('\n')[0],
    `  upstreams[0].tls.caFile: cannot read ${path.join(dir, 'missing-ca.pem')} (ENOENT)`,
  );
});

test('reports every schema problem at once with its path', () => {
  const document = {
    listeners: { grpc: { port: -1 }, admin: { prot: 9091 } },
    upstreams: [{ name: 'Models!', address: 'grpc://127.0.0.1:8001', connections: 0 }],
    drainTimeoutMs: 1.5,
  };

  const error = configErrorOf(() => buildConfig(document, env()));

  assert.deepEqual(
    sorted(error.issues),
    sorted([
      { path: 'listeners.grpc.port', reason: 'Too small: expected number to be >=0' },
      { path: 'listeners.admin', reason: 'Unrecognized key: "prot"' },
      {
        path: 'upstreams[0].name',
        reason: 'must be 1-63 lowercase letters, digits, ".", "_" or "-"',
      },
      { path: 'upstreams[0].connections', reason: 'Too small: expected number to be >0' },
      { path: 'drainTimeoutMs', reason: 'Invalid input: expected int, received number' },
    ]),
  );
});

test('rejects a route model pattern longer than 256 characters', () => {
  const document = {
    ...oneUpstream(),
    routes: [{ name: 'long', models: ['m'.repeat(257)], upstream: 'models' }],
  };

  const error = configErrorOf(() => buildConfig(document, env()));

  assert.deepEqual(error.issues, [
    { path: 'routes[0].models[0]', reason: 'must be 1-256 characters' },
  ]);
});

test('rejects a route that is not the default and names no models', () => {
  const document = { ...oneUpstream(), routes: [{ name: 'empty', upstream: 'models' }] };

  const error = configErrorOf(() => buildConfig(document, env()));

  assert.deepEqual(error.issues, [
    { path: 'routes[0].models', reason: 'a route that is not the default needs model patterns' },
  ]);
});

test('rejects grpc and admin listeners on the same host and port', () => {
  const document = {
    ...oneUpstream(),
    listeners: {
      grpc: { host: '127.0.0.1', port: 9500 },
      admin: { host: '127.0.0.1', port: 9500 },
    },
  };

  const error = configErrorOf(() => buildConfig(document, env()));

  assert.deepEqual(error.issues, [
    { path: 'listeners.admin.port', reason: "port 9500 is already the grpc listener's" },
  ]);
});

test('replaces ${env:NAME} references from the injected environment', () => {
  const document = {
    upstreams: [
      {
        name: 'models',
        address: 'grpcs://${env:MODEL_HOST}:${env:MODEL_PORT}',
        credentials: {
          bearerToken: '${env:MODEL_TOKEN}',
          headers: { 'x-team': 'team-${env:TEAM}' },
        },
      },
    ],
  };
  const environment = env({
    MODEL_HOST: 'models.internal',
    MODEL_PORT: '8443',
    MODEL_TOKEN: 's3cret',
    TEAM: 'search',
  });

  const config = buildConfig(document, environment);

  const upstream = config.upstreams[0]!;
  assert.equal(upstream.authority, 'models.internal:8443');
  assert.equal(upstream.scheme, 'grpcs');
  assert.deepEqual(upstream.credentialHeaders, {
    'x-team': 'team-search',
    authorization: 'Bearer s3cret',
  });
});

test('reports a missing environment variable with the path that references it', () => {
  const document = {
    upstreams: [
      {
        name: 'models',
        address: 'grpc://127.0.0.1:8001',
        credentials: { headers: { 'x-team': '${env:TEAM}' } },
      },
    ],
  };

  const error = configErrorOf(() => buildConfig(document, env({ OTHER: 'x' })));

  assert.deepEqual(error.issues, [
    {
      path: 'upstreams[0].credentials.headers.x-team',
      reason: 'environment variable TEAM is not set',
    },
  ]);
});

test('does not read variables from the real process environment', () => {
  process.env.INFERGATE_TEST_ONLY_VARIABLE = 'leaked';
  try {
    const document = {
      upstreams: [
        {
          name: 'models',
          address: 'grpc://127.0.0.1:8001',
          credentials: { headers: { 'x-leak': '${env:INFERGATE_TEST_ONLY_VARIABLE}' } },
        },
      ],
    };

    const error = configErrorOf(() => buildConfig(document, env()));

    assert.deepEqual(error.issues, [
      {
        path: 'upstreams[0].credentials.headers.x-leak',
        reason: 'environment variable INFERGATE_TEST_ONLY_VARIABLE is not set',
      },
    ]);
  } finally {
    delete process.env.INFERGATE_TEST_ONLY_VARIABLE;
  }
});

test('turns bearerToken into an authorization credential header', () => {
  const document = {
    upstreams: [
      {
        name: 'models',
        address: 'grpc://127.0.0.1:8001',
        credentials: { bearerToken: 'tok-123', headers: { 'x-api-key': 'k-9' } },
      },
    ],
  };

  const config = buildConfig(document, env());

  assert.deepEqual(config.upstreams[0]!.credentialHeaders, {
    'x-api-key': 'k-9',
    authorization: 'Bearer tok-123',
  });
});

test('reads bearerTokenFile relative to the config file and trims it', (t) => {
  const dir = tempDir(t);
  fs.mkdirSync(path.join(dir, 'secrets'));
  writeFile(dir, 'secrets/token', '  file-token-42\n');
  const file = writeFile(
    dir,
    'infergate.yaml',
    `upstreams:
  - name: models
    address: grpc://127.0.0.1:8001
    credentials:
      bearerTokenFile: secrets/token
`,
  );

  const config = loadConfigFile(file, env());

  assert.notEqual(process.cwd(), dir);
  assert.deepEqual(config.upstreams[0]!.credentialHeaders, {
    authorization: 'Bearer file-token-42',
  });
});

test('reports an unreadable bearerTokenFile and a token given twice', (t) => {
  const dir = tempDir(t);
  const file = writeFile(
    dir,
    'infergate.yaml',
    `upstreams:
  - name: models
    address: grpc://127.0.0.1:8001
    credentials:
      bearerToken: inline
      bearerTokenFile: absent-token
`,
  );

  const error = configErrorOf(() => loadConfigFile(file, env()));

  assert.deepEqual(error.issues, [
    { path: 'upstreams[0].credentials', reason: 'give bearerToken or bearerTokenFile, not both' },
    {
      path: 'upstreams[0].credentials.bearerTokenFile',
      reason: `cannot read ${path.join(dir, 'absent-token')} (ENOENT)`,
    },
  ]);
});

test('reads TLS files relative to the config file for a grpcs upstream', (t) => {
  const dir = tempDir(t);
  writeFile(dir, 'ca.pem', 'CA BYTES');
  writeFile(dir, 'client.pem', 'CERT BYTES');
  writeFile(dir, 'client.key', 'KEY BYTES');
  const file = writeFile(
    dir,
    'infergate.yaml',
    `upstreams:
  - name: models
    address: grpcs://models.internal:8443
    tls:
      caFile: ca.pem
      certFile: client.pem
      keyFile: ${path.join(dir, 'client.key')}
      serverName: models.example
`,
  );

  const tls = loadConfigFile(file, env()).upstreams[0]!.tls;

  assert.deepEqual(tls, {
    ca: Buffer.from('CA BYTES'),
    cert: Buffer.from('CERT BYTES'),
    key: Buffer.from('KEY BYTES'),
    serverName: 'models.example',
    files: {
      caFile: path.join(dir, 'ca.pem'),
      certFile: path.join(dir, 'client.pem'),
      keyFile: path.join(dir, 'client.key'),
    },
  });
});

test('gives a grpcs upstream without tls settings empty TLS material', () => {
  const config = buildConfig(oneUpstream('grpcs://models.internal:8443'), env());

  assert.deepEqual(config.upstreams[0]!.tls, {
    ca: undefined,
    cert: undefined,
    key: undefined,
    serverName: undefined,
    files: { caFile: undefined, certFile: undefined, keyFile: undefined },
  });
});

test('routes everything to a single upstream when no routes are given', () => {
  const config = buildConfig(oneUpstream(), env());

  assert.deepEqual(config.routes, [
    {
      name: 'default',
      models: [],
      default: true,
      upstream: 'models',
      protocol: 'grpc',
      masking: 'both',
    },
  ]);
});

test('keeps the routes as written when a single upstream has routes', () => {
  const document = {
    ...oneUpstream(),
    routes: [{ name: 'llama', models: ['llama-*'], upstream: 'models' }],
  };

  const config = buildConfig(document, env());

  assert.deepEqual(config.routes, [
    {
      name: 'llama',
      models: ['llama-*'],
      default: false,
      upstream: 'models',
      protocol: 'grpc',
      masking: 'both',
    },
  ]);
});

test('requires routes when there are several grpc upstreams', () => {
  const document = {
    upstreams: [
      { name: 'a', address: 'grpc://127.0.0.1:8001' },
      { name: 'b', address: 'grpc://127.0.0.1:8002' },
    ],
  };

  const error = configErrorOf(() => buildConfig(document, env()));

  assert.deepEqual(error.issues, [
    { path: 'routes', reason: 'several grpc upstreams need routes' },
  ]);
});

test('requires at least one upstream', () => {
  const error = configErrorOf(() => buildConfig({ upstreams: [] }, env()));

  assert.deepEqual(error.issues, [
    { path: 'upstreams', reason: 'at least one upstream is required' },
  ]);
});

test('deep-freezes the result so assignments throw', () => {
  const document = {
    upstreams: [
      { name: 'models', address: 'grpc://127.0.0.1:8001', credentials: { bearerToken: 't' } },
    ],
  };

  const config = buildConfig(document, env());

  const writable = config as unknown as {
    listeners: { grpc: { port: number } };
    upstreams: { credentialHeaders: Record<string, string> }[];
    routes: { models: string[] }[];
    log: { level: string };
  };
  assert.throws(() => {
    writable.listeners.grpc.port = 1;
  }, TypeError);
  assert.throws(() => {
    writable.upstreams[0]!.credentialHeaders.authorization = 'Bearer stolen';
  }, TypeError);
  assert.throws(() => writable.routes[0]!.models.push('*'), TypeError);
  assert.throws(() => {
    writable.log.level = 'trace';
  }, TypeError);
  assert.equal(config.listeners.grpc.port, 9001);
  assert.equal(config.upstreams[0]!.credentialHeaders.authorization, 'Bearer t');
});

test('does not change the document it was given', () => {
  const document = { upstreams: [{ name: 'models', address: 'grpc://${env:HOST}:8001' }] };

  buildConfig(document, env({ HOST: 'models.internal' }), { grpcPort: 0 });

  assert.deepEqual(document, {
    upstreams: [{ name: 'models', address: 'grpc://${env:HOST}:8001' }],
  });
  assert.equal(Object.isFrozen(document), false);
});

test('applies grpcPort, httpPort, adminPort and logLevel overrides over the file', () => {
  const document = {
    ...oneUpstream(),
    listeners: {
      grpc: { port: 7001 },
      http: { port: 7003, maxHeaderCount: 50 },
      admin: { port: 7002 },
    },
    log: { level: 'error' },
  };
  const overrides = { grpcPort: 0, httpPort: 7200, adminPort: 7100, logLevel: 'debug' };

  const config = buildConfig(document, env(), overrides);

  assert.equal(config.listeners.grpc.port, 0);
  assert.equal(config.listeners.http.port, 7200);
  assert.equal(config.listeners.http.maxHeaderCount, 50);
  assert.equal(config.listeners.admin.port, 7100);
  assert.equal(config.log.level, 'debug');
});

test('creates the http listener section for an httpPort override the file lacks', () => {
  const config = buildConfig(oneUpstream(), env(), { httpPort: 0 });

  assert.equal(config.listeners.http.port, 0);
  assert.equal(config.listeners.http.host, '0.0.0.0');
  assert.equal(config.listeners.http.maxBodyBytes, 16 * 1024 * 1024);
});

test('takes the log level from INFERGATE_LOG_LEVEL over the file', () => {
  const document = { ...oneUpstream(), log: { level: 'error' } };

  const config = buildConfig(document, env({ INFERGATE_LOG_LEVEL: 'warn' }));

  assert.equal(config.log.level, 'warn');
});

test('prefers the logLevel override to INFERGATE_LOG_LEVEL', () => {
  const config = buildConfig(oneUpstream(), env({ INFERGATE_LOG_LEVEL: 'warn' }), {
    logLevel: 'trace',
  });

  assert.equal(config.log.level, 'trace');
});

test('reports an unknown INFERGATE_LOG_LEVEL as a problem of log.level', () => {
  const error = configErrorOf(() =>
    buildConfig(oneUpstream(), env({ INFERGATE_LOG_LEVEL: 'loud' })),
  );

  assert.deepEqual(error.issues, [
    {
      path: 'log.level',
      reason:
        'Invalid option: expected one of "fatal"|"error"|"warn"|"info"|"debug"|"trace"|"silent"',
    },
  ]);
});

test('reports a YAML syntax error as unreadable with the file, line and column', (t) => {
  const dir = tempDir(t);
  const file = writeFile(dir, 'infergate.yaml', 'upstreams: []\nupstreams: []\n');

  const error = proxyErrorOf(() => loadConfigFile(file, env()));

  assert.equal(error.code, 'ERR_CONFIG_UNREADABLE');
  assert.equal(error.message, `${file}:2:1 is not valid YAML (DUPLICATE_KEY)`);
});

test('reports broken YAML indentation as unreadable with the file path', (t) => {
  const dir = tempDir(t);
  const file = writeFile(dir, 'infergate.yaml', 'upstreams:\n  - name: a\n   address: x\n');

  const error = proxyErrorOf(() => loadConfigFile(file, env()));

  assert.equal(error.code, 'ERR_CONFIG_UNREADABLE');
  assert.match(error.message, /is not valid YAML \(MISSING_CHAR\)$/);
  assert.ok(error.message.startsWith(`${file}:`), error.message);
});

test('reports a missing config file as unreadable with its path', (t) => {
  const file = path.join(tempDir(t), 'absent.yaml');

  const error = proxyErrorOf(() => loadConfigFile(file, env()));

  assert.equal(error.code, 'ERR_CONFIG_UNREADABLE');
  assert.equal(error.message, `cannot read ${file} (ENOENT)`);
});

test('treats an empty config file as a document without upstreams', (t) => {
  const file = writeFile(tempDir(t), 'infergate.yaml', '');

  const error = configErrorOf(() => loadConfigFile(file, env()));

  assert.deepEqual(error.issues, [
    { path: 'upstreams', reason: 'Invalid input: expected array, received undefined' },
  ]);
});

test('accepts an IPv6 upstream address in brackets', () => {
  const upstream = buildConfig(oneUpstream('grpc://[::1]:8001'), env()).upstreams[0]!;

  assert.equal(upstream.host, '::1');
  assert.equal(upstream.port, 8001);
  assert.equal(upstream.authority, '[::1]:8001');
  assert.equal(upstream.scheme, 'grpc');
});

test('rejects addresses that are not exactly scheme://host:port', () => {
  const document = {
    upstreams: [
      { name: 'a', address: 'grpc://127.0.0.1' },
      { name: 'b', address: 'grpc://127.0.0.1:8001/v2' },
      { name: 'c', address: 'not a url' },
      { name: 'd', address: 'http://127.0.0.1:8000/v1' },
      { name: 'e', address: 'https://models.internal' },
    ],
    routes: [{ name: 'all', default: true, upstream: 'a' }],
  };

  const error = configErrorOf(() => buildConfig(document, env()));

  assert.deepEqual(error.issues, [
    { path: 'upstreams[0].address', reason: '"grpc://127.0.0.1" must be exactly grpc://host:port' },
    {
      path: 'upstreams[1].address',
      reason: '"grpc://127.0.0.1:8001/v2" must be exactly grpc://host:port',
    },
    { path: 'upstreams[2].address', reason: '"not a url" is not a URL like grpc://host:port' },
    {
      path: 'upstreams[3].address',
      reason: '"http://127.0.0.1:8000/v1" must be exactly http://host:port',
    },
    {
      path: 'upstreams[4].address',
      reason: '"https://models.internal" must be exactly https://host:port',
    },
  ]);
});
