// Unsealing through the admin listener over mTLS: only the security team's role gets a sealed
// record, each ask is durable in the audit log first, and the record opens only off the gateway.

import assert from 'node:assert/strict';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { Agent, request, type Dispatcher } from 'undici';
import type { SealedRecord, UnsealedEvent } from '../../src/audit/audit-events';
import { unsealOriginal } from '../../src/audit/sealed-original';
import { sealingPrivateKeyFromPem, writeSealingKeyPair } from '../../src/audit/sealing-key';
import { startDemoHttpServer } from '../../src/demo/demo-http-server';
import type { GatewayOptions } from '../../src/gateway';
import {
  auditSection,
  ControlledStore,
  framesOf,
  readFrames,
  verifyDir,
} from '../fixtures/audit-fixture';
import { runCli } from '../fixtures/cli-run';
import { startTestGateway } from '../fixtures/gateway-fixture';
import { splitAddress } from '../fixtures/http-client';
import { makeTestIdentity, TEST_ROLES } from '../fixtures/identity-fixture';

const CARD = '4111 1111 1111 1111';
const PROMPT = `Charge card ${CARD}, CVV 123, for the order.`;
const REASON = 'chargeback dispute 4711';

/** What one POST /audit/unseal got back. */
interface UnsealResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Record<string, unknown>;
}

/**
 * A gateway with identity, audit sealed to a fresh security team key and `security` allowed to
 * unseal, after one chat with a card number through its HTTP listener.
 */
async function unsealGateway(
  t: TestContext,
  auditOverrides: Record<string, unknown> = {},
  options: { store?: (dir: string) => ControlledStore } = {},
) {
  const identity = makeTestIdentity(t);
  const demo = await startDemoHttpServer({ tokenDelayMs: 0 });
  t.after(() => demo.close());
  const team = writeSealingKeyPair(path.join(identity.dir, 'security-team'));
  const audit = auditSection(t, {
    sealingKeyFile: team.publicKeyFile,
    unsealRoles: ['security'],
    ...auditOverrides,
  });
  const store = options.store?.(audit.dir);
  const gatewayOptions: GatewayOptions = store === undefined ? {} : { auditStore: store };
  const { gateway } = await startTestGateway(
    t,
    {
      upstreams: [{ name: 'demo-http', address: `http://${demo.address}` }],
      ...identity.sections(),
      roles: { ...TEST_ROLES, security: { models: ['*'], operations: ['models'] } },
      audit: audit.section,
    },
    {},
    gatewayOptions,
  );
  const alice = identity.clients.alice;
  const agent = new Agent({ connect: { ca: identity.caPem, cert: alice.cert, key: alice.key } });
  t.after(() => agent.close());
  const [, httpPort] = splitAddress(gateway.addresses.http);
  const [, adminPort] = splitAddress(gateway.addresses.admin);

  const chat = await request(`https://localhost:${httpPort}/v1/chat/completions`, {
    dispatcher: agent,
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${await identity.token('alice', ['chat'])}`,
    },
    body: JSON.stringify({
      model: 'echo',
      messages: [{ role: 'user', content: PROMPT }],
      max_tokens: 50,
    }),
  });
  await chat.body.text();
  assert.equal(chat.statusCode, 200);
  const frames = await readFrames(audit.dir);
  const started = frames.find((frame) => frame.kind === 'exchangeStarted')!;
  const finished = frames.find((frame) => frame.kind === 'exchangeFinished')!;

  const unseal = async (
    body: unknown,
    authorization?: string,
    dispatcher: Dispatcher = agent,
    method: Dispatcher.HttpMethod = 'POST',
  ): Promise<UnsealResponse> => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (authorization !== undefined) headers.authorization = authorization;
    const response = await request(`https://localhost:${adminPort}/audit/unseal`, {
      dispatcher,
      method,
      headers,
      body: method === 'POST' ? JSON.stringify(body) : undefined,
    });
    const text = await response.body.text();
    return { status: response.statusCode, headers: response.headers, body: JSON.parse(text) };
  };
  const key = sealingPrivateKeyFromPem(team.privateKeyPem, 'security-team.key.pem');
  return { identity, team, key, audit, gateway, started, finished, unseal, adminPort, store };
}

/** The bytes of a Sealed message as the endpoint answers it, back as a record. */
function sealedFrom(json: unknown): SealedRecord {
  const fields = json as Record<string, string>;
  const bytes = (name: string) => Buffer.from(fields[name]!, 'base64');
  return {
    recipientKeyId: fields.recipientKeyId!,
    ephemeralPublicKey: bytes('ephemeralPublicKey'),
    nonce: bytes('nonce'),
    ciphertext: bytes('ciphertext'),
    tag: bytes('tag'),
  };
}

