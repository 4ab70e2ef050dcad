// TokenVerifier: bearer parsing, algorithm pinning, issuer, signature, claims and binding.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuthConfig } from '../../src/config/gateway-config';
import type { TokenVerifier } from '../../src/identity/token-verifier';
import { makeVerifierFixture } from '../fixtures/token-verifier-fixture';
import {
  accessClaims,
  assertRefused,
  makeSigningKey,
  nowSeconds,
  signToken,
  testClock,
  unsignedToken,
  type TestClock,
} from '../fixtures/tokens';

const { client, otherCertificate, issuerKey, verifierFor, bearer } = makeVerifierFixture();
const idpKey = makeSigningKey('p256', 'idp-1');
const IDP = 'https://idp.example';

/** A verifier that also trusts the test IdP, whose key set is given inline. */
function verifierWithIdp(clock: TestClock, overrides: Partial<AuthConfig> = {}): TokenVerifier {
  const trustedIssuers = [{ issuer: IDP, jwks: { keys: [idpKey.jwk] }, jwksUrl: undefined }];
  return verifierFor(clock, { trustedIssuers, ...overrides });
}

test('accepts a good token bound to the certificate and returns its facts', async () => {
  const clock = testClock();
  const facts = await verifierFor(clock).verify(await bearer(clock), client);

  assert.deepEqual(facts, {
    subject: 'alice',
    issuer: 'infergate',
    tokenId: 'token-1',
    roles: ['reader', 'writer'],
    expiresAt: new Date((nowSeconds(clock) + 600) * 1000),
  });
});

test('reads roles from a space-separated string and ignores other shapes', async () => {
  const clock = testClock();
  const verifier = verifierFor(clock);
  const rolesOf = async (roles: unknown) =>
    (await verifier.verify(await bearer(clock, { roles }), client)).roles;

  assert.deepEqual(await rolesOf('reader  writer'), ['reader', 'writer']);
  assert.deepEqual(await rolesOf(['reader', 7]), []);
  assert.deepEqual(await rolesOf({ reader: true }), []);
  assert.deepEqual(await rolesOf(undefined), []);
});

test('reads roles from the configured claim', async () => {
  const clock = testClock();
  const verifier = verifierFor(clock, { rolesClaim: 'groups' });

  const facts = await verifier.verify(await bearer(clock, { groups: ['admins'] }), client);

  assert.deepEqual(facts.roles, ['admins']);
});

test('accepts the Bearer scheme in any case', async () => {
  const clock = testClock();
  const token = (await bearer(clock)).slice('Bearer '.length);

  const facts = await verifierFor(clock).verify(`bEaReR  ${token}`, client);

  assert.equal(facts.subject, 'alice');
});

test('refuses a request without a token as ERR_TOKEN_MISSING', async () => {
  const verifier = verifierFor(testClock());

  for (const header of [undefined, '', '   ', 'Bearer', 'Bearer   ']) {
    await assertRefused(
      verifier.verify(header, client),
      'ERR_TOKEN_MISSING',
      'request carries no bearer token',
    );
  }
});

test('refuses another scheme as ERR_TOKEN_MISSING, naming only known schemes', async () => {
  const verifier = verifierFor(testClock());

  await assertRefused(
    verifier.verify('Basic YWxpY2U6c2VjcmV0', client),
    'ERR_TOKEN_MISSING',
    'authorization scheme "Basic" is not Bearer',
  );
  const refusal = await assertRefused(
    verifier.verify('sk-live-secret-api-key', client),
    'ERR_TOKEN_MISSING',
    'authorization scheme is not Bearer',
  );
  assert.doesNotMatch(refusal.message, /secret/);
});

test('refuses a token that is not a JWT as malformed', async () => {
  const verifier = verifierFor(testClock());

  for (const token of ['abc.def', 'not a token', 'eyJhbGciOiJFZERTQSJ9.e30.e30.e30', '%%%.x.y']) {
    await assertRefused(
      verifier.verify(`Bearer ${token}`, client),
      'ERR_TOKEN_INVALID',
      'token is malformed',
    );
  }
  await assertRefused(
    verifier.verify(`Bearer ${'a'.repeat(9_000)}`, client),
    'ERR_TOKEN_INVALID',
    'token is longer than 8192 characters',
  );
});

