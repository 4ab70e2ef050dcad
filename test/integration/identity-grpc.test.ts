// Identity on the gRPC listener through real TLS: client certificates, tokens bound to them,
// and roles per model and operation, each refusal with its own status and message.

import assert from 'node:assert/strict';
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import fs from 'node:fs';
import { test, type TestContext } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { calculateJwkThumbprint, exportJWK, SignJWT } from 'jose';
import { startDemoServer } from '../../src/demo/demo-server';
import { callUnary, collectStream } from '../fixtures/grpc-calls';
import { kserveClient, startTestGateway } from '../fixtures/gateway-fixture';
import { makeTestIdentity, type TestClientName } from '../fixtures/identity-fixture';

/** A gateway on the test identity in front of the demo server, and clients for it. */
async function secureGateway(t: TestContext) {
  const identity = makeTestIdentity(t);
  const demo = await startDemoServer();
  t.after(() => demo.close());
  const gateway = await startTestGateway(t, {
    upstreams: [{ name: 'demo', address: `grpc://${demo.address}` }],
    ...identity.sections(),
  });
  const address = gateway.grpcAddress.replace('127.0.0.1', 'localhost');
  const ca = Buffer.from(identity.caPem);
  const clientAs = (name: TestClientName | undefined) => {
    if (name === undefined) return kserveClient(t, address, grpc.credentials.createSsl(ca));
    const { key, cert } = identity.clients[name];
    const credentials = grpc.credentials.createSsl(ca, Buffer.from(key), Buffer.from(cert));
    return kserveClient(t, address, credentials);
  };
  return { identity, gateway, clientAs };
}

function bearer(token: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

function inferRequest(model: string, shape = [1]) {
  const elements = Array.from({ length: shape[0]! }, () => Buffer.from('hi'));
  return {
    model_name: model,
    inputs: [
      { name: 'text_input', datatype: 'BYTES', shape, contents: { bytes_contents: elements } },
    ],
  };
}

/** Expects `outcome` to be the error `code` with exactly `details`. */
function assertStatus(outcome: { error?: grpc.ServiceError }, code: grpc.status, details: string) {
  assert.ok(outcome.error, 'the call should fail');
  assert.equal(grpc.status[outcome.error.code], grpc.status[code]);
  assert.equal(outcome.error.details, details);
}

test('relays a call whose certificate, bound token and role check out, and logs who made it', async (t) => {
  const { identity, gateway, clientAs } = await secureGateway(t);
  const token = await identity.token('alice', ['chat']);

  const outcome = await callUnary(
    clientAs('alice'),
    'ModelInfer',
    inferRequest('echo'),
    bearer(token),
  );

  assert.equal(outcome.error, undefined);
  const access = await gateway.logs.waitFor((line) => line.msg === 'access');
  assert.equal(access.subject, 'alice');
  assert.equal(access.role, 'chat');
  assert.equal(access.certificate, identity.clients.alice.peer.thumbprint);
  assert.ok(!gateway.logs.text().includes(token), 'the token never reaches a log line');
});

const CERTIFICATE_CASES: [TestClientName | undefined, string][] = [
  [undefined, 'a client certificate is required'],
  ['stranger', 'client certificate is not issued by a trusted CA'],
  ['expired', 'client certificate has expired'],
  ['notYetValid', 'client certificate is not yet valid'],
  ['revoked', 'client certificate is revoked'],
];

for (const [client, details] of CERTIFICATE_CASES) {
  test(`refuses ${client ?? 'a client without a certificate'} with UNAUTHENTICATED`, async (t) => {
    const { identity, gateway, clientAs } = await secureGateway(t);
    const token = await identity.token('alice', ['chat']);

    const outcome = await callUnary(
      clientAs(client),
      'ModelInfer',
      inferRequest('echo'),
      bearer(token),
    );

    assertStatus(outcome, grpc.status.UNAUTHENTICATED, details);
    const access = await gateway.logs.waitFor((line) => line.msg === 'access');
    assert.match(String(access.detail), /^client_cert_(missing|invalid)$/);
  });
}

test('refuses a call without a token, and a token bound to another certificate', async (t) => {
  const { identity, clientAs } = await secureGateway(t);
  const stolen = await identity.tokenBoundTo('bob', ['chat']);

  const none = await callUnary(clientAs('alice'), 'ModelInfer', inferRequest('echo'));
  const replayed = await callUnary(
    clientAs('alice'),
    'ModelInfer',
    inferRequest('echo'),
    bearer(stolen),
  );

  assertStatus(none, grpc.status.UNAUTHENTICATED, 'request carries no bearer token');
  assertStatus(replayed, grpc.status.UNAUTHENTICATED, 'token is bound to another certificate');
});

test('refuses a role without the model, without the operation, or over its limits', async (t) => {
  const { identity, clientAs } = await secureGateway(t);
  const client = clientAs('alice');
  const chat = bearer(await identity.token('alice', ['chat']));
  const reader = bearer(await identity.token('alice', ['reader']));

  const otherModel = await callUnary(client, 'ModelInfer', inferRequest('llama'), chat);
  const noInfer = await callUnary(client, 'ModelInfer', inferRequest('echo'), reader);
  const tooLarge = await callUnary(client, 'ModelInfer', inferRequest('echo', [3]), chat);
  const metadata = await callUnary(client, 'ModelMetadata', { name: 'echo' }, reader);

  assertStatus(otherModel, grpc.status.PERMISSION_DENIED, 'no role grants model "llama"');
  assertStatus(noInfer, grpc.status.PERMISSION_DENIED, 'no role grants infer on model "echo"');
  assertStatus(
    tooLarge,
    grpc.status.PERMISSION_DENIED,
    'batch_size 3 is above 2, the limit of role "chat"',
  );
  assert.equal(metadata.error, undefined);
});

test('checks every request of a stream: a later request for another model ends it', async (t) => {
  const { identity, clientAs } = await secureGateway(t);
  const token = await identity.token('alice', ['chat']);
  const call = clientAs('alice').ModelStreamInfer!(bearer(token)) as grpc.ClientDuplexStream<
    unknown,
    unknown
  >;
  const ended = collectStream(call);

  call.write(inferRequest('echo'));
  call.write(inferRequest('llama'));
  const { messages, error } = await ended;

  assert.ok(messages.length <= 1, `at most the echo answer arrives, got ${messages.length}`);
  assert.ok(error);
  assert.equal(error.code, grpc.status.PERMISSION_DENIED);
  assert.equal(error.details, 'no role grants model "llama"');
});

/** Signs `claims` as infergate's issuer would, with header and claims overridable. */
async function craftToken(
  identity: ReturnType<typeof makeTestIdentity>,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
  key: KeyObject = createPrivateKey(fs.readFileSync(identity.issuerKeyFile)),
): Promise<string> {
  const kid = await calculateJwkThumbprint(await exportJWK(createPublicKey(key)));
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: 'infergate',
    aud: 'infergate',
    sub: 'alice',
    iat: now,
    exp: now + 300,
    roles: ['chat'],
    cnf: { 'x5t#S256': identity.clients.alice.peer.thumbprint },
    ...claims,
  })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid, ...header })
    .sign(key);
}

