// Leaf certificates: chains, names, usages, lifetimes and serials, as OpenSSL reads them.

import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import forge from 'node-forge';
import { createCertificateAuthority } from '../../../src/identity/pki/certificate-authority';
import {
  issueLeafCertificate,
  leafFiles,
  writeIssuedCertificate,
} from '../../../src/identity/pki/leaf-certificate';
import { generateRsaKeyPair } from '../../../src/identity/pki/rsa-key-pair';
import { certificateKeyUsages } from '../../../src/identity/pki/x509-asn1';
import { certificateThumbprint } from '../../../src/identity/peer-certificate';
import { probeClientCertificate } from '../../fixtures/mtls-probe';
import { fileMode, pkiTempDir } from '../../fixtures/pki-temp-dir';
import { assertProxyError } from '../../fixtures/proxy-errors';

const NOW = new Date('2030-01-15T12:00:00.000Z');
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

test('issues a server certificate that chains to the CA, for its DNS names and IPs', () => {
  const ca = createCertificateAuthority();
  const issued = issueLeafCertificate(ca, {
    kind: 'server',
    commonName: 'models.example.org',
    altNames: { dnsNames: ['models.example.org', 'localhost'], ipAddresses: ['10.0.0.7', '::1'] },
  });
  const { x509 } = issued.certificate;

  assert.equal(x509.verify(ca.certificate.x509.publicKey), true);
  assert.equal(x509.checkIssued(ca.certificate.x509), true);
  assert.equal(x509.ca, false);
  assert.equal(x509.subject, 'CN=models.example.org');
  assert.equal(x509.checkHost('localhost'), 'localhost');
  assert.equal(x509.checkHost('models.example.org'), 'models.example.org');
  assert.equal(x509.checkHost('other.example.org'), undefined);
  assert.equal(x509.checkIP('10.0.0.7'), '10.0.0.7');
  assert.equal(x509.checkIP('::1'), '::1');
  assert.deepEqual(x509.keyUsage, [SERVER_AUTH]);
  assert.deepEqual(certificateKeyUsages(x509.raw), ['digitalSignature', 'keyEncipherment']);
  assert.equal(x509.checkPrivateKey(issued.key.keyObject), true);
  assert.equal(issued.thumbprint, certificateThumbprint(x509.raw));
});

test('issues a client certificate with a SPIFFE ID and an e-mail address for clientAuth', () => {
  const ca = createCertificateAuthority();
  const issued = issueLeafCertificate(ca, {
    kind: 'client',
    commonName: 'batch',
    altNames: { uris: ['spiffe://example.org/ns/ml/sa/batch'], emails: ['ml@example.org'] },
  });
  const { x509 } = issued.certificate;

  assert.equal(x509.verify(ca.certificate.x509.publicKey), true);
  assert.equal(
    x509.subjectAltName,
    'URI:spiffe://example.org/ns/ml/sa/batch, email:ml@example.org',
  );
  assert.deepEqual(x509.keyUsage, [CLIENT_AUTH]);
  assert.equal(x509.checkEmail('ml@example.org'), 'ml@example.org');
});

test('names its CA by key identifier and marks itself as no CA, critically', () => {
  const ca = createCertificateAuthority();
  const issued = issueLeafCertificate(ca, { kind: 'client', commonName: 'batch' });
  const forged = forge.pki.certificateFromPem(issued.certificate.pem);
  const aki = forge.asn1.fromDer(
    (forged.getExtension('authorityKeyIdentifier') as { value: string }).value,
  );
  const constraints = forged.getExtension('basicConstraints') as { cA: boolean; critical: boolean };

  assert.equal((aki.value as forge.asn1.Asn1[])[0]!.value as string, ca.keyIdentifier);
  assert.equal(constraints.cA, false);
  assert.equal(constraints.critical, true);
  assert.equal(forged.getExtension('subjectAltName'), null);
});

test('lives the asked number of days from a notBefore five minutes in the past', () => {
  const ca = createCertificateAuthority({ now: NOW });

  const issued = issueLeafCertificate(ca, { kind: 'client', commonName: 'a', days: 7, now: NOW });
  const defaulted = issueLeafCertificate(ca, { kind: 'client', commonName: 'b', now: NOW });

  assert.equal(
    new Date(issued.certificate.x509.validFrom).toISOString(),
    '2030-01-15T11:55:00.000Z',
  );
  assert.equal(new Date(issued.certificate.x509.validTo).toISOString(), '2030-01-22T12:00:00.000Z');
  assert.equal(
    new Date(defaulted.certificate.x509.validTo).toISOString(),
    '2030-04-15T12:00:00.000Z',
  );
});