test('refuses alg none before looking at anything else', async () => {
  const clock = testClock();
  const token = unsignedToken(accessClaims(clock, client.thumbprint));

  await assertRefused(
    verifierFor(clock).verify(`Bearer ${token}`, client),
    'ERR_TOKEN_INVALID',
    'token algorithm "none" is not allowed',
  );
});

test('refuses an algorithm the configuration does not allow', async () => {
  const clock = testClock();
  const verifier = verifierWithIdp(clock, { algorithms: ['EdDSA'] });
  const token = await signToken(idpKey, accessClaims(clock, client.thumbprint, { iss: IDP }));

  await assertRefused(
    verifier.verify(`Bearer ${token}`, client),
    'ERR_TOKEN_INVALID',
    'token algorithm "ES256" is not allowed',
  );
});

test('accepts a token of a trusted issuer from its key set', async () => {
  const clock = testClock();
  const claims = accessClaims(clock, client.thumbprint, { iss: IDP });
  // Other issuers need not type their tokens at+jwt.
  const token = await signToken(idpKey, claims, { typ: 'JWT' });

  const facts = await verifierWithIdp(clock).verify(`Bearer ${token}`, client);

  assert.equal(facts.issuer, IDP);
});

test('refuses an issuer that is not configured, naming it cut to 64 characters', async () => {
  const clock = testClock();
  const verifier = verifierFor(clock);
  const long = `https://${'x'.repeat(100)}.example`;

  await assertRefused(
    verifier.verify(await bearer(clock, { iss: IDP }), client),
    'ERR_TOKEN_INVALID',
    'token issuer "https://idp.example" is not trusted',
  );
  await assertRefused(
    verifier.verify(await bearer(clock, { iss: long }), client),
    'ERR_TOKEN_INVALID',
    `token issuer "${long.slice(0, 64)}…" is not trusted`,
  );
  await assertRefused(
    verifier.verify(await bearer(clock, { iss: undefined }), client),
    'ERR_TOKEN_INVALID',
    'token has no "iss" claim',
  );
});

test('refuses a token for another audience', async () => {
  const clock = testClock();

  await assertRefused(
    verifierFor(clock).verify(await bearer(clock, { aud: 'billing' }), client),
    'ERR_TOKEN_INVALID',
    'token audience "billing" is not "infergate"',
  );
});

test('accepts an audience list that includes the gateway', async () => {
  const clock = testClock();

  const facts = await verifierFor(clock).verify(
    await bearer(clock, { aud: ['billing', 'infergate'] }),
    client,
  );

  assert.equal(facts.subject, 'alice');
});

test('refuses an expired token and accepts one within the leeway', async () => {
  const clock = testClock();
  const verifier = verifierFor(clock);
  const now = nowSeconds(clock);

  await assertRefused(
    verifier.verify(await bearer(clock, { exp: now - 31 }), client),
    'ERR_TOKEN_INVALID',
    'token has expired',
  );
  const facts = await verifier.verify(await bearer(clock, { exp: now - 29 }), client);
  assert.equal(facts.subject, 'alice');
});

test('refuses a token that is not yet valid and accepts one within the leeway', async () => {
  const clock = testClock();
  const verifier = verifierFor(clock);
  const now = nowSeconds(clock);

  await assertRefused(
    verifier.verify(await bearer(clock, { nbf: now + 31 }), client),
    'ERR_TOKEN_INVALID',
    'token is not yet valid',
  );
  const facts = await verifier.verify(await bearer(clock, { nbf: now + 29 }), client);
  assert.equal(facts.subject, 'alice');
});

test('refuses a token without exp or sub', async () => {
  const clock = testClock();
  const verifier = verifierFor(clock);

  await assertRefused(
    verifier.verify(await bearer(clock, { exp: undefined }), client),
    'ERR_TOKEN_INVALID',
    'token has no "exp" claim',
  );
  await assertRefused(
    verifier.verify(await bearer(clock, { sub: undefined }), client),
    'ERR_TOKEN_INVALID',
    'token has no "sub" claim',
  );
  await assertRefused(
    verifier.verify(await bearer(clock, { sub: '' }), client),
    'ERR_TOKEN_INVALID',
    'token has no "sub" claim',
  );
});

