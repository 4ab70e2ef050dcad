// Upstream addresses: which protocol and whether TLS each scheme means, and what is rejected.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConfigIssue } from '../../src/config/config-error';
import { parseUpstreamAddress } from '../../src/config/upstream-address';

/** Parses `text` as the address at `upstreams[0].address` and returns the parts and issues. */
function parse(text: string) {
  const issues: ConfigIssue[] = [];
  const parts = parseUpstreamAddress(text, 'upstreams[0].address', issues);
  return { parts, issues };
}

test('reads an http:// address as a cleartext HTTP upstream', () => {
  assert.deepEqual(parse('http://127.0.0.1:8000'), {
    parts: {
      scheme: 'http',
      protocol: 'http',
      secure: false,
      host: '127.0.0.1',
      port: 8000,
      authority: '127.0.0.1:8000',
    },
    issues: [],
  });
});

test('reads an https:// address as an HTTP upstream over TLS', () => {
  assert.deepEqual(parse('https://models.internal:8443'), {
    parts: {
      scheme: 'https',
      protocol: 'http',
      secure: true,
      host: 'models.internal',
      port: 8443,
      authority: 'models.internal:8443',
    },
    issues: [],
  });
});

test('reads grpc:// and grpcs:// addresses as gRPC upstreams, cleartext and TLS', () => {
  const cleartext = parse('grpc://127.0.0.1:8001');
  const secure = parse('grpcs://models.internal:8443');

  assert.deepEqual(cleartext.issues, []);
  assert.equal(cleartext.parts.protocol, 'grpc');
  assert.equal(cleartext.parts.secure, false);
  assert.deepEqual(secure.issues, []);
  assert.equal(secure.parts.protocol, 'grpc');
  assert.equal(secure.parts.secure, true);
  assert.equal(secure.parts.authority, 'models.internal:8443');
});

test('accepts an IPv6 http:// address in brackets', () => {
  const { parts, issues } = parse('http://[::1]:8000');

  assert.deepEqual(issues, []);
  assert.equal(parts.host, '::1');
  assert.equal(parts.authority, '[::1]:8000');
  assert.equal(parts.protocol, 'http');
});

test('rejects an unsupported scheme, naming the four it supports', () => {
  const { issues } = parse('ftp://127.0.0.1:8002');

  assert.deepEqual(issues, [
    {
      path: 'upstreams[0].address',
      reason: 'scheme "ftp:" is not supported; use grpc://, grpcs://, http:// or https://',
    },
  ]);
});

test('rejects an https:// address with a base path', () => {
  const { issues } = parse('https://models.internal:8443/v1');

  assert.deepEqual(issues, [
    {
      path: 'upstreams[0].address',
      reason: '"https://models.internal:8443/v1" must be exactly https://host:port',
    },
  ]);
});

// WHATWG URL drops the scheme's default port (80 for http:, 443 for https:); the port must
// still be read from the address as written.
test('accepts http:// and https:// addresses on their default ports', () => {
  const cleartext = parse('http://127.0.0.1:80');
  const secure = parse('https://models.internal:443');

  assert.deepEqual(cleartext.issues, []);
  assert.equal(cleartext.parts.port, 80);
  assert.deepEqual(secure.issues, []);
  assert.equal(secure.parts.port, 443);
  assert.equal(secure.parts.authority, 'models.internal:443');
});

test('rejects userinfo, a query or a fragment in an address', () => {
  for (const address of ['http://user:pass@h:8000', 'http://h:8000?x=1', 'grpc://h:8001#f']) {
    assert.equal(parse(address).issues.length, 1, address);
  }
});