test('an authorised unseal is recorded first, and its record opens to the original', async (t) => {
  const { identity, key, audit, gateway, started, finished, unseal } = await unsealGateway(t);
  const token = `Bearer ${await identity.token('alice', ['security'])}`;
  const ask = { logId: 'test-gw', sequence: started.sequence, reason: REASON };

  const prompt = await unseal(ask, token);
  const framesAtAnswer = await readFrames(audit.dir);
  const response = await unseal({ ...ask, sequence: finished.sequence }, token);
  await gateway.close();
  const frames = await readFrames(audit.dir);
  const unsealed = framesOf(frames, 'unsealed');
  const body = prompt.body as { exchangeId: string; sealedPrompt: unknown };
  const texts = unsealOriginal(
    key,
    sealedFrom(body.sealedPrompt),
    'test-gw',
    body.exchangeId,
    'prompt',
  );
  const responseBody = response.body as { sealedResponse: unknown; sealedPrompt?: unknown };

  assert.equal(prompt.status, 200);
  assert.deepEqual(Object.keys(prompt.body).sort(), [
    'exchangeId',
    'logId',
    'sealedPrompt',
    'sequence',
  ]);
  assert.equal(prompt.body.logId, 'test-gw');
  assert.equal(prompt.body.sequence, started.sequence);
  assert.equal(body.exchangeId, 'test-1');
  assert.deepEqual(
    texts.map((text) => text.text),
    [PROMPT],
  );
  assert.equal(response.status, 200);
  assert.equal(responseBody.sealedPrompt, undefined);
  assert.ok(responseBody.sealedResponse !== undefined);
  // The Unsealed frame was on disk before the answer left the gateway.
  assert.deepEqual(framesOf(framesAtAnswer, 'unsealed').length, 1);
  assert.equal(unsealed.length, 2);
  assertUnsealedBy(unsealed[0]!, identity.clients.alice.peer.thumbprint, started.sequence);
  assert.equal(unsealed[1]!.sequence, finished.sequence);
  assert.equal((await verifyDir(audit.dir, audit.keys)).ok, true);
});

function assertUnsealedBy(event: UnsealedEvent, thumbprint: string, sequence: number): void {
  assert.equal(event.logId, 'test-gw');
  assert.equal(event.sequence, sequence);
  assert.equal(event.reason, REASON);
  assert.equal(event.actor?.tokenSubject, 'alice');
  assert.equal(event.actor?.certificate?.thumbprint, thumbprint);
  assert.deepEqual(event.actor?.roles, ['security']);
}

test('refuses without token, role or certificate, and a body that is no ask', async (t) => {
  const { identity, audit, gateway, started, unseal } = await unsealGateway(t);
  const ask = { logId: 'test-gw', sequence: started.sequence, reason: REASON };
  const security = `Bearer ${await identity.token('alice', ['security'])}`;
  const bobsToken = `Bearer ${await identity.token('bob', ['security'])}`;
  const certless = new Agent({ connect: { ca: identity.caPem } });
  t.after(() => certless.close());

  const noToken = await unseal(ask);
  const noRole = await unseal(ask, `Bearer ${await identity.token('alice', ['chat'])}`);
  const otherCertificate = await unseal(ask, bobsToken);
  const noCertificate = await unseal(ask, security, certless);
  const badBodies = await Promise.all([
    unseal({ ...ask, sequence: 0 }, security),
    unseal({ ...ask, sequence: 1.5 }, security),
    unseal({ ...ask, reason: '' }, security),
    unseal({ ...ask, reason: 'x'.repeat(501) }, security),
    unseal({ ...ask, logId: '../up' }, security),
    unseal({ ...ask, extra: true }, security),
    unseal([ask], security),
  ]);
  const tooLarge = await unseal({ ...ask, reason: 'x'.repeat(5000) }, security);
  const get = await unseal(undefined, security, undefined, 'GET');
  await gateway.close();
  const frames = await readFrames(audit.dir);

  assert.equal(noToken.status, 401);
  assert.deepEqual(noToken.body, {
    error: { message: 'request carries no bearer token', type: 'unauthorized' },
  });
  assert.equal(noToken.headers['www-authenticate'], 'Bearer realm="infergate"');
  assert.equal(noRole.status, 403);
  assert.equal((noRole.body.error as { type: string }).type, 'forbidden');
  assert.equal(otherCertificate.status, 401);
  assert.equal(noCertificate.status, 401);
  assert.deepEqual(
    badBodies.map((answer) => [answer.status, (answer.body.error as { type: string }).type]),
    Array(7).fill([400, 'invalid_request']),
  );
  assert.equal(tooLarge.status, 413);
  assert.equal(get.status, 405);
  assert.equal(get.headers.allow, 'POST');
  assert.equal(framesOf(frames, 'unsealed').length, 0, 'refusals are not recorded');
});

