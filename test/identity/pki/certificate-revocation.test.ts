// Revocation: the revoked list beside the CA, and the whole CRL re-issued from it each time.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  createCertificateAuthority,
  loadCertificateAuthorityFromDir,
} from '../../../src/identity/pki/certificate-authority';
import {
  publishRevocationList,
  readRevocationState,
  revokeCertificate,
} from '../../../src/identity/pki/certificate-revocation';
import { issueLeafCertificate } from '../../../src/identity/pki/leaf-certificate';
import { readCrl } from '../../fixtures/crl-reader';
import { writeOperatorCa } from '../../fixtures/operator-ca';
import { fileMode, pkiTempDir } from '../../fixtures/pki-temp-dir';
import { assertProxyError } from '../../fixtures/proxy-errors';

const NOW = new Date('2030-01-15T12:00:00.000Z');

function crlIn(dir: string) {
  return readCrl(fs.readFileSync(path.join(dir, 'ca.crl'), 'utf8'));
}

test('publishes an empty CRL numbered 1 when nothing was revoked yet', (t) => {
  const dir = pkiTempDir(t);
  const ca = createCertificateAuthority();

  const published = publishRevocationList(ca, dir, { now: NOW, days: 7 });

  assert.equal(published.crlNumber, 1);
  assert.equal(published.revokedCount, 0);
  assert.equal(published.nextUpdate.toISOString(), '2030-01-22T12:00:00.000Z');
  assert.deepEqual(crlIn(dir), {
    crlNumber: 1,
    thisUpdate: new Date('2030-01-15T11:55:00.000Z'),
    nextUpdate: new Date('2030-01-22T12:00:00.000Z'),
    revoked: [],
  });
  assert.equal(fileMode(published.crlFile), 0o644);
});

test('re-issues the whole list with the next CRL number on every revocation', (t) => {
  const dir = pkiTempDir(t);
  const ca = createCertificateAuthority();
  const first = issueLeafCertificate(ca, { kind: 'client', commonName: 'first' });
  const second = issueLeafCertificate(ca, { kind: 'client', commonName: 'second' });
  publishRevocationList(ca, dir);

  const one = revokeCertificate(ca, dir, first.certificate, 'first.pem', {
    reason: 'keyCompromise',
  });
  const two = revokeCertificate(ca, dir, second.certificate, 'second.pem');

  assert.equal(one.published?.crlNumber, 2);
  assert.equal(two.published?.crlNumber, 3);
  assert.deepEqual(crlIn(dir).crlNumber, 3);
  assert.deepEqual(crlIn(dir).revoked, [
    { serialNumber: first.certificate.x509.serialNumber, reasonCode: 1 },
    { serialNumber: second.certificate.x509.serialNumber, reasonCode: undefined },
  ]);
  const state = readRevocationState(ca, dir);
  assert.equal(state.crlNumber, 3);
  assert.deepEqual(
    state.revoked.map((entry) => [entry.serialNumber, entry.reason]),
    [
      [first.certificate.x509.serialNumber, 'keyCompromise'],
      [second.certificate.x509.serialNumber, undefined],
    ],
  );
});

test('records the revocation time it is given', (t) => {
  const dir = pkiTempDir(t);
  const ca = createCertificateAuthority();
  const leaf = issueLeafCertificate(ca, { kind: 'client', commonName: 'batch' });

  revokeCertificate(ca, dir, leaf.certificate, 'batch.pem', { now: NOW });

  assert.deepEqual(readRevocationState(ca, dir).revoked[0]!.revokedAt, NOW);
});

test('changes nothing when a certificate is revoked twice', (t) => {
  const dir = pkiTempDir(t);
  const ca = createCertificateAuthority();
  const leaf = issueLeafCertificate(ca, { kind: 'client', commonName: 'batch' });
  revokeCertificate(ca, dir, leaf.certificate, 'batch.pem', { reason: 'superseded' });
  const before = fs.readFileSync(path.join(dir, 'ca.crl'), 'utf8');

  const again = revokeCertificate(ca, dir, leaf.certificate, 'batch.pem');

  assert.deepEqual(again, {
    serialNumber: leaf.certificate.x509.serialNumber,
    alreadyRevoked: true,
    published: undefined,
  });
  assert.equal(fs.readFileSync(path.join(dir, 'ca.crl'), 'utf8'), before);
});

test('refuses to revoke a certificate another CA issued', (t) => {
  const dir = pkiTempDir(t);
  const ca = createCertificateAuthority();
  const foreign = issueLeafCertificate(createCertificateAuthority(), {
    kind: 'client',
    commonName: 'batch',
  });

  assertProxyError(
    () => revokeCertificate(ca, dir, foreign.certificate, 'batch.pem'),
    'ERR_PKI_MATERIAL_INVALID',
    /^batch\.pem was not issued by this CA$/,
  );
  assert.deepEqual(fs.readdirSync(dir), []);
});

test("refuses another CA's revoked list, which would drop this CA's revocations", (t) => {
  const dir = pkiTempDir(t);
  const ca = createCertificateAuthority();
  publishRevocationList(createCertificateAuthority(), dir);

  assertProxyError(
    () => publishRevocationList(ca, dir),
    'ERR_PKI_MATERIAL_INVALID',
    /ca-revocations\.json lists the revocations of another CA, not of this one$/,
  );
});

test('refuses a revoked list that is not JSON or not of the expected shape', (t) => {
  const dir = pkiTempDir(t);
  const ca = createCertificateAuthority();
  const file = path.join(dir, 'ca-revocations.json');
  const valid = { authorityKeyId: 'ab', crlNumber: 1, revoked: [] };

  for (const text of [
    '{',
    JSON.stringify({ ...valid, crlNumber: -1 }),
    JSON.stringify({ ...valid, revoked: [{ serialNumber: 'xyz', revokedAt: NOW }] }),
    JSON.stringify({ ...valid, revoked: [{ serialNumber: 'AB', revokedAt: 'never' }] }),
    JSON.stringify({ ...valid, revoked: [{ serialNumber: 'AB', revokedAt: NOW, reason: 'x' }] }),
  ]) {
    fs.writeFileSync(file, text);
    assertProxyError(
      () => readRevocationState(ca, dir),
      'ERR_PKI_MATERIAL_INVALID',
      /ca-revocations\.json is not a revocation list written by infergate$/,
    );
  }
});

test('refuses to sign a CRL with a CA whose keyUsage lacks cRLSign', (t) => {
  const dir = pkiTempDir(t);
  writeOperatorCa(dir, {
    subject: [{ name: 'commonName', value: 'signing-only CA' }],
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', keyCertSign: true },
    ],
    certName: 'ca.pem',
    keyName: 'ca-key.pem',
  });
  const ca = loadCertificateAuthorityFromDir(dir);

  assertProxyError(
    () => publishRevocationList(ca, dir),
    'ERR_PKI_MATERIAL_INVALID',
    /ca\.pem has a keyUsage that does not allow cRLSign$/,
  );
  assert.equal(fs.existsSync(path.join(dir, 'ca.crl')), false);
});
