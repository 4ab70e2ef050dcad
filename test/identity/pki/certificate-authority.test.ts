// The CA: what a new one certifies, and which files are refused when one is loaded.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import forge from 'node-forge';
import {
  createCertificateAuthority,
  loadCertificateAuthority,
  loadCertificateAuthorityFromDir,
  writeCertificateAuthority,
} from '../../../src/identity/pki/certificate-authority';
import { issueLeafCertificate } from '../../../src/identity/pki/leaf-certificate';
import { certificateKeyUsages } from '../../../src/identity/pki/x509-asn1';
import { writeOperatorCa } from '../../fixtures/operator-ca';
import { fileMode, pkiTempDir } from '../../fixtures/pki-temp-dir';
import { assertProxyError } from '../../fixtures/proxy-errors';

const NOW = new Date('2030-01-15T12:00:00.000Z');

test('creates a self-signed CA that may sign certificates and CRLs', () => {
  const ca = createCertificateAuthority({ commonName: 'ml platform CA', now: NOW, days: 365 });
  const { x509 } = ca.certificate;
  const forged = forge.pki.certificateFromPem(ca.certificate.pem);

  assert.equal(x509.ca, true);
  assert.equal(x509.subject, 'CN=ml platform CA');
  assert.equal(x509.issuer, x509.subject);
  assert.equal(x509.checkIssued(x509), true);
  assert.equal(x509.verify(x509.publicKey), true);
  assert.deepEqual(certificateKeyUsages(x509.raw), ['keyCertSign', 'cRLSign']);
  assert.equal((forged.getExtension('basicConstraints') as { critical: boolean }).critical, true);
  assert.equal((forged.getExtension('keyUsage') as { critical: boolean }).critical, true);
  const ski = forged.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier: string };
  assert.equal(forge.util.bytesToHex(ca.keyIdentifier), ski.subjectKeyIdentifier);
  assert.equal(new Date(x509.validTo).toISOString(), '2031-01-15T12:00:00.000Z');
  assert.equal(new Date(x509.validFrom).toISOString(), '2030-01-15T11:55:00.000Z');
  assert.equal(x509.checkPrivateKey(ca.key.keyObject), true);
});

test('names a new CA "infergate development CA" and gives it ten years by default', () => {
  const ca = createCertificateAuthority({ now: NOW });

  assert.equal(ca.certificate.x509.subject, 'CN=infergate development CA');
  assert.equal(new Date(ca.certificate.x509.validTo).toISOString(), '2040-01-13T12:00:00.000Z');
});

test('writes a CA with its key owner-only and loads the same CA back', (t) => {
  const dir = pkiTempDir(t);
  const ca = createCertificateAuthority();

  const written = writeCertificateAuthority(ca, dir);
  const loaded = loadCertificateAuthorityFromDir(dir);

  assert.deepEqual(written, [path.join(dir, 'ca-key.pem'), path.join(dir, 'ca.pem')]);
  assert.equal(fileMode(path.join(dir, 'ca-key.pem')), 0o600);
  assert.equal(fileMode(path.join(dir, 'ca.pem')), 0o644);
  assert.equal(loaded.certificate.pem, ca.certificate.pem);
  assert.equal(loaded.keyIdentifier, ca.keyIdentifier);
  assert.equal(loaded.certFile, path.join(dir, 'ca.pem'));
  assert.equal(loaded.certificate.x509.checkPrivateKey(loaded.key.keyObject), true);
});

test("loads an operator's CA with a PKCS#1 key and no subjectKeyIdentifier", (t) => {
  const operator = writeOperatorCa(pkiTempDir(t), {
    subject: [{ name: 'organizationName', value: 'Example Corp' }],
    extensions: [{ name: 'basicConstraints', cA: true }],
    certName: 'corp-ca.pem',
    keyName: 'corp-ca.key',
  });

  const ca = loadCertificateAuthority(operator.certFile, operator.keyFile);
  const leaf = issueLeafCertificate(ca, { kind: 'client', commonName: 'batch' });

  assert.equal(ca.keyIdentifier, operator.certificate.generateSubjectKeyIdentifier().getBytes());
  assert.equal(leaf.certificate.x509.verify(ca.certificate.x509.publicKey), true);
  assert.equal(leaf.certificate.x509.issuer, 'O=Example Corp');
});

test('refuses a certificate that is not a CA', (t) => {
  const dir = pkiTempDir(t);
  const ca = createCertificateAuthority();
  const leaf = issueLeafCertificate(ca, { kind: 'client', commonName: 'batch' });
  fs.writeFileSync(path.join(dir, 'ca.pem'), leaf.certificate.pem);
  fs.writeFileSync(path.join(dir, 'ca-key.pem'), leaf.key.pem);

  assertProxyError(
    () => loadCertificateAuthorityFromDir(dir),
    'ERR_PKI_MATERIAL_INVALID',
    /ca\.pem is not a CA certificate \(basicConstraints cA is not set\)$/,
  );
});

test("refuses a key that is not the CA certificate's", (t) => {
  const dir = pkiTempDir(t);
  writeCertificateAuthority(createCertificateAuthority(), dir);
  fs.writeFileSync(path.join(dir, 'ca-key.pem'), createCertificateAuthority().key.pem);

  assertProxyError(
    () => loadCertificateAuthorityFromDir(dir),
    'ERR_PKI_MATERIAL_INVALID',
    /ca-key\.pem is not the private key of .*ca\.pem$/,
  );
});

test('refuses a CA key that is not RSA, and says which kind it is', (t) => {
  const dir = pkiTempDir(t);
  writeCertificateAuthority(createCertificateAuthority(), dir);
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  fs.writeFileSync(
    path.join(dir, 'ca-key.pem'),
    privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  );

  assertProxyError(
    () => loadCertificateAuthorityFromDir(dir),
    'ERR_PKI_MATERIAL_INVALID',
    /ca-key\.pem holds a ec key, not an RSA key$/,
  );
});

/** `text` as a regular expression that matches exactly it. */
function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

test('refuses files that hold no PEM, without quoting them', (t) => {
  const dir = pkiTempDir(t);
  writeCertificateAuthority(createCertificateAuthority(), dir);
  fs.writeFileSync(path.join(dir, 'ca-key.pem'), 'not a key SECRET-BYTES');

  assertProxyError(
    () => loadCertificateAuthorityFromDir(dir),
    'ERR_PKI_MATERIAL_INVALID',
    new RegExp(
      `^${escapeRegExp(path.join(dir, 'ca-key.pem'))} is not an unencrypted PEM private key$`,
    ),
  );
  fs.writeFileSync(path.join(dir, 'ca.pem'), 'garbage');
  assertProxyError(
    () => loadCertificateAuthorityFromDir(dir),
    'ERR_PKI_MATERIAL_INVALID',
    /ca\.pem holds no PEM certificate$/,
  );
});

test('names the missing file when a folder has no CA', (t) => {
  const dir = pkiTempDir(t);

  assertProxyError(
    () => loadCertificateAuthorityFromDir(dir),
    'ERR_PKI_MATERIAL_INVALID',
    new RegExp(`^cannot read ${path.join(dir, 'ca.pem')} \\(ENOENT\\)$`),
  );
});
