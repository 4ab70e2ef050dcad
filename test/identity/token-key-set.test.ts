// Key sets fetched from a JWKS URL: rotation, the refetch cooldown, and failing closed.

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { TokenVerifier } from '../../src/identity/token-verifier';
import type { KeySetFetchOptions } from '../../src/identity/token-key-set';
import { makeTestPki } from '../fixtures/certificates';
import {
  accessClaims,
  assertRefused,
  authConfig,
  makeSigningKey,
  peerOf,
  signToken,
  startJwksServer,
  testClock,
  type JwksServer,
  type TestClock,
  type TestSigningKey,
} from '../fixtures/tokens';

const pki = makeTestPki();
const client = peerOf(pki.client.cert);
const issuerKey = makeSigningKey('ed25519');
const IDP = 'https://idp.example';
const firstKey = makeSigningKey('p256', 'idp-2031-05');
const rotatedKey = makeSigningKey('p256', 'idp-2031-06');

interface Setup {
  readonly clock: TestClock;
  readonly server: JwksServer;
  readonly verifier: TokenVerifier;
}

async function setUp(t: TestContext, fetch?: Partial<KeySetFetchOptions>): Promise<Setup> {
  const clock = testClock();
  const server = await startJwksServer(t, [firstKey.jwk]);
  const trustedIssuers = [{ issuer: IDP, jwks: undefined, jwksUrl: server.url }];
  const verifier = new TokenVerifier(authConfig(issuerKey, { trustedIssuers }), {
    now: clock.now,
    keySetFetch: { cooldownMs: 30_000, timeoutMs: 5_000, ...fetch },
  });
  return { clock, server, verifier };
}

async function idpBearer(
  clock: TestClock,
  key: TestSigningKey,
  jti = 'idp-token',
): Promise<string> {
  const claims = accessClaims(clock, client.thumbprint, { iss: IDP, jti });
  return `Bearer ${await signToken(key, claims, { typ: 'JWT' })}`;
}

test('verifies a token with a key fetched from the URL, fetching once', async (t) => {
  const { clock, server, verifier } = await setUp(t);

  await verifier.verify(await idpBearer(clock, firstKey, 'a'), client);
  await verifier.verify(await idpBearer(clock, firstKey, 'b'), client);

  assert.equal(server.fetches(), 1);
});

test('refetches once for a token with a new key id after a rotation', async (t) => {
  const { clock, server, verifier } = await setUp(t, { cooldownMs: 0 });
  await verifier.verify(await idpBearer(clock, firstKey, 'a'), client);

  server.answer({ keys: [firstKey.jwk, rotatedKey.jwk] });
  const facts = await verifier.verify(await idpBearer(clock, rotatedKey, 'b'), client);
  await verifier.verify(await idpBearer(clock, rotatedKey, 'c'), client);

  assert.equal(facts.issuer, IDP);
  assert.equal(server.fetches(), 2);
});

test('the cooldown stops a flood of unknown key ids from refetching', async (t) => {
  const { clock, server, verifier } = await setUp(t);
  await verifier.verify(await idpBearer(clock, firstKey, 'a'), client);
  const strangers = Array.from({ length: 5 }, (_, i) => makeSigningKey('p256', `forged-${i}`));

  const flood = strangers.map(async (key) => verifier.verify(await idpBearer(clock, key), client));
  await Promise.all(
    flood.map((attempt, i) =>
      assertRefused(
        attempt,
        'ERR_TOKEN_INVALID',
        `token key id "forged-${i}" is not a key of issuer "${IDP}"`,
      ),
    ),
  );

  assert.equal(server.fetches(), 1);
});

test('refuses as ERR_IDENTITY_UNAVAILABLE when the JWKS server is down', async (t) => {
  const { clock, server, verifier } = await setUp(t);
  await server.close();

  const refusal = await assertRefused(
    verifier.verify(await idpBearer(clock, firstKey), client),
    'ERR_IDENTITY_UNAVAILABLE',
    `keys of token issuer "${IDP}" cannot be fetched`,
  );

  assert.doesNotMatch(refusal.message, /127\.0\.0\.1|ECONNREFUSED|fetch failed/);
});

test('refuses as ERR_IDENTITY_UNAVAILABLE a key set that is not JSON or not a set', async (t) => {
  const { clock, server, verifier } = await setUp(t);
  const bearer = await idpBearer(clock, firstKey);
  const message = `keys of token issuer "${IDP}" cannot be fetched`;

  server.answer('<html>maintenance</html>');
  await assertRefused(verifier.verify(bearer, client), 'ERR_IDENTITY_UNAVAILABLE', message);
  server.answer({ keys: 'none' });
  await assertRefused(verifier.verify(bearer, client), 'ERR_IDENTITY_UNAVAILABLE', message);
  server.answer({ error: 'down' }, 503);
  await assertRefused(verifier.verify(bearer, client), 'ERR_IDENTITY_UNAVAILABLE', message);
});

test('refuses as ERR_IDENTITY_UNAVAILABLE when the fetch times out', async (t) => {
  const { clock, server, verifier } = await setUp(t, { timeoutMs: 20 });
  server.hang();

  await assertRefused(
    verifier.verify(await idpBearer(clock, firstKey), client),
    'ERR_IDENTITY_UNAVAILABLE',
    `keys of token issuer "${IDP}" cannot be fetched`,
  );
});

test('verifies again once the key set can be fetched again', async (t) => {
  const { clock, server, verifier } = await setUp(t);
  const bearer = await idpBearer(clock, firstKey);
  server.answer({ error: 'down' }, 503);
  await assertRefused(verifier.verify(bearer, client), 'ERR_IDENTITY_UNAVAILABLE', /cannot/);

  server.answer({ keys: [firstKey.jwk] });

  assert.equal((await verifier.verify(bearer, client)).issuer, IDP);
});

test('never fetches a jku the token names', async (t) => {
  const { clock, server, verifier } = await setUp(t);
  const forger = makeSigningKey('p256', 'attacker');
  const claims = accessClaims(clock, client.thumbprint, { iss: IDP });
  const token = await signToken(forger, claims, { jku: `${server.url}?attacker` });

  await assertRefused(
    verifier.verify(`Bearer ${token}`, client),
    'ERR_TOKEN_INVALID',
    `token key id "attacker" is not a key of issuer "${IDP}"`,
  );

  assert.equal(server.fetches(), 1);
});
