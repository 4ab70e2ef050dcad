// Who called is in the audit trail: certificate and token identity of allowed exchanges, the
// reason of refused ones, and connections whose TLS handshake failed (PCI DSS 10.2.1.4).

import assert from 'node:assert/strict';
import tls from 'node:tls';
import { test } from 'node:test';
import { Agent, request } from 'undici';
import { startDemoHttpServer } from '../../src/demo/demo-http-server';
import { DECISION_OUTCOME } from '../../src/audit/audit-events';
import { auditSection, framesOf, readFrames, verifyDir } from '../fixtures/audit-fixture';
import { startTestGateway } from '../fixtures/gateway-fixture';
import { splitAddress } from '../fixtures/http-client';
import { makeTestIdentity } from '../fixtures/identity-fixture';

test('allowed and denied exchanges and refused handshakes are recorded with who and why', async (t) => {
  const identity = makeTestIdentity(t);
  const demo = await startDemoHttpServer({ tokenDelayMs: 0 });
  t.after(() => demo.close());
  const audit = auditSection(t);
  const { gateway } = await startTestGateway(t, {
    upstreams: [{ name: 'demo-http', address: `http://${demo.address}` }],
    ...identity.sections(),
    audit: audit.section,
  });
  const [, port] = splitAddress(gateway.addresses.http);
  const alice = identity.clients.alice;
  const agent = new Agent({ connect: { ca: identity.caPem, cert: alice.cert, key: alice.key } });
  t.after(() => agent.close());
  const chat = (authorization: string, limit: object = { max_tokens: 50 }) =>
    request(`https://localhost:${port}/v1/chat/completions`, {
      dispatcher: agent,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({
        model: 'echo',
        messages: [{ role: 'user', content: 'hi' }],
        ...limit,
      }),
    });

  const token = `Bearer ${await identity.token('alice', ['chat'])}`;
  const allowed = await chat(token);
  await allowed.body.text();
  // The chat role caps max_tokens, so a request that states no limit is over it.
  const unlimited = await chat(token, {});
  await unlimited.body.text();
  const denied = await chat('Bearer not-a-token');
  await denied.body.text();
  await refusedHandshake(Number(port));
  await gateway.close();
  const frames = await readFrames(audit.dir);
  const decisions = framesOf(frames, 'decision');
  const started = framesOf(frames, 'exchangeStarted');
  const refused = framesOf(frames, 'sessionRefused');
  const opened = framesOf(frames, 'sessionOpened');

  assert.equal(allowed.statusCode, 200);
  assert.equal(unlimited.statusCode, 403);
  assert.equal(denied.statusCode, 401);
  assert.deepEqual(
    decisions.map((d) => [d.outcome, d.role ?? d.detail]),
    [
      [DECISION_OUTCOME.ALLOWED, 'chat'],
      [DECISION_OUTCOME.DENIED, 'max_tokens_exceeded'],
      [DECISION_OUTCOME.DENIED, 'token_invalid'],
    ],
  );
  assert.equal(started[0]!.identity?.tokenSubject, 'alice');
  assert.deepEqual(started[0]!.identity?.roles, ['chat']);
  assert.equal(started[0]!.identity?.certificate?.thumbprint, alice.peer.thumbprint);
  assert.equal(opened[0]!.certificate?.thumbprint, alice.peer.thumbprint);
  assert.equal(opened[0]!.tlsVersion, 'TLSv1.3');
  assert.equal(refused.length, 1);
  assert.equal(refused[0]!.listener, 'http');
  assert.match(refused[0]!.reason, /^ERR_SSL_|^ECONNRESET$/);
  assert.deepEqual(
    framesOf(frames, 'certificateChanged').map((c) => [c.role, c.certificate.subject]),
    [
      ['server', 'CN=localhost'],
      ['client-ca', 'CN=identity test CA'],
    ],
  );
  assert.equal((await verifyDir(audit.dir, audit.keys)).ok, true);
});

/** A client that offers only TLS 1.0, which no listener accepts: the handshake fails. */
function refusedHandshake(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      port,
      host: '127.0.0.1',
      maxVersion: 'TLSv1',
      minVersion: 'TLSv1',
    });
    socket.on('error', () => resolve());
    socket.on('secureConnect', () => {
      socket.destroy();
      resolve();
    });
  });
}
