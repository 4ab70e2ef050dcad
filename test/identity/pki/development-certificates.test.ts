// The development set: what init writes, what it leaves alone, and what rotation replaces.

import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  createCertificateAuthority,
  writeCertificateAuthority,
} from '../../../src/identity/pki/certificate-authority';
import {
  ensureDevelopmentCertificates,
  rotateDevelopmentCertificates,
  type DevelopmentCertificatePaths,
} from '../../../src/identity/pki/development-certificates';
import {
  issueLeafCertificate,
  writeIssuedCertificate,
} from '../../../src/identity/pki/leaf-certificate';
import { readCrl } from '../../fixtures/crl-reader';
import { probeClientCertificate } from '../../fixtures/mtls-probe';
import { fileMode, pkiTempDir } from '../../fixtures/pki-temp-dir';
import { assertProxyError } from '../../fixtures/proxy-errors';

const FILES = [
  'ca.pem',
  'ca-key.pem',
  'server.pem',
  'server-key.pem',
  'client.pem',
  'client-key.pem',
  'ca.crl',
  'token-issuer-key.pem',
];

function certificate(file: string): X509Certificate {
  return new X509Certificate(fs.readFileSync(file));
}

function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    fs.readdirSync(dir).map((name) => [name, fs.readFileSync(path.join(dir, name), 'utf8')]),
  );
}

function pem(paths: DevelopmentCertificatePaths, key: keyof DevelopmentCertificatePaths) {
  return fs.readFileSync(paths[key], 'utf8');
}

test('writes the whole set into a new folder and says so', (t) => {
  const dir = path.join(pkiTempDir(t), 'certs');

  const result = ensureDevelopmentCertificates(dir);

  assert.equal(result.created, true);
  assert.deepEqual(
    [...result.written].sort(),
    [...FILES, 'ca-revocations.json'].map((name) => path.join(dir, name)).sort(),
  );
  assert.deepEqual(
    Object.values(result.paths).sort(),
    FILES.map((name) => path.join(dir, name)).sort(),
  );
  assert.deepEqual(fs.readdirSync(dir).sort(), [...FILES, 'ca-revocations.json'].sort());
});

test('writes private keys owner-only and public material readable', (t) => {
  const { paths } = ensureDevelopmentCertificates(pkiTempDir(t));

  for (const key of [paths.caKey, paths.serverKey, paths.clientKey, paths.tokenIssuerKey]) {
    assert.equal(fileMode(key), 0o600, key);
  }
  for (const file of [paths.caCert, paths.serverCert, paths.clientCert, paths.crl]) {
    assert.equal(fileMode(file), 0o644, file);
  }
});

