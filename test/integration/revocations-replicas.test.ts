// Two gateways sharing one PostgreSQL revocation table: a certificate or a token revoked through
// the real command is refused by both on the HTTP, gRPC and admin listeners, a withdrawal lets
// it back in, and a table the gateways cannot read makes both refuse everything until it can.

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { decodeJwt } from 'jose';
import { Agent, request } from 'undici';
import { startDemoHttpServer } from '../../src/demo/demo-http-server';
import { startDemoServer } from '../../src/demo/demo-server';
import { isProxyError } from '../../src/errors/proxy-error';
import { createAuditDatabase, type AuditDatabase } from '../audit/postgres-fixtures';
import { runCli } from '../fixtures/cli-run';
import { kserveClient, startTestGateway, type GatewayUnderTest } from '../fixtures/gateway-fixture';
import { callUnary } from '../fixtures/grpc-calls';
import { splitAddress } from '../fixtures/http-client';
import { makeTestIdentity, TEST_ROLES, type TestIdentity } from '../fixtures/identity-fixture';
import type { LogLine } from '../fixtures/log-sink';
import { MANY_TOKENS_RULE } from '../reviews/review-fixtures';

const TABLE = 'infergate_revocations';

/** Short, so a test waits little for a refresh; nothing is asserted about how long it takes. */
const REFRESH_INTERVAL_MS = 50;
const MAX_STALE_MS = 300;

/** Generous: a test fails by its assertions, this only stops one that would wait forever. */
const TEST_TIMEOUT_MS = 60_000;

/** What both replicas share: the identity, the upstreams and the revocation table. */
interface Cluster {
  readonly db: AuditDatabase;
  readonly identity: TestIdentity;
  readonly document: Record<string, unknown>;
  /** The role the replicas read the table as, when not the superuser. */
  readonly role: string | undefined;
}

/**
 * Both demo model servers, and a configuration whose revocations are read every
 * REFRESH_INTERVAL_MS; reviews are on so `/reviews` exists. With `ownRole`, the replicas read
 * as a role of their own, and the table is made first by the command, as the superuser: the
 * role may read it only once a test grants it.
 */
async function makeCluster(t: TestContext, ownRole = false): Promise<Cluster> {
  const db = await createAuditDatabase(t);
  const role = ownRole ? await db.createRole() : undefined;
  if (role !== undefined) await revocations('list', '--pg', db.url);
  const identity = makeTestIdentity(t);
  const http = await startDemoHttpServer({ tokenDelayMs: 0 });
  t.after(() => http.close());
  const kserve = await startDemoServer();
  t.after(() => kserve.close());
  const connectionString = role === undefined ? db.url : db.urlFor(role);
  const document = {
    upstreams: [
      { name: 'demo-http', address: `http://${http.address}` },
      { name: 'demo-grpc', address: `grpc://${kserve.address}` },
    ],
    // Every test client earns `chat` from its certificate, so POST /token grants it a token.
    ...identity.sections({
      certificateRoles: [{ uri: 'spiffe://test.infergate/*', roles: ['chat'] }],
    }),
    roles: { ...TEST_ROLES, reviewer: { models: ['*'], operations: ['metadata'] } },
    reviews: { waitMs: 0, rules: [MANY_TOKENS_RULE] },
    revocations: {
      postgres: { connectionString, table: TABLE },
      refreshIntervalMs: REFRESH_INTERVAL_MS,
      maxStaleMs: MAX_STALE_MS,
    },
  };
  return { db, identity, document, role };
}

/** Starts one replica, closed before the database is dropped. */
async function startReplica(t: TestContext, cluster: Cluster): Promise<GatewayUnderTest> {
  const under = await startTestGateway(t, cluster.document, {}, { upstreamProbeIntervalMs: 50 });
  cluster.db.defer(() => under.gateway.close());
  return under;
}

/** Resolves once both replicas have logged a line `match` accepts. */
async function onBoth(
  replicas: readonly GatewayUnderTest[],
  match: (line: LogLine) => boolean,
): Promise<void> {
  await Promise.all(replicas.map((replica) => replica.logs.waitFor(match)));
}

