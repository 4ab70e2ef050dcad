// Subject alternative names: which can be written, and the round trip through node-forge.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  findSubjectAltNameProblem,
  fromForgeAltNames,
  hasNoAltNames,
  toForgeAltNames,
} from '../../../src/identity/pki/subject-alt-names';

test('accepts hostnames, wildcards, IPv4, IPv6, SPIFFE IDs and e-mail addresses', () => {
  assert.equal(
    findSubjectAltNameProblem({
      dnsNames: ['localhost', 'models.example.org', '*.ml.example.org'],
      ipAddresses: ['127.0.0.1', '::1', 'fd00::17'],
      uris: ['spiffe://example.org/ns/ml/sa/batch', 'https://example.org/client'],
      emails: ['ops@example.org'],
    }),
    undefined,
  );
});

test('names the first value that cannot be written', () => {
  const cases = [
    [{ dnsNames: ['bad name'] }, 'DNS name "bad name" is not a hostname'],
    [{ dnsNames: ['-lead.example'] }, 'DNS name "-lead.example" is not a hostname'],
    [{ dnsNames: ['a.*.example'] }, 'DNS name "a.*.example" is not a hostname'],
    [{ ipAddresses: ['1.2.3'] }, 'IP address "1.2.3" is not an IPv4 or IPv6 address'],
    [{ uris: ['not-a-uri'] }, 'URI "not-a-uri" is not an absolute URI'],
    [{ uris: ['spiffe://ex.org/é'] }, 'URI "spiffe://ex.org/é" is not an absolute URI'],
    [{ emails: ['ops'] }, 'e-mail address "ops" is not of the form local@domain'],
    [{ emails: ['a b@c'] }, 'e-mail address "a b@c" is not of the form local@domain'],
  ] as const;

  for (const [names, problem] of cases) {
    assert.equal(findSubjectAltNameProblem(names), problem, JSON.stringify(names));
  }
});

test('round-trips every kind through forge altNames', () => {
  const names = {
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    uris: ['spiffe://infergate.local/demo-client'],
    emails: ['ops@example.org'],
  };

  const forged = toForgeAltNames(names);

  assert.deepEqual(
    forged.map((name) => name.type),
    [2, 7, 6, 1],
  );
  assert.deepEqual(fromForgeAltNames(forged), names);
});

test('tells an empty set of names from one with a name', () => {
  assert.equal(hasNoAltNames({}), true);
  assert.equal(hasNoAltNames({ dnsNames: [], uris: [] }), true);
  assert.equal(hasNoAltNames({ emails: ['ops@example.org'] }), false);
});
