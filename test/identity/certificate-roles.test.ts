// Unit tests for the roles configuration grants client certificates by URI, e-mail and CN.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { CertificateRoleConfig } from '../../src/config/gateway-config';
import { compileCertificateRoles } from '../../src/identity/certificate-roles';
import type { PeerCertificate } from '../../src/identity/peer-certificate';

function makeCertificate(fields: Partial<PeerCertificate>): PeerCertificate {
  return {
    thumbprint: 'A'.repeat(43),
    subject: 'CN=client',
    commonName: 'client',
    issuer: 'CN=infergate test CA',
    serialNumber: '01',
    uris: [],
    emails: [],
    dnsNames: [],
    validFrom: new Date(0),
    validTo: new Date(0),
    ...fields,
  };
}

function mapping(
  attribute: CertificateRoleConfig['attribute'],
  pattern: string,
  roles: readonly string[],
): CertificateRoleConfig {
  return { attribute, pattern, roles };
}

const SPIFFE = 'spiffe://prod.example/ns/risk/sa/scorer';

describe('compileCertificateRoles', () => {
  test('grants nothing without mappings', () => {
    assert.deepEqual(compileCertificateRoles([])(makeCertificate({ uris: [SPIFFE] })), []);
  });

  test('matches a uri pattern against any URI SAN', () => {
    const roles = compileCertificateRoles([
      mapping('uri', 'spiffe://prod.example/ns/risk/*', ['scorer']),
    ]);
    const certificate = makeCertificate({ uris: ['https://other.example/', SPIFFE] });
    assert.deepEqual(roles(certificate), ['scorer']);
    assert.deepEqual(roles(makeCertificate({ uris: ['spiffe://prod.example/ns/ops/sa/x'] })), []);
  });

  test('matches an email pattern against any e-mail SAN, and never the URIs', () => {
    const roles = compileCertificateRoles([mapping('email', '*@risk.example', ['analyst'])]);
    const certificate = makeCertificate({ emails: ['ops@ops.example', 'ana@risk.example'] });
    assert.deepEqual(roles(certificate), ['analyst']);
    assert.deepEqual(roles(makeCertificate({ uris: ['ana@risk.example'] })), []);
  });

  test('matches a commonName pattern against the subject CN', () => {
    const roles = compileCertificateRoles([mapping('commonName', 'batch-worker-?', ['batcher'])]);
    assert.deepEqual(roles(makeCertificate({ commonName: 'batch-worker-7' })), ['batcher']);
    assert.deepEqual(roles(makeCertificate({ commonName: 'batch-worker-17' })), []);
  });

  test('grants nothing by commonName to a subject without a CN', () => {
    const roles = compileCertificateRoles([mapping('commonName', '*', ['anyone'])]);
    assert.deepEqual(roles(makeCertificate({ commonName: undefined, subject: 'O=acme' })), []);
  });

  test('matches exactly and case-sensitively without wildcards', () => {
    const roles = compileCertificateRoles([mapping('email', 'ana@risk.example', ['analyst'])]);
    assert.deepEqual(roles(makeCertificate({ emails: ['ana@risk.example'] })), ['analyst']);
    assert.deepEqual(roles(makeCertificate({ emails: ['Ana@Risk.example'] })), []);
    assert.deepEqual(roles(makeCertificate({ emails: ['xana@risk.example'] })), []);
  });

  test('unites the roles of matching mappings in configuration order, once each', () => {
    const roles = compileCertificateRoles([
      mapping('commonName', 'nobody', ['unused']),
      mapping('uri', 'spiffe://prod.example/*', ['reader', 'scorer']),
      mapping('email', '*@risk.example', ['analyst', 'reader']),
      mapping('commonName', 'client', ['scorer', 'auditor']),
    ]);
    const certificate = makeCertificate({ uris: [SPIFFE], emails: ['ana@risk.example'] });
    assert.deepEqual(roles(certificate), ['reader', 'scorer', 'analyst', 'auditor']);
  });

  test('returns a fresh array on every call', () => {
    const roles = compileCertificateRoles([mapping('uri', '*', ['reader'])]);
    const certificate = makeCertificate({ uris: [SPIFFE] });
    const first = roles(certificate);
    first.push('mutated');
    assert.deepEqual(roles(certificate), ['reader']);
  });

  test('lets a trailing * span the end of a trust domain, as its documentation warns', () => {
    const roles = compileCertificateRoles([mapping('uri', 'spiffe://prod.example*', ['scorer'])]);
    const certificate = makeCertificate({ uris: ['spiffe://prod.example.attacker.net/x'] });
    assert.deepEqual(roles(certificate), ['scorer']);
  });

  test('grants nothing through a pattern that does not compile', () => {
    const roles = compileCertificateRoles([mapping('uri', 'x'.repeat(300), ['reader'])]);
    assert.deepEqual(roles(makeCertificate({ uris: ['x'.repeat(300)] })), []);
  });
});
