// PostgreSQL goes away under a gateway that keeps its audit trail there, and comes back: the
// gateway refuses what it cannot record, then recovers by itself, and the trail verifies with
// every exchange a client saw answered.

import assert from 'node:assert/strict';
import net from 'node:net';
import { test, type TestContext } from 'node:test';
import { readVerifyingKeys } from '../../src/audit/audit-key-directory';
import { verifyAudit } from '../../src/audit/audit-verifier';
import { PostgresAuditSource } from '../../src/audit/postgres-source';
import { startDemoHttpServer } from '../../src/demo/demo-http-server';
import { createAuditDatabase } from '../audit/postgres-fixtures';
import { auditSection } from '../fixtures/audit-fixture';
import { startTestGateway } from '../fixtures/gateway-fixture';
import { chatOutcome as chat, openaiClient } from '../fixtures/chat-outcome';

const POSTGRES_PORT = 5432;

/**
 * A TCP relay to the PostgreSQL server that a test can cut (every connection dropped, new ones
 * refused) and restore on the same port: the database going away and coming back.
 */
async function postgresRelay(t: TestContext) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(POSTGRES_PORT, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return {
    port,
    cut: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
    restore: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)),
  };
}

test('PostgreSQL away: exchanges refused, none answered unrecorded; back: recovery by itself', async (t) => {
  const db = await createAuditDatabase(t);
  const relay = await postgresRelay(t);
  const demo = await startDemoHttpServer({ tokenDelayMs: 0 });
  t.after(() => demo.close());
  const connectionString = `postgres://postgres@127.0.0.1:${relay.port}/${db.name}`;
  const audit = auditSection(t, { files: undefined, postgres: { connectionString } });
  const { gateway, logs } = await startTestGateway(t, {
    upstreams: [{ name: 'demo-http', address: `http://${demo.address}` }],
    audit: audit.section,
  });
  db.defer(() => gateway.close());
  const client = openaiClient(gateway.addresses.http);

  const before = await chat(client, 'before');
  await relay.cut();
  const whileAway = [await chat(client, 'while away 1'), await chat(client, 'while away 2')];
  await logs.waitFor((line) => line.msg === 'audit log cannot be written; refusing new exchanges');
  await relay.restore();
  await logs.waitFor((line) => line.msg === 'audit log writable again');
  const after = await chat(client, 'after');
  await gateway.close();
  const source = new PostgresAuditSource({ connectionString: db.url });
  const recorded: string[] = [];
  const report = await verifyAudit(source, {
    keys: readVerifyingKeys([audit.keys]),
    onFrame: (verdict) => {
      if (verdict.frame?.kind !== 'exchangeStarted') return;
      recorded.push(verdict.frame.body.prompt?.[0]?.text ?? '');
    },
  });

  assert.equal(before, 'before');
  assert.deepEqual(whileAway, ['refused 503 audit_unavailable', 'refused 503 audit_unavailable']);
  assert.equal(after, 'after');
  assert.equal(report.ok, true, JSON.stringify(report));
  for (const answered of ['before', 'after']) assert.ok(recorded.includes(answered), answered);
});
