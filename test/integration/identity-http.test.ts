// Identity on the HTTP listener and the admin token endpoint through real TLS: the official
// OpenAI SDK passes its token as the API key over a connection with a client certificate.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import OpenAI from 'openai';
import { Agent, fetch, request } from 'undici';
import { startDemoHttpServer } from '../../src/demo/demo-http-server';
import { startTestGateway } from '../fixtures/gateway-fixture';
import { splitAddress } from '../fixtures/http-client';
import {
  makeTestIdentity,
  type TestIdentity,
  type TestClientName,
} from '../fixtures/identity-fixture';

/** A gateway on the test identity in front of the demo HTTP server. */
async function secureGateway(
  t: TestContext,
  extraAuth: (identity: TestIdentity) => Record<string, unknown> = () => ({}),
) {
  const identity = makeTestIdentity(t);
  const demo = await startDemoHttpServer({ tokenDelayMs: 0 });
  t.after(() => demo.close());
  const under = await startTestGateway(t, {
    upstreams: [{ name: 'demo-http', address: `http://${demo.address}` }],
    ...identity.sections(extraAuth(identity)),
  });
  const [, port] = splitAddress(under.gateway.addresses.http);
  const [, adminPort] = splitAddress(under.gateway.addresses.admin);
  return {
    identity,
    ...under,
    base: `https://localhost:${port}`,
    admin: `https://localhost:${adminPort}`,
  };
}

/** An undici agent that trusts the test CA and, for a named client, presents its certificate. */
function agentFor(t: TestContext, identity: TestIdentity, client?: TestClientName): Agent {
  const material: { cert?: string; key?: string } =
    client === undefined ? {} : identity.clients[client];
  const agent = new Agent({
    connect: { ca: identity.caPem, cert: material.cert, key: material.key },
  });
  t.after(() => agent.close());
  return agent;
}

/** The OpenAI SDK on a TLS connection as `client`, sending `token` as its API key. */
function openaiAs(
  t: TestContext,
  base: string,
  identity: TestIdentity,
  client: TestClientName | undefined,
  token: string,
) {
  const dispatcher = agentFor(t, identity, client);
  return new OpenAI({
    baseURL: `${base}/v1`,
    apiKey: token,
    maxRetries: 0,
    fetch: ((url: string, init: RequestInit) =>
      fetch(url, { ...init, dispatcher } as never)) as never,
  });
}

const MESSAGES = [{ role: 'user' as const, content: 'hello' }];

test('the OpenAI SDK calls through with a bound token as its API key', async (t) => {
  const { identity, base, logs } = await secureGateway(t);
  const client = openaiAs(t, base, identity, 'alice', await identity.token('alice', ['chat']));

  const answer = await client.chat.completions.create({
    model: 'echo',
    messages: MESSAGES,
    max_tokens: 16,
  });

  assert.equal(answer.choices[0]?.message.content, 'hello');
  const access = await logs.waitFor((line) => line.msg === 'access');
  assert.equal(access.subject, 'alice');
  assert.equal(access.role, 'chat');
});

/** Alice chats over a new connection with a fresh chat token: the gateway still serves. */
async function aliceChats(
  t: TestContext,
  setup: Awaited<ReturnType<typeof secureGateway>>,
): Promise<string | null | undefined> {
  const token = await setup.identity.token('alice', ['chat']);
  const client = openaiAs(t, setup.base, setup.identity, 'alice', token);
  const reply = await client.chat.completions.create({
    model: 'echo',
    messages: MESSAGES,
    max_tokens: 8,
  });
  return reply.choices[0]?.message.content;
}

/** Calls chat as `client` with `token` and returns the SDK's error. */
async function chatError(
  t: TestContext,
  setup: Awaited<ReturnType<typeof secureGateway>>,
  client: TestClientName | undefined,
  token: string,
  body: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {},
): Promise<InstanceType<typeof OpenAI.APIError>> {
  const sdk = openaiAs(t, setup.base, setup.identity, client, token);
  try {
    await sdk.chat.completions.create({
      model: 'echo',
      messages: MESSAGES,
      max_tokens: 16,
      ...body,
    });
  } catch (err) {
    if (err instanceof OpenAI.APIError) return err;
    throw err;
  }
  return assert.fail('the call should fail');
}

test('answers 401 for a missing or invalid client certificate, in the OpenAI error shape', async (t) => {
  const setup = await secureGateway(t);
  const token = await setup.identity.token('alice', ['chat']);

  const missing = await chatError(t, setup, undefined, token);
  const expired = await chatError(t, setup, 'expired', token);
  const revoked = await chatError(t, setup, 'revoked', token);
  const stranger = await chatError(t, setup, 'stranger', token);

  for (const [error, code, message] of [
    [missing, 'client_cert_missing', 'a client certificate is required'],
    [expired, 'client_cert_invalid', 'client certificate has expired'],
    [revoked, 'client_cert_invalid', 'client certificate is revoked'],
    [stranger, 'client_cert_invalid', 'client certificate is not issued by a trusted CA'],
  ] as const) {
    assert.equal(error.status, 401);
    assert.equal(error.code, code);
    assert.equal(error.message, `401 ${message}`);
  }
});