function applied(value: string) {
  return (line: LogLine) => line.msg === 'revocation applied' && line.value === value;
}

function withdrawn(value: string) {
  return (line: LogLine) => line.msg === 'revocation withdrawn' && line.value === value;
}

/** An mTLS agent for `name`, or one presenting no certificate; closed after the test. */
function agentOf(t: TestContext, identity: TestIdentity, name?: 'alice' | 'bob'): Agent {
  const material = name === undefined ? {} : identity.clients[name];
  const agent = new Agent({ connect: { ca: identity.caPem, ...material } });
  t.after(() => agent.close());
  return agent;
}

interface Reply {
  readonly status: number;
  readonly code: string | undefined;
}

/** `name`'s chat through `replica`'s HTTP listener with `token`; its status and error code. */
async function chat(
  t: TestContext,
  cluster: Cluster,
  replica: GatewayUnderTest,
  name: 'alice' | 'bob',
  token: string,
): Promise<Reply> {
  const [, port] = splitAddress(replica.gateway.addresses.http);
  const response = await request(`https://localhost:${port}/v1/chat/completions`, {
    dispatcher: agentOf(t, cluster.identity, name),
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      model: 'echo',
      messages: [{ role: 'user', content: 'hello' }],
      max_tokens: 10,
    }),
  });
  const body = (await response.body.json()) as { error?: { code?: string } };
  return { status: response.statusCode, code: body.error?.code };
}

