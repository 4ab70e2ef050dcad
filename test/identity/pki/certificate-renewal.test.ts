// Renewal: the same holder, names and usages under a new serial, validity and (usually) key.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createCertificateAuthority } from '../../../src/identity/pki/certificate-authority';
import { renewCertificate } from '../../../src/identity/pki/certificate-renewal';
import { issueLeafCertificate } from '../../../src/identity/pki/leaf-certificate';
import { assertProxyError } from '../../fixtures/proxy-errors';

const NOW = new Date('2030-01-15T12:00:00.000Z');
const LATER = new Date('2030-03-01T08:00:00.000Z');

function serverAt(ca: ReturnType<typeof createCertificateAuthority>, days = 30) {
  return issueLeafCertificate(ca, {
    kind: 'server',
    commonName: 'models.example.org',
    altNames: { dnsNames: ['models.example.org'], ipAddresses: ['10.0.0.7', '::1'] },
    days,
    now: NOW,
  });
}

test('keeps subject, names and usages and gives a new serial, validity and key', () => {
  const ca = createCertificateAuthority({ now: NOW });
  const old = serverAt(ca);

  const renewed = renewCertificate(ca, old.certificate, 'server.pem', { now: LATER });
  const before = old.certificate.x509;
  const after = renewed.certificate.x509;

  assert.equal(after.subject, before.subject);
  assert.equal(after.subjectAltName, before.subjectAltName);
  assert.deepEqual(after.keyUsage, before.keyUsage);
  assert.notEqual(after.serialNumber, before.serialNumber);
  assert.notEqual(renewed.thumbprint, old.thumbprint);
  assert.equal(after.publicKey.equals(before.publicKey), false);
  assert.equal(after.checkPrivateKey(renewed.key.keyObject), true);
  assert.equal(after.verify(ca.certificate.x509.publicKey), true);
  assert.equal(new Date(after.validFrom).toISOString(), '2030-03-01T07:55:00.000Z');
});

test('lives as long as the old certificate unless told otherwise', () => {
  const ca = createCertificateAuthority({ now: NOW });
  const old = serverAt(ca, 45);

  const same = renewCertificate(ca, old.certificate, 'server.pem', { now: LATER });
  const shorter = renewCertificate(ca, old.certificate, 'server.pem', { now: LATER, days: 10 });

  assert.equal(new Date(same.certificate.x509.validTo).toISOString(), '2030-04-15T08:00:00.000Z');
  assert.equal(
    new Date(shorter.certificate.x509.validTo).toISOString(),
    '2030-03-11T08:00:00.000Z',
  );
});

test('certifies the old key again when asked to keep it', () => {
  const ca = createCertificateAuthority();
  const old = issueLeafCertificate(ca, {
    kind: 'client',
    commonName: 'batch',
    altNames: { uris: ['spiffe://example.org/ns/ml/sa/batch'], emails: ['ml@example.org'] },
  });

  const renewed = renewCertificate(ca, old.certificate, 'batch.pem', { key: old.key });

  assert.equal(renewed.certificate.x509.publicKey.equals(old.certificate.x509.publicKey), true);
  assert.equal(renewed.key, old.key);
  assert.equal(renewed.certificate.x509.subjectAltName, old.certificate.x509.subjectAltName);
  assert.notEqual(renewed.certificate.x509.serialNumber, old.certificate.x509.serialNumber);
});

test('refuses a certificate another CA issued, naming the file', () => {
  const ca = createCertificateAuthority();
  const other = createCertificateAuthority({ commonName: 'other CA' });
  const foreign = issueLeafCertificate(other, { kind: 'client', commonName: 'batch' });

  assertProxyError(
    () => renewCertificate(ca, foreign.certificate, 'certs/batch.pem'),
    'ERR_PKI_MATERIAL_INVALID',
    /^certs\/batch\.pem was not issued by this CA$/,
  );
});

test("refuses to keep a key that is not the certificate's", () => {
  const ca = createCertificateAuthority();
  const old = issueLeafCertificate(ca, { kind: 'client', commonName: 'batch' });
  const stranger = issueLeafCertificate(ca, { kind: 'client', commonName: 'other' });

  assertProxyError(
    () => renewCertificate(ca, old.certificate, 'batch.pem', { key: stranger.key }),
    'ERR_PKI_MATERIAL_INVALID',
    /^the key given to renew batch\.pem is not its private key$/,
  );
});