test('answers 401 with a Bearer challenge for a missing, invalid or unbound token', async (t) => {
  const setup = await secureGateway(t);
  const dispatcher = agentFor(t, setup.identity, 'alice');
  const url = `${setup.base}/v1/models`;
  const stolen = await setup.identity.tokenBoundTo('bob', ['chat']);

  const none = await request(url, { dispatcher });
  const bad = await request(url, { dispatcher, headers: { authorization: 'Bearer a.b.c' } });
  const unbound = await request(url, {
    dispatcher,
    headers: { authorization: `Bearer ${stolen}` },
  });

  assert.equal(none.statusCode, 401);
  assert.equal(none.headers['www-authenticate'], 'Bearer realm="infergate"');
  assert.equal(
    ((await none.body.json()) as { error: { code: string } }).error.code,
    'token_missing',
  );
  assert.equal(bad.statusCode, 401);
  assert.match(
    String(bad.headers['www-authenticate']),
    /^Bearer realm="infergate", error="invalid_token", error_description="token /,
  );
  await bad.body.dump();
  assert.equal(unbound.statusCode, 401);
  const body = (await unbound.body.json()) as { error: { code: string; message: string } };
  assert.deepEqual(
    [body.error.code, body.error.message],
    ['token_not_bound', 'token is bound to another certificate'],
  );
});

test('answers 403 for a role without the model, without the operation, or over its limits', async (t) => {
  const setup = await secureGateway(t);
  const chat = await setup.identity.token('alice', ['chat']);
  const reader = await setup.identity.token('alice', ['reader']);

  const model = await chatError(t, setup, 'alice', chat, { model: 'llama' });
  const operation = await chatError(t, setup, 'alice', reader);
  const limit = await chatError(t, setup, 'alice', chat, { max_tokens: 500 });
  const listed = await openaiAs(t, setup.base, setup.identity, 'alice', reader).models.list();

  assert.deepEqual(
    [model.status, model.code, model.message],
    [403, 'role_lacks_model', '403 no role grants model "llama"'],
  );
  assert.deepEqual([operation.status, operation.code], [403, 'role_lacks_operation']);
  assert.equal(operation.message, '403 no role grants chat on model "echo"');
  assert.deepEqual([limit.status, limit.code], [403, 'max_tokens_exceeded']);
  assert.equal(limit.message, '403 max_tokens 500 is above 100, the limit of role "chat"');
  assert.ok(listed.data.length > 0);
});

test('the token endpoint issues a token bound to the caller certificate', async (t) => {
  const setup = await secureGateway(t, () => ({
    certificateRoles: [{ uri: 'spiffe://test.infergate/alice', roles: ['chat'] }],
  }));
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const post = (client: TestClientName | undefined, body: string) =>
    request(`${setup.admin}/token`, {
      method: 'POST',
      headers: form,
      body,
      dispatcher: agentFor(t, setup.identity, client),
    });

  const issued = await post('alice', 'grant_type=client_credentials');
  const answer = (await issued.body.json()) as Record<string, unknown>;
  const anonymous = await post(undefined, 'grant_type=client_credentials');
  const unmapped = await post('bob', 'grant_type=client_credentials');
  const wrongGrant = await post('alice', 'grant_type=password');

  assert.equal(issued.statusCode, 200);
  assert.equal(issued.headers['cache-control'], 'no-store');
  assert.equal(answer.token_type, 'Bearer');
  assert.equal(answer.expires_in, 600);
  const token = String(answer.access_token);
  const chat = openaiAs(t, setup.base, setup.identity, 'alice', token);
  const reply = await chat.chat.completions.create({
    model: 'echo',
    messages: MESSAGES,
    max_tokens: 16,
  });
  assert.equal(reply.choices[0]?.message.content, 'hello');
  const elsewhere = await chatError(t, setup, 'bob', token);
  assert.equal(elsewhere.code, 'token_not_bound');
  assert.equal(anonymous.statusCode, 401);
  assert.equal(((await anonymous.body.json()) as { error: string }).error, 'invalid_client');
  assert.equal(unmapped.statusCode, 400);
  assert.equal(((await unmapped.body.json()) as { error: string }).error, 'unauthorized_client');
  assert.equal(wrongGrant.statusCode, 400);
  assert.equal(
    ((await wrongGrant.body.json()) as { error: string }).error,
    'unsupported_grant_type',
  );
});

test('the admin listener serves health and keys to anyone, certificates to clients', async (t) => {
  const setup = await secureGateway(t);
  const dispatcher = agentFor(t, setup.identity);

  const ready = await request(`${setup.admin}/readyz`, { dispatcher });
  const jwks = await request(`${setup.admin}/.well-known/jwks.json`, { dispatcher });
  const other = await request(`${setup.admin}/certificates`, { dispatcher });
  const listed = await request(`${setup.admin}/certificates`, {
    dispatcher: agentFor(t, setup.identity, 'alice'),
  });

  assert.equal(ready.statusCode, 200);
  await ready.body.dump();
  const keys = (await jwks.body.json()) as { keys: { kty: string; d?: string }[] };
  assert.equal(keys.keys[0]?.kty, 'OKP');
  assert.equal(keys.keys[0]?.d, undefined);
  assert.equal(other.statusCode, 401);
  await other.body.dump();
  const { certificates } = (await listed.body.json()) as {
    certificates: { role: string; subject: string; daysLeft: number }[];
  };
  assert.deepEqual(
    certificates.map(({ role, subject, daysLeft }) => [role, subject, daysLeft]),
    [
      ['server', 'CN=localhost', 89],
      ['client-ca', 'CN=identity test CA', 3649],
    ],
  );
});

