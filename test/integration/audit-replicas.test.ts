// Two gateways write their chains into one PostgreSQL table; the verifier reads both back.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { readVerifyingKeys } from '../../src/audit/audit-key-directory';
import { PostgresAuditSource } from '../../src/audit/postgres-source';
import { verifyAudit } from '../../src/audit/audit-verifier';
import { startDemoHttpServer } from '../../src/demo/demo-http-server';
import { createAuditDatabase } from '../audit/postgres-fixtures';
import { auditSection } from '../fixtures/audit-fixture';
import { startTestGateway } from '../fixtures/gateway-fixture';
import { splitAddress } from '../fixtures/http-client';

test('replicas on one PostgreSQL table each keep a chain that verifies', async (t) => {
  const db = await createAuditDatabase(t);
  const demo = await startDemoHttpServer({ tokenDelayMs: 0 });
  t.after(() => demo.close());
  const replicas = [];
  for (const logId of ['replica-a', 'replica-b']) {
    const audit = auditSection(t, {
      logId,
      files: undefined,
      postgres: { connectionString: db.url },
    });
    const under = await startTestGateway(t, {
      upstreams: [{ name: 'demo-http', address: `http://${demo.address}` }],
      audit: audit.section,
    });
    db.defer(() => under.gateway.close());
    const [host, port] = splitAddress(under.gateway.addresses.http);
    const client = new OpenAI({ baseURL: `http://${host}:${port}/v1`, apiKey: 'k', maxRetries: 0 });
    replicas.push({ logId, audit, under, client });
  }

  for (const { logId, client } of replicas) {
    for (let i = 0; i < 3; i++) {
      const content = `${logId} asks ${i}`;
      await client.chat.completions.create({
        model: 'echo',
        messages: [{ role: 'user', content }],
      });
    }
  }
  for (const { under } of replicas) await under.gateway.close();
  const source = new PostgresAuditSource({ connectionString: db.url });
  const keys = readVerifyingKeys(replicas.map((replica) => replica.audit.keys));
  const prompts = new Map<string, string[]>();
  const report = await verifyAudit(source, {
    keys,
    onFrame: (verdict) => {
      if (verdict.kind !== 'exchangeStarted' || verdict.frame === undefined) return;
      const frame = verdict.frame;
      if (frame.kind !== 'exchangeStarted') return;
      const texts = prompts.get(verdict.logId) ?? [];
      texts.push(frame.body.prompt?.[0]?.text ?? '');
      prompts.set(verdict.logId, texts);
    },
  });

  assert.equal(report.ok, true, JSON.stringify(report));
  assert.deepEqual(
    report.logs.map((log) => [log.logId, log.unsignedTail]),
    [
      ['replica-a', 0],
      ['replica-b', 0],
    ],
  );
  assert.deepEqual(prompts.get('replica-a'), [
    'replica-a asks 0',
    'replica-a asks 1',
    'replica-a asks 2',
  ]);
  assert.deepEqual(prompts.get('replica-b'), [
    'replica-b asks 0',
    'replica-b asks 1',
    'replica-b asks 2',
  ]);
});
