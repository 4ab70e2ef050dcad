// Unit tests of the authentication filter's revocation checks, its hook called directly with a
// real token verifier: a revoked certificate, a revoked token (fresh and remembered), a stale
// list, and a caller nothing revokes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  authenticationFilterFactory,
  type AuthenticationSettings,
} from '../../../src/filters/authentication/authentication-filter';
import type { PeerCertificate } from '../../../src/identity/peer-certificate';
import { Exchange } from '../../../src/pipeline/exchange';
import type { ExchangeMessage } from '../../../src/pipeline/filter';
import { LocalReply } from '../../../src/pipeline/local-reply';
import type { RevocationCheck } from '../../../src/revocations/revocation-check';
import { captureLogs } from '../../fixtures/log-sink';
import { makeVerifierFixture } from '../../fixtures/token-verifier-fixture';
import { testClock } from '../../fixtures/tokens';

/** A list whose contents a test sets directly. */
class FakeRevocations implements RevocationCheck {
  stale = false;
  readonly certificates = new Set<string>();
  readonly tokens = new Set<string>();

  isCertificateRevoked(thumbprint: string): boolean {
    return this.certificates.has(thumbprint);
  }

  isTokenRevoked(tokenId: string): boolean {
    return this.tokens.has(tokenId);
  }
}

function exchangeFrom(certificate: PeerCertificate): Exchange {
  return new Exchange({
    id: 'ex-1',
    listener: 'http',
    protocol: 'http',
    operation: 'chat.completions',
    requestHeaders: {},
    session: {
      id: 's-1',
      remoteAddress: '127.0.0.1',
      tls: { protocol: 'TLSv1.3', certificate, verified: true, verifyError: undefined },
    },
    logger: captureLogs().logger,
  });
}

/** Runs the request-headers hook once; resolves with its reply, or undefined when it passed. */
async function authenticate(
  settings: AuthenticationSettings,
  certificate: PeerCertificate,
  authorization?: string,
): Promise<{ reply: LocalReply | undefined; exchange: Exchange }> {
  const exchange = exchangeFrom(certificate);
  const filter = authenticationFilterFactory<ExchangeMessage>(settings).create(exchange, {
    continueRequestMessage: () => assert.fail('authentication holds no message'),
    continueResponseMessage: () => assert.fail('authentication holds no message'),
    reply: () => assert.fail('authentication answers through its hook'),
  });
  const result = await filter!.onRequestHeaders!({ authorization });
  return { reply: result instanceof LocalReply ? result : undefined, exchange };
}

function setup() {
  const fixture = makeVerifierFixture();
  const clock = testClock();
  const revocations = new FakeRevocations();
  const settings: AuthenticationSettings = {
    verifier: fixture.verifierFor(clock),
    certificateRoles: () => [],
    revocations,
  };
  return { fixture, clock, revocations, settings };
}

function answer(reply: LocalReply | undefined) {
  assert.ok(reply !== undefined, 'the exchange was refused');
  const { code, httpStatus, grpcStatus, message } = reply.error;
  return { code, httpStatus, grpcStatus, message, detail: reply.detail };
}

test('passes a caller whose certificate and token nothing revokes', async () => {
  const { fixture, clock, settings } = setup();

  const { reply, exchange } = await authenticate(
    settings,
    fixture.client,
    await fixture.bearer(clock),
  );

  assert.equal(reply, undefined);
  assert.equal(exchange.identity?.token?.tokenId, 'token-1');
});

test('refuses a revoked certificate as a CRL would, before its token is looked at', async () => {
  const { fixture, revocations, settings } = setup();
  revocations.certificates.add(fixture.client.thumbprint);

  const { reply } = await authenticate(settings, fixture.client, 'Bearer not-even-a-token');

  assert.deepEqual(answer(reply), {
    code: 'ERR_CLIENT_CERT_INVALID',
    httpStatus: 401,
    grpcStatus: 16,
    message: 'client certificate is revoked',
    detail: 'client_cert_revoked',
  });
});

test('refuses a token whose jti is revoked, also once the verifier remembers it', async () => {
  const { fixture, clock, revocations, settings } = setup();
  const bearer = await fixture.bearer(clock);
  const before = await authenticate(settings, fixture.client, bearer);
  revocations.tokens.add('token-1');

  const remembered = settings.verifier!.verifyCached(bearer, fixture.client);
  const { reply } = await authenticate(settings, fixture.client, bearer);
  const fresh = await authenticate(
    settings,
    fixture.client,
    await fixture.bearer(clock, {
      jti: 'token-2',
    }),
  );

  assert.equal(before.reply, undefined);
  assert.ok(remembered !== undefined, 'the second request is answered from the cache');
  assert.deepEqual(answer(reply), {
    code: 'ERR_TOKEN_INVALID',
    httpStatus: 401,
    grpcStatus: 16,
    message: 'token is revoked',
    detail: 'token_revoked',
  });
  assert.deepEqual(reply!.httpHeaders, [
    [
      'www-authenticate',
      'Bearer realm="infergate", error="invalid_token", error_description="token is revoked"',
    ],
  ]);
  assert.equal(fresh.reply, undefined, 'another token of the same certificate passes');
});

test('refuses every caller while the list is stale, with 503 and its own detail', async () => {
  const { fixture, clock, revocations, settings } = setup();
  revocations.stale = true;

  const { reply } = await authenticate(settings, fixture.client, await fixture.bearer(clock));
  const certificateOnly = await authenticate(
    { ...settings, verifier: undefined },
    fixture.otherCertificate,
  );

  const expected = {
    code: 'ERR_IDENTITY_UNAVAILABLE',
    httpStatus: 503,
    grpcStatus: 14,
    message: 'revocations cannot be checked now',
    detail: 'revocations_unavailable',
  };
  assert.deepEqual(answer(reply), expected);
  assert.deepEqual(answer(certificateOnly.reply), expected);
});

test('without revocations a verified caller passes as before', async () => {
  const { fixture, clock, settings } = setup();

  const { reply } = await authenticate(
    { ...settings, revocations: undefined },
    fixture.client,
    await fixture.bearer(clock),
  );

  assert.equal(reply, undefined);
});