test('the token endpoint exchanges an ID token for a bound token with its groups as roles', async (t) => {
  const provider = await generateKeyPair('EdDSA');
  const publicJwk = { ...(await exportJWK(provider.publicKey)), kid: 'idp-1', alg: 'EdDSA' };
  const setup = await secureGateway(t, (identity) => {
    const jwksFile = path.join(identity.dir, 'idp-jwks.json');
    fs.writeFileSync(jwksFile, JSON.stringify({ keys: [publicJwk] }));
    const issuer = 'https://login.test';
    const audience = 'infergate-token-endpoint';
    return { tokenExchange: { issuer, audience, jwksFile, rolesClaim: 'groups' } };
  });
  const idToken = (key: Parameters<SignJWT['sign']>[0]) =>
    new SignJWT({ groups: ['chat', 'payroll-admins'] })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'idp-1' })
      .setIssuer('https://login.test')
      .setAudience('infergate-token-endpoint')
      .setSubject('carol@example.com')
      .setExpirationTime('5m')
      .sign(key);
  const exchange = (
    subjectToken: string,
    tokenType = 'urn:ietf:params:oauth:token-type:id_token',
  ) =>
    request(`${setup.admin}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: subjectToken,
        subject_token_type: tokenType,
      }).toString(),
      dispatcher: agentFor(t, setup.identity, 'bob'),
    });

  const issued = await exchange(await idToken(provider.privateKey));
  const answer = (await issued.body.json()) as Record<string, string>;
  const forged = await exchange(await idToken((await generateKeyPair('EdDSA')).privateKey));
  const wrongType = await exchange(
    await idToken(provider.privateKey),
    'urn:ietf:params:oauth:token-type:jwt',
  );

  assert.equal(issued.statusCode, 200, JSON.stringify(answer));
  assert.equal(answer.issued_token_type, 'urn:ietf:params:oauth:token-type:access_token');
  const claims = decodeJwt(answer.access_token!);
  assert.equal(claims.sub, 'carol@example.com');
  assert.deepEqual(claims.roles, ['chat']);
  assert.deepEqual(claims.cnf, { 'x5t#S256': setup.identity.clients.bob.peer.thumbprint });
  const chat = openaiAs(t, setup.base, setup.identity, 'bob', answer.access_token!);
  const reply = await chat.chat.completions.create({
    model: 'echo',
    messages: MESSAGES,
    max_tokens: 8,
  });
  assert.equal(reply.choices[0]?.message.content, 'hello');
  assert.equal(forged.statusCode, 400);
  assert.equal(((await forged.body.json()) as { error: string }).error, 'invalid_grant');
  assert.equal(wrongType.statusCode, 400);
  assert.equal(((await wrongType.body.json()) as { error: string }).error, 'invalid_request');
});

test('closes connections that send bytes which are not TLS, and keeps serving', async (t) => {
  const setup = await secureGateway(t);
  const ports = [
    setup.gateway.addresses.grpc,
    setup.gateway.addresses.http,
    setup.gateway.addresses.admin,
  ];

  for (const address of ports) {
    const [host, port] = splitAddress(address);
    const socket = net.connect(port, host === '0.0.0.0' ? '127.0.0.1' : host);
    socket.on('error', () => undefined);
    socket.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n\x16\x03\x01\x00\x05hello');
    await new Promise((resolve) => socket.once('close', resolve));
  }
  const reply = await aliceChats(t, setup);

  assert.equal(reply, 'hello');
  assert.ok(
    !setup.logs.lines.some((line) => (line.level ?? 0) >= 50),
    'nothing logged as an error',
  );
});

test('a client that asks to renegotiate TLS 1.2 is refused, and others are served', async (t) => {
  const setup = await secureGateway(t);
  const [host, port] = splitAddress(setup.gateway.addresses.http);
  const { cert, key } = setup.identity.clients.alice;
  const socket = tls.connect({
    host,
    port,
    servername: 'localhost',
    ca: setup.identity.caPem,
    cert,
    key,
    maxVersion: 'TLSv1.2',
  });
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('secureConnect', resolve));

  // Each renegotiation would cost the server a handshake, as often as a client asks.
  const outcome = await new Promise<string>((resolve) => {
    socket.once('error', (err) => resolve(err.message));
    socket.renegotiate({}, (err) => resolve(err === null ? 'renegotiated' : err.message));
  });
  socket.destroy();
  const reply = await aliceChats(t, setup);

  assert.match(outcome, /no renegotiation/);
  assert.equal(reply, 'hello');
});