test('gives every certificate a different random, positive 16-byte serial number', () => {
  const ca = createCertificateAuthority();
  const key = generateRsaKeyPair();
  const serials = Array.from(
    { length: 8 },
    () =>
      issueLeafCertificate(ca, { kind: 'client', commonName: 'batch', key }).certificate.x509
        .serialNumber,
  );

  assert.equal(new Set(serials).size, serials.length);
  for (const serial of serials) {
    assert.match(serial, /^[4-7][0-9A-F]{31}$/);
  }
});

test('certifies a given key instead of making one', () => {
  const ca = createCertificateAuthority();
  const key = generateRsaKeyPair();

  const issued = issueLeafCertificate(ca, { kind: 'client', commonName: 'batch', key });

  assert.equal(issued.key, key);
  assert.equal(issued.certificate.x509.checkPrivateKey(key.keyObject), true);
});

test('makes expired and not-yet-valid client certificates that TLS refuses as such', async (t) => {
  const ca = createCertificateAuthority();
  const hour = 3_600_000;
  const server = issueLeafCertificate(ca, {
    kind: 'server',
    commonName: 'localhost',
    altNames: { dnsNames: ['localhost'] },
  });
  const expired = issueLeafCertificate(ca, {
    kind: 'client',
    commonName: 'late',
    notBefore: new Date(Date.now() - 48 * hour),
    notAfter: new Date(Date.now() - 24 * hour),
  });
  const early = issueLeafCertificate(ca, {
    kind: 'client',
    commonName: 'early',
    notBefore: new Date(Date.now() + 24 * hour),
  });
  const probe = (client: typeof expired) =>
    probeClientCertificate(t, {
      ca: ca.certificate.pem,
      server: { cert: server.certificate.pem, key: server.key.pem },
      client: { cert: client.certificate.pem, key: client.key.pem },
    });

  assert.deepEqual(await probe(expired), { authorized: false, error: 'CERT_HAS_EXPIRED' });
  assert.deepEqual(await probe(early), { authorized: false, error: 'CERT_NOT_YET_VALID' });
});

test('writes the key owner-only and then the certificate, as NAME-key.pem and NAME.pem', (t) => {
  const dir = pkiTempDir(t);
  const ca = createCertificateAuthority();
  const issued = issueLeafCertificate(ca, { kind: 'client', commonName: 'batch' });
  const files = leafFiles(path.join(dir, 'out'), 'batch');

  const written = writeIssuedCertificate(issued, files.certFile, files.keyFile);

  assert.deepEqual(written, [
    path.join(dir, 'out', 'batch-key.pem'),
    path.join(dir, 'out', 'batch.pem'),
  ]);
  assert.equal(fileMode(files.keyFile), 0o600);
  assert.equal(fileMode(files.certFile), 0o644);
});

test('refuses a server certificate without a DNS name or IP address', () => {
  const ca = createCertificateAuthority();

  assertProxyError(
    () =>
      issueLeafCertificate(ca, { kind: 'server', commonName: 'api', altNames: { uris: ['a:b'] } }),
    'ERR_PKI_MATERIAL_INVALID',
    /^server certificate "api" names no DNS name or IP address$/,
  );
});

test('refuses names, common names and lifetimes it cannot write', () => {
  const ca = createCertificateAuthority();
  const client = { kind: 'client', commonName: 'batch' } as const;

  assertProxyError(
    () => issueLeafCertificate(ca, { ...client, altNames: { ipAddresses: ['300.1.1.1'] } }),
    'ERR_PKI_MATERIAL_INVALID',
    /^IP address "300\.1\.1\.1" is not an IPv4 or IPv6 address$/,
  );
  assertProxyError(
    () => issueLeafCertificate(ca, { ...client, commonName: 'x'.repeat(65) }),
    'ERR_PKI_MATERIAL_INVALID',
    /^common name "x{65}" is not 1 to 64 characters long$/,
  );
  assertProxyError(
    () => issueLeafCertificate(ca, { ...client, days: 0 }),
    'ERR_PKI_MATERIAL_INVALID',
    /^lifetime 0 is not a whole number of days from 1 to 3650$/,
  );
  assertProxyError(
    () => issueLeafCertificate(ca, { ...client, notAfter: new Date('2000-01-01T00:00:00Z') }),
    'ERR_PKI_MATERIAL_INVALID',
    /^validity ends at 2000-01-01T00:00:00\.000Z, before it starts at /,
  );
});
