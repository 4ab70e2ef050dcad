// Inspection: every fact `certs inspect` prints, read from real certificates.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createCertificateAuthority } from '../../../src/identity/pki/certificate-authority';
import { inspectCertificate } from '../../../src/identity/pki/certificate-inspection';
import { issueLeafCertificate } from '../../../src/identity/pki/leaf-certificate';
import { certificateThumbprint } from '../../../src/identity/peer-certificate';

const NOW = new Date('2030-01-15T12:00:00.000Z');

test('reports subject, issuer, serial, names, usages, validity and thumbprint', () => {
  const ca = createCertificateAuthority({ commonName: 'ml CA', now: NOW });
  const issued = issueLeafCertificate(ca, {
    kind: 'client',
    commonName: 'batch',
    altNames: {
      dnsNames: ['batch.ml.example.org'],
      ipAddresses: ['10.1.2.3', 'fd00::17'],
      uris: ['spiffe://example.org/ns/ml/sa/batch'],
      emails: ['ml@example.org'],
    },
    days: 30,
    now: NOW,
  });

  const report = inspectCertificate(issued.certificate, new Date('2030-01-20T00:00:00.000Z'));

  assert.deepEqual(report, {
    subject: 'CN=batch',
    issuer: 'CN=ml CA',
    serialNumber: issued.certificate.x509.serialNumber.toUpperCase(),
    dnsNames: ['batch.ml.example.org'],
    ipAddresses: ['10.1.2.3', 'fd00::17'],
    uris: ['spiffe://example.org/ns/ml/sa/batch'],
    emails: ['ml@example.org'],
    keyUsages: ['digitalSignature', 'keyEncipherment'],
    extendedKeyUsages: ['clientAuth'],
    isCa: false,
    publicKey: 'rsa 2048',
    validFrom: new Date('2030-01-15T11:55:00.000Z'),
    validTo: new Date('2030-02-14T12:00:00.000Z'),
    daysLeft: 25,
    status: 'valid',
    thumbprint: certificateThumbprint(issued.certificate.x509.raw),
  });
  assert.match(report.thumbprint, /^[A-Za-z0-9_-]{43}$/);
});

test('counts days left down to negative and tells expired from not yet valid', () => {
  const ca = createCertificateAuthority({ now: NOW });
  const issued = issueLeafCertificate(ca, { kind: 'client', commonName: 'a', days: 10, now: NOW });
  const at = (iso: string) => inspectCertificate(issued.certificate, new Date(iso));

  assert.deepEqual(
    [at('2030-01-15T11:00:00Z'), at('2030-01-25T11:00:00Z'), at('2030-01-27T12:00:00Z')].map(
      (report) => [report.daysLeft, report.status],
    ),
    [
      [10, 'not yet valid'],
      [0, 'valid'],
      [-2, 'expired'],
    ],
  );
});

test('reports a CA as one, with its signing usages', () => {
  const ca = createCertificateAuthority();

  const report = inspectCertificate(ca.certificate);

  assert.equal(report.isCa, true);
  assert.deepEqual(report.keyUsages, ['keyCertSign', 'cRLSign']);
  assert.deepEqual(report.extendedKeyUsages, []);
  assert.equal(report.subject, report.issuer);
});