test("refuses a token of infergate's issuer that is not typed at+jwt", async () => {
  const clock = testClock();
  const verifier = verifierFor(clock);
  const claims = accessClaims(clock, client.thumbprint);
  const cases: [string | undefined, string][] = [
    ['JWT', 'token type "JWT" is not "at+jwt"'],
    [undefined, 'token type (none) is not "at+jwt"'],
  ];

  for (const [typ, message] of cases) {
    const token = await signToken(issuerKey, claims, { typ });
    await assertRefused(verifier.verify(`Bearer ${token}`, client), 'ERR_TOKEN_INVALID', message);
  }
});

test('refuses a key id the issuer does not have', async () => {
  const clock = testClock();
  const token = await signToken(issuerKey, accessClaims(clock, client.thumbprint), {
    kid: 'retired-key',
  });

  await assertRefused(
    verifierFor(clock).verify(`Bearer ${token}`, client),
    'ERR_TOKEN_INVALID',
    'token key id "retired-key" is not a key of issuer "infergate"',
  );
});

test('refuses a token signed by a key the issuer does not trust', async () => {
  const clock = testClock();
  const forger = makeSigningKey('ed25519', issuerKey.kid);
  const token = await signToken(forger, accessClaims(clock, client.thumbprint));

  await assertRefused(
    verifierFor(clock).verify(`Bearer ${token}`, client),
    'ERR_TOKEN_INVALID',
    'token signature does not verify with the keys of issuer "infergate"',
  );
});

test('never takes the key from the token header (jwk, jku, x5u)', async () => {
  const clock = testClock();
  const forger = makeSigningKey('ed25519', issuerKey.kid);
  const token = await signToken(forger, accessClaims(clock, client.thumbprint), {
    jwk: { kty: forger.jwk.kty, crv: forger.jwk.crv, x: forger.jwk.x },
    jku: 'https://attacker.example/jwks.json',
    x5u: 'https://attacker.example/cert.pem',
  });

  await assertRefused(
    verifierFor(clock).verify(`Bearer ${token}`, client),
    'ERR_TOKEN_INVALID',
    'token signature does not verify with the keys of issuer "infergate"',
  );
});

test('refuses a token bound to another certificate', async () => {
  const clock = testClock();

  await assertRefused(
    verifierFor(clock).verify(await bearer(clock), otherCertificate),
    'ERR_TOKEN_NOT_BOUND',
    'token is bound to another certificate',
  );
});

test('refuses a token that is not bound to a certificate', async () => {
  const clock = testClock();
  const verifier = verifierFor(clock);
  const unbound = [
    undefined,
    'x5t',
    {},
    { jkt: 'dpop-thumbprint' },
    { 'x5t#S256': 42 },
    [client.thumbprint],
  ];

  for (const cnf of unbound) {
    await assertRefused(
      verifier.verify(await bearer(clock, { cnf }), client),
      'ERR_TOKEN_NOT_BOUND',
      'token is not bound to a certificate',
    );
  }
});

test('never puts the token or its signature in a message', async () => {
  const clock = testClock();
  const token = (await bearer(clock, { aud: 'billing' })).slice('Bearer '.length);

  const refusal = await assertRefused(
    verifierFor(clock).verify(`Bearer ${token}`, client),
    'ERR_TOKEN_INVALID',
    /audience/,
  );

  for (const part of token.split('.')) assert.ok(!refusal.message.includes(part));
});

test('refuses an issuer configured twice', () => {
  const trustedIssuers = [{ issuer: 'infergate', jwks: { keys: [] }, jwksUrl: undefined }];

  assert.throws(() => verifierFor(testClock(), { trustedIssuers }), {
    code: 'ERR_CONFIG_INVALID',
    message: 'token issuer "infergate" is named twice',
  });
});