test('issues a server for localhost, 127.0.0.1 and ::1 and a SPIFFE client, from the CA', (t) => {
  const { paths } = ensureDevelopmentCertificates(pkiTempDir(t));
  const ca = certificate(paths.caCert);
  const server = certificate(paths.serverCert);
  const client = certificate(paths.clientCert);

  assert.equal(ca.ca, true);
  for (const leaf of [server, client]) {
    assert.equal(leaf.verify(ca.publicKey), true);
    assert.equal(leaf.checkIssued(ca), true);
  }
  assert.equal(server.checkHost('localhost'), 'localhost');
  assert.equal(server.checkIP('127.0.0.1'), '127.0.0.1');
  assert.equal(server.checkIP('::1'), '::1');
  assert.deepEqual(server.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  assert.equal(client.subject, 'CN=demo-client');
  assert.equal(client.subjectAltName, 'URI:spiffe://infergate.local/demo-client');
  assert.deepEqual(client.keyUsage, ['1.3.6.1.5.5.7.3.2']);
  assert.equal(server.checkPrivateKey(createPrivateKey(pem(paths, 'serverKey'))), true);
  assert.equal(client.checkPrivateKey(createPrivateKey(pem(paths, 'clientKey'))), true);
});

test('writes an empty CRL and an Ed25519 PKCS#8 token-signing key', (t) => {
  const { paths } = ensureDevelopmentCertificates(pkiTempDir(t));

  const crl = readCrl(pem(paths, 'crl'));
  const tokenKey = pem(paths, 'tokenIssuerKey');

  assert.equal(crl.crlNumber, 1);
  assert.deepEqual(crl.revoked, []);
  assert.match(tokenKey, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.equal(createPrivateKey(tokenKey).asymmetricKeyType, 'ed25519');
});

test('makes a set that a TLS server with the CRL accepts end to end', async (t) => {
  const { paths } = ensureDevelopmentCertificates(pkiTempDir(t));

  const verdict = await probeClientCertificate(t, {
    ca: pem(paths, 'caCert'),
    crl: pem(paths, 'crl'),
    server: { cert: pem(paths, 'serverCert'), key: pem(paths, 'serverKey') },
    client: { cert: pem(paths, 'clientCert'), key: pem(paths, 'clientKey') },
  });

  assert.deepEqual(verdict, { authorized: true, error: null });
});

test('leaves an existing set alone and reports that it wrote nothing', (t) => {
  const dir = pkiTempDir(t);
  ensureDevelopmentCertificates(dir);
  const before = snapshot(dir);

  const again = ensureDevelopmentCertificates(dir);

  assert.equal(again.created, false);
  assert.deepEqual(again.written, []);
  assert.deepEqual(snapshot(dir), before);
});

test('adds only the missing parts, from the CA already there', (t) => {
  const dir = pkiTempDir(t);
  const { paths } = ensureDevelopmentCertificates(dir);
  const before = snapshot(dir);
  fs.rmSync(paths.clientCert);
  fs.rmSync(paths.clientKey);
  fs.rmSync(paths.tokenIssuerKey);

  const result = ensureDevelopmentCertificates(dir);

  assert.deepEqual(result.written, [paths.clientKey, paths.clientCert, paths.tokenIssuerKey]);
  const after = snapshot(dir);
  for (const name of ['ca.pem', 'ca-key.pem', 'server.pem', 'server-key.pem', 'ca.crl']) {
    assert.equal(after[name], before[name], name);
  }
  assert.equal(certificate(paths.clientCert).verify(certificate(paths.caCert).publicKey), true);
});

test('refuses half of a pair rather than guess which half is wrong', (t) => {
  const dir = pkiTempDir(t);
  const { paths } = ensureDevelopmentCertificates(dir);
  fs.rmSync(paths.serverKey);

  assertProxyError(
    () => ensureDevelopmentCertificates(dir),
    'ERR_PKI_MATERIAL_INVALID',
    new RegExp(`server\\.pem exists without ${paths.serverKey}; restore it or remove both$`),
  );
  fs.rmSync(paths.caCert);
  assertProxyError(
    () => ensureDevelopmentCertificates(dir),
    'ERR_PKI_MATERIAL_INVALID',
    /ca-key\.pem exists without .*ca\.pem; restore it or remove both$/,
  );
});

test("refuses a server certificate that the folder's CA did not issue", (t) => {
  const dir = pkiTempDir(t);
  const other = createCertificateAuthority({ commonName: 'other CA' });
  writeCertificateAuthority(createCertificateAuthority(), dir);
  const foreign = issueLeafCertificate(other, {
    kind: 'server',
    commonName: 'localhost',
    altNames: { dnsNames: ['localhost'] },
  });
  writeIssuedCertificate(foreign, path.join(dir, 'server.pem'), path.join(dir, 'server-key.pem'));

  assertProxyError(
    () => ensureDevelopmentCertificates(dir),
    'ERR_PKI_MATERIAL_INVALID',
    /server\.pem was not issued by .*ca\.pem$/,
  );
});

test('rotates server and client to new keys and serials from the same CA', (t) => {
  const dir = pkiTempDir(t);
  const { paths } = ensureDevelopmentCertificates(dir);
  const before = snapshot(dir);
  const oldServer = certificate(paths.serverCert);
  const oldClient = certificate(paths.clientCert);

  const result = rotateDevelopmentCertificates(dir);

  const server = certificate(paths.serverCert);
  const client = certificate(paths.clientCert);
  const ca = certificate(paths.caCert);
  assert.equal(result.created, true);
  for (const [now, old] of [
    [server, oldServer],
    [client, oldClient],
  ] as const) {
    assert.notEqual(now.serialNumber, old.serialNumber);
    assert.equal(now.publicKey.equals(old.publicKey), false);
    assert.equal(now.subject, old.subject);
    assert.equal(now.subjectAltName, old.subjectAltName);
    assert.equal(now.verify(ca.publicKey), true);
  }
  assert.equal(server.checkPrivateKey(createPrivateKey(pem(paths, 'serverKey'))), true);
  assert.equal(client.checkPrivateKey(createPrivateKey(pem(paths, 'clientKey'))), true);
  const after = snapshot(dir);
  for (const name of ['ca.pem', 'ca-key.pem', 'token-issuer-key.pem']) {
    assert.equal(after[name], before[name], name);
  }
  assert.equal(readCrl(pem(paths, 'crl')).crlNumber, 2);
  assert.equal(fileMode(paths.serverKey), 0o600);
  assert.deepEqual(fs.readdirSync(dir).sort(), [...FILES, 'ca-revocations.json'].sort());
});

test('refuses to rotate a folder without a CA', (t) => {
  const dir = pkiTempDir(t);

  assertProxyError(
    () => rotateDevelopmentCertificates(dir),
    'ERR_PKI_MATERIAL_INVALID',
    /^cannot read .*ca\.pem \(ENOENT\)$/,
  );
});
