// The secured target as the benchmark starts and drives it: a real demo server and gateway child
// with mTLS and tokens, the bench's own clients over TLS, and its new scenarios against both.

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { httpChatScenario } from '../../bench/http-chat-scenario';
import { treeRssBytes } from '../../bench/process-memory';
import { BenchProcesses } from '../../bench/processes';
import { rssStreamsScenario } from '../../bench/rss-streams-scenario';
import type { TargetClients } from '../../bench/scenario';
import { closeTargetClients, openTargetClients } from '../../bench/target-clients';
import { startTargets, type Targets } from '../../bench/target-processes';
import { BenchTempDirs } from '../../bench/temp-dirs';
import { tlsHandshakeScenario } from '../../bench/tls-handshake-scenario';
import { unaryScenario } from '../../bench/unary-scenario';

/** Long enough for a few calls on a busy machine; the figures are not what is tested. */
const ROUND_MS = 300;

/** The demo server and the secured gateway, started as a run starts them, stopped in t.after. */
async function startSecured(t: TestContext): Promise<Targets> {
  const processes = new BenchProcesses();
  const tempDirs = new BenchTempDirs();
  t.after(async () => {
    await processes.stopAll();
    await tempDirs.removeAll();
  });
  const options = { logLevel: 'info', progress: () => undefined, tempDirs };
  return startTargets(processes, ['direct', 'secured'], options);
}

/** The clients of the secured target, closed in t.after. */
async function securedClients(t: TestContext, targets: Targets): Promise<TargetClients> {
  const endpoint = targets.endpoints.find((candidate) => candidate.target === 'secured')!;
  const pid = targets.pids.get('securedGateway')!;
  const clients = await openTargetClients(endpoint, 2, 2, () => treeRssBytes(pid));
  t.after(() => closeTargetClients(clients));
  return clients;
}

test('the secured gateway serves every kind of scenario over mTLS with a token', async (t) => {
  const targets = await startSecured(t);
  const clients = await securedClients(t, targets);
  assert.ok(clients.access.credentials !== undefined, 'the secured target has credentials');

  for (const scenario of [unaryScenario(2), httpChatScenario(2), tlsHandshakeScenario()]) {
    const samples = await scenario.runRound(clients, ROUND_MS);
    assert.equal(samples.firstError, undefined, scenario.id);
    assert.ok(samples.completed > 0, `${scenario.id} completed calls`);
  }
});

test('holds its streams open and reads the gateway process memory meanwhile', async (t) => {
  const targets = await startSecured(t);
  const clients = await securedClients(t, targets);
  const scenario = rssStreamsScenario(20);

  const samples = await scenario.runRound(clients, ROUND_MS);
  const figures = scenario.measure(samples);

  assert.equal(samples.firstError, undefined);
  assert.equal(samples.completed, 20);
  assert.ok(figures.rssOpen! > figures.rssBefore! * 0.5, 'both readings are of one process');
  assert.ok(figures.rssBefore! > 10, 'a Node process takes more than 10 MB');
});

test('refuses new connections without the client certificate or with a wrong token', async (t) => {
  const targets = await startSecured(t);
  const clients = await securedClients(t, targets);
  const credentials = clients.access.credentials!;
  const scenario = tlsHandshakeScenario();

  const cleartext = { ...clients, access: { ...clients.access, credentials: undefined } };
  const wrongToken = {
    ...clients,
    access: { ...clients.access, credentials: { ...credentials, authorization: 'Bearer x.y.z' } },
  };
  const plain = await scenario.runRound(cleartext, ROUND_MS);
  const refused = await scenario.runRound(wrongToken, ROUND_MS);

  assert.equal(plain.completed, 0);
  assert.ok(plain.errors > 0);
  assert.equal(refused.completed, 0);
  assert.equal(refused.firstError, 'GET /health: HTTP 401');
});
