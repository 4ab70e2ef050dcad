// The identity sections of the configuration: tls, auth and roles, their defaults and the rules
// that span them.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { buildConfig } from '../../src/config/load-config';
import { configErrorOf, env } from './config-fixtures';

/** A folder with stand-ins for the files the sections name (their contents are not parsed). */
function filesDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'infergate-identity-config-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const name of ['server.pem', 'server-key.pem', 'ca.pem', 'ca.crl', 'issuer-key.pem']) {
    fs.writeFileSync(path.join(dir, name), 'stand-in');
  }
  fs.writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify({ keys: [{ kty: 'OKP' }] }));
  fs.writeFileSync(path.join(dir, 'not-jwks.json'), '{"keys": 3}');
  return dir;
}

const TLS = {
  certFile: 'server.pem',
  keyFile: 'server-key.pem',
  clientCaFiles: ['ca.pem'],
  crlFiles: ['ca.crl'],
};

function build(dir: string, sections: Record<string, unknown>) {
  const document = { upstreams: [{ name: 'm', address: 'grpc://127.0.0.1:8001' }], ...sections };
  return buildConfig(document, env(), {}, { source: 'test.yaml', baseDir: dir });
}

test('resolves tls paths against the file folder and applies every default', (t) => {
  const dir = filesDir(t);

  const config = build(dir, { tls: TLS, auth: { issuer: { keyFile: 'issuer-key.pem' } } });

  assert.deepEqual(config.tls, {
    certFile: path.join(dir, 'server.pem'),
    keyFile: path.join(dir, 'server-key.pem'),
    clientCaFiles: [path.join(dir, 'ca.pem')],
    crlFiles: [path.join(dir, 'ca.crl')],
    minVersion: 'TLSv1.2',
    watch: true,
    expiryWarningDays: 30,
  });
  assert.deepEqual(config.auth, {
    audience: 'infergate',
    algorithms: ['EdDSA', 'ES256', 'RS256'],
    leewaySeconds: 30,
    rolesClaim: 'roles',
    issuer: { issuer: 'infergate', privateKeyPem: 'stand-in', ttlSeconds: 600 },
    trustedIssuers: [],
    certificateRoles: [],
    tokenExchange: undefined,
  });
  assert.deepEqual(config.roles, {});
});

test('reads a trusted issuer key set from its file and maps certificate roles', (t) => {
  const dir = filesDir(t);
  const auth = {
    trustedIssuers: [{ issuer: 'https://idp.example', jwksFile: 'jwks.json' }],
    certificateRoles: [{ uri: 'spiffe://example/*', roles: ['reader'] }],
  };
  const roles = { reader: { models: ['*'], operations: ['metadata'] } };

  const config = build(dir, { tls: TLS, auth, roles });

  assert.deepEqual(config.auth?.trustedIssuers, [
    { issuer: 'https://idp.example', jwks: { keys: [{ kty: 'OKP' }] }, jwksUrl: undefined },
  ]);
  assert.deepEqual(config.auth?.certificateRoles, [
    { attribute: 'uri', pattern: 'spiffe://example/*', roles: ['reader'] },
  ]);
  assert.deepEqual(config.roles.reader, {
    models: ['*'],
    operations: ['metadata'],
    limits: {},
  });
});

test('reports every problem of the identity sections at once', (t) => {
  const dir = filesDir(t);
  const auth = {
    issuer: { issuer: 'https://idp.example', keyFile: 'missing-key.pem' },
    trustedIssuers: [
      { issuer: 'https://idp.example', jwksFile: 'jwks.json', jwksUrl: 'https://idp.example/k' },
      { issuer: 'https://other.example', jwksUrl: 'http://other.example/keys' },
      { issuer: 'https://third.example', jwksFile: 'not-jwks.json' },
    ],
    certificateRoles: [
      { uri: 'spiffe://a/*', email: 'a@example.com', roles: ['reader'] },
      { commonName: 'batch-*', roles: ['writer'] },
    ],
  };
  const roles = { reader: { models: [''.padEnd(300, 'x')], operations: ['metadata'] } };

  const error = configErrorOf(() => build(dir, { auth, roles }));

  assert.deepEqual(
    error.issues.map((issue) => `${issue.path}: ${issue.reason}`).sort(),
    [
      'auth: auth needs a tls section: tokens are bound to certificates',
      `auth.issuer.keyFile: cannot read ${path.join(dir, 'missing-key.pem')} (ENOENT)`,
      'auth.certificateRoles[0]: give exactly one of uri, email and commonName',
      'auth.certificateRoles[1].roles[0]: no role is named "writer"',
      'auth.trustedIssuers[0]: give exactly one of jwksFile and jwksUrl',
      'auth.trustedIssuers[0].issuer: issuer "https://idp.example" is named twice',
      'auth.trustedIssuers[1].jwksUrl: must be https:// (http:// only to loopback)',
      'auth.trustedIssuers[2].jwksFile: is not a JSON Web Key Set ({"keys": [...]})',
      'roles.reader.models[0]: must be 1-256 characters',
    ].sort(),
  );
});

test('refuses an unknown permission and an auth section without any issuer', (t) => {
  const dir = filesDir(t);
  const roles = { reader: { models: ['*'], operations: ['metadata', 'delete_everything'] } };

  const error = configErrorOf(() => build(dir, { tls: TLS, auth: {}, roles }));

  const paths = error.issues.map((issue) => issue.path);
  assert.ok(paths.includes('roles.reader.operations[1]'), paths.join());
  assert.ok(
    error.issues.some(
      (issue) =>
        issue.path === 'auth' && issue.reason === 'name an issuer or at least one trusted issuer',
    ),
  );
});

test('names each unreadable tls file', (t) => {
  const dir = filesDir(t);

  const error = configErrorOf(() => build(dir, { tls: { ...TLS, clientCaFiles: ['old-ca.pem'] } }));

  assert.deepEqual(error.issues, [
    {
      path: 'tls.clientCaFiles[0]',
      reason: `cannot read ${path.join(dir, 'old-ca.pem')} (ENOENT)`,
    },
  ]);
});
