// TokenIssuer: header, claims, lifetime, key types, and tokens the verifier accepts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  jwtVerify,
} from 'jose';
import { TokenIssuer, type TokenIssuerOptions } from '../../src/identity/token-issuer';
import { TokenVerifier } from '../../src/identity/token-verifier';
import { makeTestPki } from '../fixtures/certificates';
import {
  assertRefused,
  authConfig,
  makeSigningKey,
  nowSeconds,
  peerOf,
  testClock,
  type TestClock,
  type TestSigningKey,
} from '../fixtures/tokens';

const pki = makeTestPki();
const client = peerOf(pki.client.cert);
const otherCertificate = peerOf(pki.server.cert);
const edKey = makeSigningKey('ed25519');

function issuerFor(
  key: TestSigningKey,
  clock: TestClock,
  overrides: Partial<TokenIssuerOptions> = {},
): TokenIssuer {
  return new TokenIssuer({
    issuer: { issuer: 'infergate', privateKeyPem: key.pem, ttlSeconds: 600 },
    audience: 'infergate',
    rolesClaim: 'roles',
    now: clock.now,
    ...overrides,
  });
}

const request = { subject: 'alice', roles: ['reader'], certificateThumbprint: client.thumbprint };

test('signs an Ed25519 token typed at+jwt whose kid is the RFC 7638 thumbprint', async () => {
  const clock = testClock();
  const { token } = await issuerFor(edKey, clock).issue(request);

  const { kty, crv, x } = edKey.jwk as Record<string, string>;
  assert.deepEqual(decodeProtectedHeader(token), {
    alg: 'EdDSA',
    typ: 'at+jwt',
    kid: await calculateJwkThumbprint({ kty, crv, x }),
  });
});

test('signs a P-256 token with ES256', async () => {
  const key = makeSigningKey('p256');
  const { token } = await issuerFor(key, testClock()).issue(request);

  const { kty, crv, x, y } = key.jwk as Record<string, string>;
  assert.deepEqual(decodeProtectedHeader(token), {
    alg: 'ES256',
    typ: 'at+jwt',
    kid: await calculateJwkThumbprint({ kty, crv, x, y }),
  });
});

test('puts issuer, subject, audience, times, id, roles and cnf in the claims', async () => {
  const clock = testClock();
  const issued = await issuerFor(edKey, clock).issue({ ...request, ttlSeconds: 120 });

  const claims = decodeJwt(issued.token);
  const now = nowSeconds(clock);
  assert.deepEqual(
    { ...claims, jti: typeof claims.jti },
    {
      roles: ['reader'],
      iss: 'infergate',
      sub: 'alice',
      aud: 'infergate',
      iat: now,
      exp: now + 120,
      jti: 'string',
      cnf: { 'x5t#S256': client.thumbprint },
    },
  );
  assert.deepEqual(issued.expiresAt, new Date((now + 120) * 1000));
});

test('caps the lifetime at the configured ttlSeconds', async () => {
  const clock = testClock();
  const issuer = issuerFor(edKey, clock);

  const capped = decodeJwt((await issuer.issue({ ...request, ttlSeconds: 86_400 })).token);
  const fallback = decodeJwt((await issuer.issue(request)).token);

  assert.equal(capped.exp! - capped.iat!, 600);
  assert.equal(fallback.exp! - fallback.iat!, 600);
});

test('gives every token its own jti', async () => {
  const issuer = issuerFor(edKey, testClock());

  const first = decodeJwt((await issuer.issue(request)).token).jti;
  const second = decodeJwt((await issuer.issue(request)).token).jti;

  assert.notEqual(first, second);
});

test('puts the roles in the configured claim', async () => {
  const issuer = issuerFor(edKey, testClock(), { rolesClaim: 'groups' });

  const claims = decodeJwt((await issuer.issue(request)).token);

  assert.deepEqual(claims.groups, ['reader']);
  assert.equal(claims.roles, undefined);
});

test('issues tokens the verifier accepts, bound to the certificate', async () => {
  const clock = testClock();
  const verifier = new TokenVerifier(authConfig(edKey), { now: clock.now });
  const { token, expiresAt } = await issuerFor(edKey, clock).issue(request);

  const facts = await verifier.verify(`Bearer ${token}`, client);

  assert.equal(facts.subject, 'alice');
  assert.deepEqual(facts.roles, ['reader']);
  assert.deepEqual(facts.expiresAt, expiresAt);
  await assertRefused(
    verifier.verify(`Bearer ${token}`, otherCertificate),
    'ERR_TOKEN_NOT_BOUND',
    'token is bound to another certificate',
  );
});

test('publishes a public key set that verifies its tokens and holds no private key', async () => {
  const issuer = issuerFor(edKey, testClock());
  const { token } = await issuer.issue(request);

  const jwks = issuer.publicJwks();
  const { payload } = await jwtVerify(token, createLocalJWKSet(structuredClone(jwks) as never), {
    currentDate: new Date(testClock().now()),
  });

  assert.equal(payload.sub, 'alice');
  assert.equal(jwks.keys.length, 1);
  assert.equal(jwks.keys[0]!.d, undefined);
  assert.equal(jwks.keys[0]!.use, 'sig');
});

test('refuses an issuer key that is neither Ed25519 nor P-256', () => {
  const cases: [TestSigningKey, string][] = [
    [makeSigningKey('rsa'), 'token issuer key type "rsa" is not Ed25519 or P-256'],
    [makeSigningKey('p384'), 'token issuer key type "ec secp384r1" is not Ed25519 or P-256'],
  ];

  for (const [key, message] of cases) {
    assert.throws(() => issuerFor(key, testClock()), { code: 'ERR_PKI_MATERIAL_INVALID', message });
  }
  assert.throws(() => issuerFor({ ...edKey, pem: 'not a key' }, testClock()), {
    code: 'ERR_PKI_MATERIAL_INVALID',
    message: 'token issuer key is not a PEM private key',
  });
});

test('refuses an empty subject, a malformed thumbprint and a bad lifetime', async () => {
  const issuer = issuerFor(edKey, testClock());

  await assertRefused(
    issuer.issue({ ...request, subject: '' }),
    'ERR_USAGE',
    'token subject is empty',
  );
  await assertRefused(
    issuer.issue({ ...request, certificateThumbprint: 'AA:BB' }),
    'ERR_USAGE',
    'certificate thumbprint "AA:BB" is not a SHA-256 digest',
  );
  await assertRefused(
    issuer.issue({ ...request, ttlSeconds: 0 }),
    'ERR_USAGE',
    'token lifetime 0 is not a positive integer',
  );
});
