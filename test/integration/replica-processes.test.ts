// Two gateway processes on one PostgreSQL, as replicas behind a load balancer run: an exchange
// on each lands in one trail that verifies, and a review held on one is approved through the
// other and redeemed on the first.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { Agent, request } from 'undici';
import { initKeyDirectory } from '../../src/audit/audit-key-directory';
import { startDemoHttpServer } from '../../src/demo/demo-http-server';
import { REVIEW_ID_HEADER } from '../../src/filters/review/review-filter';
import { createAuditDatabase } from '../audit/postgres-fixtures';
import { runCli } from '../fixtures/cli-run';
import { startGatewayProcess, type GatewayProcess } from '../fixtures/gateway-process';
import { splitAddress } from '../fixtures/http-client';
import { makeTestIdentity, TEST_ROLES, type TestIdentity } from '../fixtures/identity-fixture';
import { MANY_TOKENS_RULE } from '../reviews/review-fixtures';

/** An mTLS agent for test client `name`, closed after the test. */
function agentOf(t: TestContext, identity: TestIdentity, name: 'alice' | 'bob'): Agent {
  const { cert, key } = identity.clients[name];
  const agent = new Agent({ connect: { ca: identity.caPem, cert, key } });
  t.after(() => agent.close());
  return agent;
}

/** `https://localhost:PORT` of one of `replica`'s listeners, so the certificate's name holds. */
function base(replica: GatewayProcess, listener: 'http' | 'admin'): string {
  return `https://localhost:${splitAddress(replica.addresses[listener]!)[1]}`;
}

test(
  'two gateway processes share one trail and one review table in PostgreSQL',
  { timeout: 60_000 },
  async (t) => {
    const db = await createAuditDatabase(t);
    const identity = makeTestIdentity(t);
    const demo = await startDemoHttpServer({ tokenDelayMs: 0 });
    t.after(() => demo.close());
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'infergate-replicas-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const keys = path.join(dir, 'keys');
    initKeyDirectory(keys);
    const document = (logId: string) => ({
      upstreams: [{ name: 'demo-http', address: `http://${demo.address}` }],
      ...identity.sections(),
      roles: { ...TEST_ROLES, reviewer: { models: ['*'], operations: ['metadata'] } },
      audit: { logId, postgres: { connectionString: db.url }, signingKeyDir: keys },
      reviews: {
        waitMs: 0,
        rules: [MANY_TOKENS_RULE],
        postgres: { connectionString: db.url, table: 'shared_reviews' },
      },
    });
    const first = await startGatewayProcess(t, dir, 'gw-a', document('gw-a'));
    const second = await startGatewayProcess(t, dir, 'gw-b', document('gw-b'));
    db.defer(async () => Promise.all([first.stop('SIGKILL'), second.stop('SIGKILL')]));
    const alice = agentOf(t, identity, 'alice');
    const aliceToken = await identity.token('alice', ['chat']);
    const chat = async (replica: GatewayProcess, maxTokens: number, reviewId?: string) => {
      const response = await request(`${base(replica, 'http')}/v1/chat/completions`, {
        dispatcher: alice,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${aliceToken}`,
          ...(reviewId === undefined ? {} : { [REVIEW_ID_HEADER]: reviewId }),
        },
        body: JSON.stringify({
          model: 'echo',
          messages: [{ role: 'user', content: `hello from ${replica.pid}` }],
          max_tokens: maxTokens,
        }),
      });
      await response.body.dump();
      const named = response.headers[REVIEW_ID_HEADER];
      return { status: response.statusCode, reviewId: typeof named === 'string' ? named : '' };
    };
    const approveOn = async (replica: GatewayProcess, id: string) => {
      const token = await identity.token('bob', ['reviewer']);
      const response = await request(`${base(replica, 'admin')}/reviews/${id}/approve`, {
        dispatcher: agentOf(t, identity, 'bob'),
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ reason: 'checked with the requester' }),
      });
      await response.body.dump();
      return response.statusCode;
    };

    const onFirst = await chat(first, 20);
    const onSecond = await chat(second, 20);
    const held = await chat(first, 80);
    const approved = await approveOn(second, held.reviewId);
    const retry = await chat(first, 80, held.reviewId);
    const again = await chat(second, 80, held.reviewId);
    const exits = [await first.stop(), await second.stop()];
    const verified = await runCli('audit', 'verify', '--pg', db.url, '--keys', keys, '--json');

    assert.deepEqual([onFirst.status, onSecond.status], [200, 200]);
    assert.equal(held.status, 403);
    assert.match(held.reviewId, /^[0-9a-f-]{36}$/);
    assert.equal(approved, 200);
    assert.deepEqual([retry.status, again.status], [200, 403]);
    assert.deepEqual(exits, [0, 0]);
    assert.equal(verified.code, 0, verified.stderr);
    const report = JSON.parse(verified.stdout) as { ok: boolean; logs: { logId: string }[] };
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.logs.map((log) => log.logId),
      ['gw-a', 'gw-b'],
    );
  },
);
