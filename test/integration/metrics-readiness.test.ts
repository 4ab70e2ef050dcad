// The admin listener's /metrics and /readyz on a running gateway: Prometheus figures of real
// exchanges over mTLS with no card data in them, and readiness that follows the audit log
// and the upstreams.

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { Agent, request } from 'undici';
import { startDemoHttpServer } from '../../src/demo/demo-http-server';
import { auditSection, ControlledStore } from '../fixtures/audit-fixture';
import { startTestGateway } from '../fixtures/gateway-fixture';
import { splitAddress } from '../fixtures/http-client';
import { makeTestIdentity } from '../fixtures/identity-fixture';

const CARD = '4111 1111 1111 1111';

/** One sample line's value, e.g. `infergate_audit_writable 1`; undefined when absent. */
function sample(exposition: string, line: string): number | undefined {
  const found = exposition.split('\n').find((each) => each.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

test('metrics count exchanges, masking, audit and certificates, and carry no card data', async (t) => {
  const identity = makeTestIdentity(t);
  const audit = auditSection(t);
  const demo = await startDemoHttpServer({ tokenDelayMs: 0 });
  t.after(() => demo.close());
  const { gateway } = await startTestGateway(t, {
    upstreams: [{ name: 'demo-http', address: `http://${demo.address}` }],
    ...identity.sections(),
    audit: audit.section,
  });
  const alice = identity.clients.alice;
  const agent = new Agent({ connect: { ca: identity.caPem, cert: alice.cert, key: alice.key } });
  t.after(() => agent.close());
  const anonymous = new Agent({ connect: { ca: identity.caPem } });
  t.after(() => anonymous.close());
  const [, httpPort] = splitAddress(gateway.addresses.http);
  const [, adminPort] = splitAddress(gateway.addresses.admin);
  const token = await identity.token('alice', ['chat']);
  const chat = async (model: string) => {
    const response = await request(`https://localhost:${httpPort}/v1/chat/completions`, {
      dispatcher: agent,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        model,
        messages: [{ role: 'user', content: `pay ${CARD}` }],
        max_tokens: 20,
      }),
    });
    await response.body.dump();
    return response.statusCode;
  };
  const scrape = async (dispatcher: Agent) => {
    const response = await request(`https://localhost:${adminPort}/metrics`, { dispatcher });
    return {
      status: response.statusCode,
      type: response.headers['content-type'],
      text: await response.body.text(),
    };
  };

  const answered = await chat('echo');
  const refusedModel = await chat(CARD.replaceAll(' ', ''));
  const refused = await scrape(anonymous);
  const { status, type, text } = await scrape(agent);

  assert.deepEqual([answered, refusedModel, refused.status, status], [200, 403, 401, 200]);
  assert.match(String(type), /^text\/plain; version=0\.0\.4/);
  const ok =
    'listener="http",route="default",model="echo",operation="chat.completions",outcome="ok"';
  assert.equal(sample(text, `infergate_exchanges_total{${ok}}`), 1);
  // The role allows `echo` only: the card typed as a model is refused, and labelled `masked`.
  assert.match(
    text,
    /infergate_exchanges_total\{[^}]*model="masked"[^}]*outcome="role_lacks_model"/,
  );
  assert.equal(sample(text, 'infergate_masked_total{direction="prompt",kind="pan"}'), 1);
  assert.equal(
    sample(
      text,
      'infergate_time_to_first_byte_seconds_count{listener="http",operation="chat.completions"}',
    ),
    1,
  );
  assert.ok((sample(text, 'infergate_audit_frames_total') ?? 0) > 0);
  assert.equal(sample(text, 'infergate_audit_writable'), 1);
  assert.match(text, /infergate_certificate_expiry_days\{role="server",/);
  assert.match(text, /infergate_upstream_connections\{upstream="demo-http",state="idle"\}/);
  assert.doesNotMatch(text, /4111|1111 1111/);
});

/** GETs /readyz over cleartext; resolves with the status and the body. */
async function readyz(admin: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await request(`http://${admin}/readyz`);
  return {
    status: response.statusCode,
    body: (await response.body.json()) as Record<string, unknown>,
  };
}

/** Asks /readyz until `until` holds for its answer; the probes run on their own timer. */
async function readyzUntil(
  admin: string,
  until: (answer: Awaited<ReturnType<typeof readyz>>) => boolean,
) {
  for (;;) {
    const answer = await readyz(admin);
    if (until(answer)) return answer;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A cleartext gateway in front of the demo, probing it every 20 ms, audited into `store`. */
async function readinessGateway(t: TestContext, store?: (dir: string) => ControlledStore) {
  const demo = await startDemoHttpServer({ tokenDelayMs: 0 });
  t.after(() => demo.close());
  const audit = auditSection(t);
  const auditStore = store?.(audit.dir);
  const { gateway } = await startTestGateway(
    t,
    {
      upstreams: [{ name: 'demo-http', address: `http://${demo.address}` }],
      audit: audit.section,
    },
    {},
    { upstreamProbeIntervalMs: 20, auditStore },
  );
  const [, port] = splitAddress(gateway.addresses.http);
  return {
    demo,
    store: auditStore,
    admin: gateway.addresses.admin,
    base: `http://127.0.0.1:${port}`,
  };
}

test(
  'readyz turns 503 while an upstream cannot be reached, and back once it can',
  { timeout: 30_000 },
  async (t) => {
    const { demo, admin } = await readinessGateway(t);

    const probed = (answer: { body: Record<string, unknown> }) =>
      (answer.body.upstreams as Record<string, string> | undefined)?.['demo-http'] === 'reachable';
    const ready = await readyzUntil(admin, probed);
    await demo.close();
    const unreachable = await readyzUntil(admin, (answer) => answer.status === 503);

    assert.deepEqual(ready, {
      status: 200,
      body: { status: 'ready', upstreams: { 'demo-http': 'reachable' } },
    });
    assert.deepEqual(unreachable.body, {
      status: 'upstream_unreachable',
      upstreams: { 'demo-http': 'unreachable' },
    });
  },
);

test('readyz turns 503 while the audit log cannot be written', { timeout: 30_000 }, async (t) => {
  const gateway = await readinessGateway(t, (dir) => new ControlledStore(dir));
  const { admin, base } = gateway;
  const store = gateway.store!;
  const before = await readyz(admin);
  store.failing = 'all';

  const chat = await request(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'echo', messages: [{ role: 'user', content: 'hello' }] }),
  });
  await chat.body.dump();
  const failing = await readyz(admin);
  store.failing = undefined;
  const recovered = await readyzUntil(admin, (answer) => answer.status === 200);

  assert.equal(before.status, 200);
  assert.equal(chat.statusCode, 503);
  assert.deepEqual([failing.status, failing.body.status], [503, 'audit_unavailable']);
  assert.equal(recovered.body.status, 'ready');
});
