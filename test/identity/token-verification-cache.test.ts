// The verified-token cache, seen through TokenVerifier: hits skip the signature check, never
// outlive the token, and never cross certificates.

import assert from 'node:assert/strict';
import { mock, test, type TestContext } from 'node:test';
import { TOKEN_CACHE_MAX_AGE_MS } from '../../src/identity/token-verification-cache';
import { makeVerifierFixture } from '../fixtures/token-verifier-fixture';
import { assertRefused, nowSeconds, testClock } from '../fixtures/tokens';

const { client, otherCertificate, verifierFor, bearer } = makeVerifierFixture();

/** Counts the signature checks jose makes from now until the end of the test. */
function countSignatureChecks(t: TestContext): () => number {
  const verify = mock.method(globalThis.crypto.subtle, 'verify');
  t.after(() => verify.mock.restore());
  return () => verify.mock.callCount();
}

test('answers a repeated token from the cache without checking its signature again', async (t) => {
  const clock = testClock();
  const verifier = verifierFor(clock);
  const header = await bearer(clock);
  const signatureChecks = countSignatureChecks(t);

  const first = await verifier.verify(header, client);
  clock.advanceSeconds(60);
  const second = await verifier.verify(header, client);

  assert.equal(signatureChecks(), 1);
  assert.equal(second, first);
});

test('does not let a cached token through on another certificate', async () => {
  const clock = testClock();
  const verifier = verifierFor(clock);
  const header = await bearer(clock);
  await verifier.verify(header, client);

  await assertRefused(
    verifier.verify(header, otherCertificate),
    'ERR_TOKEN_NOT_BOUND',
    'token is bound to another certificate',
  );
});

test('refuses a cached token once it has expired on the injected clock', async () => {
  const clock = testClock();
  const verifier = verifierFor(clock);
  const header = await bearer(clock, { exp: nowSeconds(clock) + 60 });
  await verifier.verify(header, client);

  clock.advanceSeconds(60 + 31);

  await assertRefused(verifier.verify(header, client), 'ERR_TOKEN_INVALID', 'token has expired');
});

test('checks a cached token again from its exp on, within the leeway', async (t) => {
  const clock = testClock();
  const verifier = verifierFor(clock);
  const header = await bearer(clock, { exp: nowSeconds(clock) + 60 });
  await verifier.verify(header, client);
  const signatureChecks = countSignatureChecks(t);

  clock.advanceSeconds(61);
  const facts = await verifier.verify(header, client);

  assert.equal(facts.subject, 'alice');
  assert.equal(signatureChecks(), 1);
});

test('does not cache a refusal', async () => {
  const clock = testClock();
  const verifier = verifierFor(clock);
  const header = await bearer(clock, { nbf: nowSeconds(clock) + 120 });
  await assertRefused(verifier.verify(header, client), 'ERR_TOKEN_INVALID', /not yet valid/);

  clock.advanceSeconds(120);

  assert.equal((await verifier.verify(header, client)).subject, 'alice');
});

test('keeps at most cacheMaxEntries verified tokens', async (t) => {
  const clock = testClock();
  const verifier = verifierFor(clock, {}, { cacheMaxEntries: 1 });
  const first = await bearer(clock, { jti: 'a' });
  const second = await bearer(clock, { jti: 'b' });
  await verifier.verify(first, client);
  await verifier.verify(second, client);
  const signatureChecks = countSignatureChecks(t);

  await verifier.verify(second, client);
  await verifier.verify(first, client);

  assert.equal(signatureChecks(), 1);
});

test('checks a long-lived token again once the longest reuse has passed', async (t) => {
  const clock = testClock();
  const verifier = verifierFor(clock);
  const header = await bearer(clock, { exp: nowSeconds(clock) + 86_400 });
  await verifier.verify(header, client);
  const signatureChecks = countSignatureChecks(t);

  clock.advanceSeconds(TOKEN_CACHE_MAX_AGE_MS / 1000 - 1);
  await verifier.verify(header, client);
  clock.advanceSeconds(2);
  await verifier.verify(header, client);

  assert.equal(signatureChecks(), 1);
});

test('answers verifyCached only for a token already accepted on this certificate and still valid', async () => {
  const clock = testClock();
  const verifier = verifierFor(clock);
  const header = await bearer(clock, { exp: nowSeconds(clock) + 60 });

  const before = verifier.verifyCached(header, client);
  const facts = await verifier.verify(header, client);
  const hit = verifier.verifyCached(header, client);
  const elsewhere = verifier.verifyCached(header, otherCertificate);
  const missing = verifier.verifyCached(undefined, client);
  clock.advanceSeconds(60 + 31);
  const expired = verifier.verifyCached(header, client);

  assert.equal(before, undefined);
  assert.equal(hit, facts);
  assert.equal(elsewhere, undefined);
  assert.equal(missing, undefined);
  assert.equal(expired, undefined);
});
