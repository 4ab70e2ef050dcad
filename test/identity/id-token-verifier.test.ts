// IdTokenVerifier: the ID tokens the token endpoint exchanges, and each reason to refuse one.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TokenExchangeConfig } from '../../src/config/gateway-config';
import { IdTokenVerifier } from '../../src/identity/id-token-verifier';
import {
  assertRefused,
  makeSigningKey,
  nowSeconds,
  signToken,
  startJwksServer,
  testClock,
  unsignedToken,
  type TestClock,
} from '../fixtures/tokens';

const IDP = 'https://login.example.com';
const CLIENT_ID = 'infergate-gateway';
const idpKey = makeSigningKey('ed25519', 'login-1');

function exchangeConfig(overrides: Partial<TokenExchangeConfig> = {}): TokenExchangeConfig {
  return {
    issuer: IDP,
    audience: CLIENT_ID,
    rolesClaim: 'groups',
    required: false,
    jwks: { keys: [idpKey.jwk] },
    jwksUrl: undefined,
    ...overrides,
  };
}

function verifierFor(clock: TestClock, overrides: Partial<TokenExchangeConfig> = {}) {
  return new IdTokenVerifier(exchangeConfig(overrides), {
    algorithms: ['EdDSA', 'ES256'],
    leewaySeconds: 30,
    now: clock.now,
  });
}

function idClaims(clock: TestClock, overrides: Record<string, unknown> = {}) {
  const now = nowSeconds(clock);
  return {
    iss: IDP,
    sub: 'alice@example.com',
    aud: CLIENT_ID,
    iat: now,
    exp: now + 300,
    groups: ['analysts', 'reader'],
    ...overrides,
  };
}

async function idToken(clock: TestClock, overrides: Record<string, unknown> = {}) {
  return signToken(idpKey, idClaims(clock, overrides), { typ: 'JWT' });
}

test('returns the subject and the roles of a good ID token', async () => {
  const clock = testClock();

  const facts = await verifierFor(clock).verify(await idToken(clock));

  assert.deepEqual(facts, { subject: 'alice@example.com', roles: ['analysts', 'reader'] });
});

test('refuses an exchange without an ID token', async () => {
  const verifier = verifierFor(testClock());

  for (const token of [undefined, '']) {
    await assertRefused(
      verifier.verify(token),
      'ERR_TOKEN_MISSING',
      'token exchange needs an ID token',
    );
  }
});

test('refuses alg none', async () => {
  const clock = testClock();

  await assertRefused(
    verifierFor(clock).verify(unsignedToken(idClaims(clock), { alg: 'none' })),
    'ERR_TOKEN_INVALID',
    'token algorithm "none" is not allowed',
  );
});

test('refuses a token of another issuer before fetching any key', async (t) => {
  const clock = testClock();
  const server = await startJwksServer(t, [idpKey.jwk]);
  const verifier = verifierFor(clock, { jwks: undefined, jwksUrl: server.url });

  await assertRefused(
    verifier.verify(await idToken(clock, { iss: 'https://evil.example' })),
    'ERR_TOKEN_INVALID',
    'token issuer "https://evil.example" is not trusted',
  );
  assert.equal(server.fetches(), 0);
});

test('refuses a token for another audience', async () => {
  const clock = testClock();

  await assertRefused(
    verifierFor(clock).verify(await idToken(clock, { aud: 'another-app' })),
    'ERR_TOKEN_INVALID',
    `token audience "another-app" is not "${CLIENT_ID}"`,
  );
});

test('refuses an expired token and accepts one within the leeway', async () => {
  const clock = testClock();
  const verifier = verifierFor(clock);
  const now = nowSeconds(clock);

  await assertRefused(
    verifier.verify(await idToken(clock, { exp: now - 31 })),
    'ERR_TOKEN_INVALID',
    'token has expired',
  );
  assert.equal((await verifier.verify(await idToken(clock, { exp: now - 29 }))).roles.length, 2);
});

test('refuses a token that is not yet valid', async () => {
  const clock = testClock();

  await assertRefused(
    verifierFor(clock).verify(await idToken(clock, { nbf: nowSeconds(clock) + 31 })),
    'ERR_TOKEN_INVALID',
    'token is not yet valid',
  );
});

test('refuses an access token offered as an ID token', async () => {
  const clock = testClock();
  const token = await signToken(idpKey, idClaims(clock), { typ: 'at+jwt' });

  await assertRefused(
    verifierFor(clock).verify(token),
    'ERR_TOKEN_INVALID',
    'token of type "at+jwt" is not an ID token',
  );
});

test('refuses an unknown key id and a key the provider does not have', async () => {
  const clock = testClock();
  const verifier = verifierFor(clock);
  const stranger = makeSigningKey('ed25519', 'login-1');

  await assertRefused(
    verifier.verify(await signToken(idpKey, idClaims(clock), { kid: 'login-9', typ: 'JWT' })),
    'ERR_TOKEN_INVALID',
    `token key id "login-9" is not a key of issuer "${IDP}"`,
  );
  await assertRefused(
    verifier.verify(await signToken(stranger, idClaims(clock), { typ: 'JWT' })),
    'ERR_TOKEN_INVALID',
    `token signature does not verify with the keys of issuer "${IDP}"`,
  );
});

test('reads no roles from a claim of another shape', async () => {
  const clock = testClock();

  const facts = await verifierFor(clock).verify(await idToken(clock, { groups: 7 }));

  assert.deepEqual(facts.roles, []);
});

test('verifies with keys from a URL and fails closed when it is down', async (t) => {
  const clock = testClock();
  const server = await startJwksServer(t, [idpKey.jwk]);
  const verifier = verifierFor(clock, { jwks: undefined, jwksUrl: server.url });
  assert.equal((await verifier.verify(await idToken(clock))).subject, 'alice@example.com');

  await server.close();
  const cold = verifierFor(clock, { jwks: undefined, jwksUrl: server.url });

  await assertRefused(
    cold.verify(await idToken(clock)),
    'ERR_IDENTITY_UNAVAILABLE',
    `keys of token issuer "${IDP}" cannot be fetched`,
  );
});