/** One request to `replica`'s admin listener as `name`; its status and JSON body. */
async function admin(
  t: TestContext,
  cluster: Cluster,
  replica: GatewayUnderTest,
  name: 'alice' | 'bob' | undefined,
  call: { method: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; body: Record<string, unknown> }> {
  const [, port] = splitAddress(replica.adminAddress);
  const response = await request(`https://localhost:${port}${call.path}`, {
    dispatcher: agentOf(t, cluster.identity, name),
    method: call.method as 'GET',
    headers: call.headers,
    body: call.body,
  });
  return { status: response.statusCode, body: (await response.body.json()) as never };
}

/** `infergate_revocations_fresh` from `replica`'s /metrics, scraped with bob's certificate. */
async function revocationsFresh(t: TestContext, cluster: Cluster, replica: GatewayUnderTest) {
  const [, port] = splitAddress(replica.adminAddress);
  const response = await request(`https://localhost:${port}/metrics`, {
    dispatcher: agentOf(t, cluster.identity, 'bob'),
  });
  const line = (await response.body.text())
    .split('\n')
    .find((each) => each.startsWith('infergate_revocations_fresh '));
  return Number(line?.split(' ')[1]);
}

function tokenRequest() {
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  return { method: 'POST', path: '/token', headers, body: 'grant_type=client_credentials' };
}

async function reviewList(cluster: Cluster, name: 'alice' | 'bob') {
  const token = await cluster.identity.token(name, ['reviewer']);
  return { method: 'GET', path: '/reviews', headers: { authorization: `Bearer ${token}` } };
}

/** Alice's ModelInfer through `replica`'s gRPC listener; the status details, or `ok`. */
async function inferAsAlice(t: TestContext, cluster: Cluster, replica: GatewayUnderTest) {
  const { key, cert } = cluster.identity.clients.alice;
  const credentials = grpc.credentials.createSsl(
    Buffer.from(cluster.identity.caPem),
    Buffer.from(key),
    Buffer.from(cert),
  );
  const address = replica.grpcAddress.replace('127.0.0.1', 'localhost');
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${await cluster.identity.token('alice', ['chat'])}`);
  const outcome = await callUnary(
    kserveClient(t, address, credentials),
    'ModelInfer',
    {
      model_name: 'echo',
      inputs: [
        {
          name: 'text_input',
          datatype: 'BYTES',
          shape: [1],
          contents: { bytes_contents: [Buffer.from('hi')] },
        },
      ],
    },
    metadata,
  );
  if (outcome.error === undefined) return 'ok';
  return `${grpc.status[outcome.error.code]}: ${outcome.error.details}`;
}

async function revocations(...args: string[]): Promise<void> {
  const result = await runCli('revocations', ...args);
  assert.equal(result.code, 0, result.stderr);
}

test(
  'a certificate revoked through the command is refused by both replicas, and only it',
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const cluster = await makeCluster(t);
    const replicas = [await startReplica(t, cluster), await startReplica(t, cluster)];
    const { identity } = cluster;
    const alice = identity.clients.alice;
    const before = await Promise.all(
      replicas.map(async (replica) =>
        chat(t, cluster, replica, 'alice', await identity.token('alice', ['chat'])),
      ),
    );

    await revocations(
      'add',
      '--certificate',
      alice.certFile,
      '--reason',
      'laptop stolen',
      '--pg',
      cluster.db.url,
    );
    await onBoth(replicas, applied(alice.peer.thumbprint));

    for (const replica of replicas) {
      const aliceToken = await identity.token('alice', ['chat']);
      const bobToken = await identity.token('bob', ['chat']);
      assert.deepEqual(await chat(t, cluster, replica, 'alice', aliceToken), {
        status: 401,
        code: 'client_cert_revoked',
      });
      assert.deepEqual(await chat(t, cluster, replica, 'bob', bobToken), {
        status: 200,
        code: undefined,
      });
      assert.equal(
        await inferAsAlice(t, cluster, replica),
        'UNAUTHENTICATED: client certificate is revoked',
      );
    }
    assert.deepEqual(before, [
      { status: 200, code: undefined },
      { status: 200, code: undefined },
    ]);
    const access = replicas[1]!.logs.lines.filter(
      (line) => line.msg === 'access' && line.detail === 'client_cert_revoked',
    );
    assert.ok(access.length >= 2, 'the access lines carry the detail');
  },
);

test(
  'the admin listener gives a revoked certificate no token and no reviews, and bob both',
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const cluster = await makeCluster(t);
    const replicas = [await startReplica(t, cluster), await startReplica(t, cluster)];
    const alice = cluster.identity.clients.alice;
    await revocations(
      'add',
      '--thumbprint',
      alice.peer.thumbprint,
      '--reason',
      'r',
      '--pg',
      cluster.db.url,
    );
    await onBoth(replicas, applied(alice.peer.thumbprint));

    const token = await admin(t, cluster, replicas[0]!, 'alice', tokenRequest());
    const reviews = await admin(
      t,
      cluster,
      replicas[1]!,
      'alice',
      await reviewList(cluster, 'alice'),
    );
    const bobToken = await admin(t, cluster, replicas[0]!, 'bob', tokenRequest());
    const bobReviews = await admin(
      t,
      cluster,
      replicas[1]!,
      'bob',
      await reviewList(cluster, 'bob'),
    );

    assert.deepEqual(token, {
      status: 401,
      body: { error: 'invalid_client', error_description: 'client certificate is revoked' },
    });
    assert.deepEqual(reviews, {
      status: 401,
      body: { error: { message: 'client certificate is revoked', type: 'unauthorized' } },
    });
    assert.equal(bobToken.status, 200);
    assert.equal(bobReviews.status, 200);
    const refused = await replicas[1]!.logs.waitFor(
      (line) => line.msg === 'review request refused',
    );
    assert.deepEqual(
      [refused.why, refused.thumbprint],
      ['client_cert_revoked', alice.peer.thumbprint],
    );
  },
);

test(
  'a token revoked by its jti is refused while a fresh one of the same client passes',
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const cluster = await makeCluster(t);
    const replicas = [await startReplica(t, cluster), await startReplica(t, cluster)];
    const { identity } = cluster;
    const revoked = await identity.token('alice', ['chat']);
    const jti = decodeJwt(revoked).jti!;
    // The first replica remembers the token from here on; the second has never seen it.
    const remembered = await chat(t, cluster, replicas[0]!, 'alice', revoked);

    await revocations(
      'add',
      '--token-id',
      jti,
      '--reason',
      'pasted in a ticket',
      '--pg',
      cluster.db.url,
    );
    await onBoth(replicas, applied(jti));
    const refused = await Promise.all(
      replicas.map((replica) => chat(t, cluster, replica, 'alice', revoked)),
    );
    const fresh = await identity.token('alice', ['chat']);
    const passed = await Promise.all(
      replicas.map((replica) => chat(t, cluster, replica, 'alice', fresh)),
    );
    await revocations(
      'remove',
      '--token-id',
      jti,
      '--reason',
      'wrong token',
      '--pg',
      cluster.db.url,
    );
    await onBoth(replicas, withdrawn(jti));
    const readmitted = await Promise.all(
      replicas.map((replica) => chat(t, cluster, replica, 'alice', revoked)),
    );

    assert.deepEqual(remembered, { status: 200, code: undefined });
    const ok = { status: 200, code: undefined };
    assert.deepEqual(refused, [
      { status: 401, code: 'token_revoked' },
      { status: 401, code: 'token_revoked' },
    ]);
    assert.deepEqual(passed, [ok, ok]);
    assert.deepEqual(readmitted, [ok, ok]);
  },
);

test(
  'a table the replicas cannot read makes both refuse everything until it can be read again',
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const cluster = await makeCluster(t, true);
    const role = cluster.role!;
    await cluster.db.admin.query(`GRANT SELECT ON ${TABLE} TO ${role}`);
    const replicas = [await startReplica(t, cluster), await startReplica(t, cluster)];
    const { identity } = cluster;
    const before = await chat(
      t,
      cluster,
      replicas[0]!,
      'bob',
      await identity.token('bob', ['chat']),
    );

    await cluster.db.admin.query(`REVOKE SELECT ON ${TABLE} FROM ${role}`);
    await onBoth(replicas, (line) => line.msg === 'revocations stale, refusing every exchange');
    const refused = [];
    for (const replica of replicas) {
      refused.push({
        chat: await chat(t, cluster, replica, 'bob', await identity.token('bob', ['chat'])),
        readyz: await admin(t, cluster, replica, undefined, { method: 'GET', path: '/readyz' }),
        token: await admin(t, cluster, replica, 'bob', tokenRequest()),
        reviews: await admin(t, cluster, replica, 'bob', await reviewList(cluster, 'bob')),
        fresh: await revocationsFresh(t, cluster, replica),
      });
    }
    await cluster.db.admin.query(`GRANT SELECT ON ${TABLE} TO ${role}`);
    await onBoth(
      replicas,
      (line) => line.msg === 'revocations refreshed again' && line.wasStale === true,
    );
    const after = await chat(
      t,
      cluster,
      replicas[1]!,
      'bob',
      await identity.token('bob', ['chat']),
    );
    const ready = await admin(t, cluster, replicas[1]!, undefined, {
      method: 'GET',
      path: '/readyz',
    });

    assert.deepEqual(before, { status: 200, code: undefined });
    const message = 'revocations cannot be checked now';
    for (const answers of refused) {
      assert.deepEqual(answers, {
        chat: { status: 503, code: 'revocations_unavailable' },
        readyz: { status: 503, body: { status: 'revocations_unavailable' } },
        token: {
          status: 503,
          body: { error: 'temporarily_unavailable', error_description: message },
        },
        reviews: { status: 503, body: { error: { message, type: 'revocations_unavailable' } } },
        fresh: 0,
      });
    }
    assert.deepEqual(after, { status: 200, code: undefined });
    assert.equal(ready.status, 200);
    assert.equal(ready.body.status, 'ready');
    assert.equal(await revocationsFresh(t, cluster, replicas[1]!), 1);
  },
);

test(
  'a gateway that cannot read its revocations does not start',
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const cluster = await makeCluster(t, true);

    await assert.rejects(startReplica(t, cluster), (err: unknown) => {
      assert.ok(isProxyError(err));
      assert.equal(err.code, 'ERR_IDENTITY_UNAVAILABLE');
      assert.match(err.message, /^cannot load revocations from PostgreSQL /);
      return true;
    });
  },
);