/** An unsigned token (`alg: none`), which no verifier may accept (RFC 8725 §3.1). */
function unsignedToken(claims: Record<string, unknown>): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'at+jwt' })}.${part({ iss: 'infergate', sub: 'alice', ...claims })}.`;
}

test('refuses each kind of bad token with UNAUTHENTICATED and its reason', async (t) => {
  const { identity, clientAs } = await secureGateway(t);
  const client = clientAs('alice');
  const now = Math.floor(Date.now() / 1000);
  const stranger = generateKeyPairSync('ed25519').privateKey;
  const cases: [string, string, string | RegExp][] = [
    [
      'expired',
      await craftToken(identity, { iat: now - 900, exp: now - 600 }),
      'token has expired',
    ],
    ['not yet valid', await craftToken(identity, { nbf: now + 600 }), 'token is not yet valid'],
    [
      'wrong issuer',
      await craftToken(identity, { iss: 'evil' }),
      'token issuer "evil" is not trusted',
    ],
    [
      'wrong audience',
      await craftToken(identity, { aud: 'someone-else' }),
      'token audience "someone-else" is not "infergate"',
    ],
    ['alg none', unsignedToken({ exp: now + 300 }), 'token algorithm "none" is not allowed'],
    [
      'unknown key id',
      await craftToken(identity, {}, { kid: 'retired-key' }),
      'token key id "retired-key" is not a key of issuer "infergate"',
    ],
    [
      'untrusted key',
      await craftToken(identity, {}, {}, stranger),
      /^token (key id "[\w-]+" is not a key of issuer "infergate"|signature does not verify)/,
    ],
    [
      'not bound',
      await craftToken(identity, { cnf: undefined }),
      'token is not bound to a certificate',
    ],
  ];

  for (const [name, token, reason] of cases) {
    const outcome = await callUnary(client, 'ModelInfer', inferRequest('echo'), bearer(token));
    assert.ok(outcome.error, name);
    assert.equal(outcome.error.code, grpc.status.UNAUTHENTICATED, name);
    if (typeof reason === 'string') assert.equal(outcome.error.details, reason, name);
    else assert.match(outcome.error.details, reason, name);
  }
  const good = await craftToken(identity, {});
  assert.equal(
    (await callUnary(client, 'ModelInfer', inferRequest('echo'), bearer(good))).error,
    undefined,
  );
});