test('a frame with no sealed record, or no frame, is a 404 once the ask is recorded', async (t) => {
  const { identity, audit, gateway, unseal } = await unsealGateway(t);
  const token = `Bearer ${await identity.token('alice', ['security'])}`;

  // Frame 1 is GatewayStarted: no sealed record in it.
  const unsealedFrame = await unseal({ logId: 'test-gw', sequence: 1, reason: REASON }, token);
  const missing = await unseal({ logId: 'test-gw', sequence: 999_999, reason: REASON }, token);
  const otherLog = await unseal({ logId: 'gw-elsewhere', sequence: 1, reason: REASON }, token);
  await gateway.close();
  const unsealed = framesOf(await readFrames(audit.dir), 'unsealed');

  assert.deepEqual(
    [unsealedFrame, missing, otherLog].map((answer) => answer.status),
    [404, 404, 404],
  );
  assert.deepEqual(unsealedFrame.body, {
    error: { message: 'frame 1 of log test-gw holds no sealed record', type: 'not_found' },
  });
  assert.deepEqual(
    unsealed.map((event) => `${event.logId}/${event.sequence}`),
    ['test-gw/1', 'test-gw/999999', 'gw-elsewhere/1'],
  );
});

test('the endpoint does not exist when no role may unseal', async (t) => {
  const { identity, started, unseal } = await unsealGateway(t, { unsealRoles: [] });
  const token = `Bearer ${await identity.token('alice', ['security'])}`;

  const answer = await unseal(
    { logId: 'test-gw', sequence: started.sequence, reason: REASON },
    token,
  );

  assert.equal(answer.status, 404);
  assert.equal((answer.body.error as { type: string }).type, 'not_found');
});

test('an unseal that cannot be recorded hands nothing out; the ask is stored later', async (t) => {
  const { identity, audit, gateway, started, unseal, store } = await unsealGateway(
    t,
    {},
    { store: (dir) => new ControlledStore(dir) },
  );
  const token = `Bearer ${await identity.token('alice', ['security'])}`;
  store!.failing = 'unsealed';

  const answer = await unseal(
    { logId: 'test-gw', sequence: started.sequence, reason: REASON },
    token,
  );
  store!.failing = undefined;
  // The log keeps the refused frame queued and stores it on its next retry.
  while (framesOf(await readFrames(audit.dir), 'unsealed').length === 0) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await gateway.close();

  assert.equal(answer.status, 503);
  assert.deepEqual(answer.body, {
    error: { message: 'the unseal cannot be recorded in the audit log', type: 'audit_unavailable' },
  });
  assert.equal((await verifyDir(audit.dir, audit.keys)).ok, true);
});

test('infergate audit unseal fetches, records and opens a sealed prompt', async (t) => {
  const { identity, team, audit, gateway, started, adminPort } = await unsealGateway(t);
  const alice = identity.clients.alice;
  const other = writeSealingKeyPair(path.join(identity.dir, 'other-team'));
  const cli = async (keyFile: string, roles: string[]) =>
    runCli(
      'audit',
      'unseal',
      ...['--admin', `localhost:${adminPort}`, '--log', 'test-gw'],
      ...['--sequence', String(started.sequence), '--reason', REASON],
      ...['--sealing-key', keyFile, '--ca', identity.caFile],
      ...['--cert', alice.certFile, '--key', alice.keyFile],
      ...['--token', await identity.token('alice', roles)],
    );

  const opened = await cli(team.privateKeyFile, ['security']);
  const wrongKey = await cli(other.privateKeyFile, ['security']);
  const refused = await cli(team.privateKeyFile, ['chat']);
  const usage = await runCli('audit', 'unseal', '--admin', `localhost:${adminPort}`);
  await gateway.close();
  const unsealed = framesOf(await readFrames(audit.dir), 'unsealed');

  assert.equal(opened.code, 0, opened.stderr);
  assert.match(opened.stdout, /^log: +test-gw$/m);
  assert.match(opened.stdout, /^exchange: +test-1$/m);
  assert.ok(opened.stdout.includes(`original prompt:    ${PROMPT}\n`), opened.stdout);
  assert.equal(wrongKey.code, 1);
  assert.match(wrongKey.stderr, /the sealed prompt does not open with the key given/);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /refused \(403 forbidden\)/);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--log is required/);
  assert.equal(unsealed.length, 2, 'both authorised asks are recorded, the refused one is not');
  assertUnsealedBy(unsealed[0]!, alice.peer.thumbprint, started.sequence);
});
