// Slow clients (slowloris): headers or a body that trickle in are cut off at the listener's
// limits with 408, while other clients are served all along.

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { startDemoHttpServer } from '../../src/demo/demo-http-server';
import { startTestGateway } from '../fixtures/gateway-fixture';
import { connectRawHttp, type RawHttpClient } from '../fixtures/http-client';

/** The listener's limits here: short, so the test waits little for them. */
const HEADERS_TIMEOUT_MS = 300;
const REQUEST_TIMEOUT_MS = 400;
/** How often a slow client sends its next byte: well inside every limit. */
const TRICKLE_MS = 20;

const CHAT_BODY = JSON.stringify({ model: 'echo', messages: [{ role: 'user', content: 'hi' }] });
const CHAT = `POST /v1/chat/completions HTTP/1.1\r\nhost: g\r\ncontent-type: application/json\r\ncontent-length: ${CHAT_BODY.length}\r\n\r\n${CHAT_BODY}`;

async function slowGateway(t: TestContext) {
  const demo = await startDemoHttpServer();
  t.after(() => demo.close());
  const { gateway } = await startTestGateway(t, {
    upstreams: [{ name: 'demo-http', address: `http://${demo.address}` }],
    listeners: {
      http: { headersTimeoutMs: HEADERS_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS },
    },
  });
  const connect = async () => {
    const client = await connectRawHttp(gateway.addresses.http);
    t.after(() => client.socket.destroy());
    return client;
  };
  return { connect };
}

/** Sends `text` a byte every TRICKLE_MS, forever, until the connection closes. */
function trickle(client: RawHttpClient, text: string): void {
  let at = 0;
  const timer = setInterval(() => {
    if (at < text.length) client.send(text[at++]!);
  }, TRICKLE_MS);
  void client.closed.then(() => clearInterval(timer));
}

/** A normal chat on a fresh connection; its status line. */
async function chatStatusLine(connect: () => Promise<RawHttpClient>): Promise<string> {
  const client = await connect();
  client.send(CHAT);
  const text = await client.waitFor((received) => /\r\n\r\n[^]*\}$/.test(received));
  return text.slice(0, text.indexOf('\r\n'));
}

test('headers that trickle in are answered 408 at headersTimeoutMs', async (t) => {
  const { connect } = await slowGateway(t);
  const slow = await connect();
  trickle(slow, `GET /health HTTP/1.1\r\nhost: g\r\nx-slow: ${'a'.repeat(1_000)}\r\n\r\n`);

  const served = await chatStatusLine(connect);
  await slow.closed;

  assert.equal(served, 'HTTP/1.1 200 OK', 'another client is served meanwhile');
  assert.match(
    slow.received(),
    /^HTTP\/1\.1 408 [^]*"message":"request not received within 300 ms"/,
  );
});

test('a body that trickles in is answered 408 at requestTimeoutMs', async (t) => {
  const { connect } = await slowGateway(t);
  const slow = await connect();
  const body = `{"model":"echo","prompt":"${'a'.repeat(1_000)}"}`;
  slow.send(`POST /v1/completions HTTP/1.1\r\nhost: g\r\ncontent-length: ${body.length}\r\n\r\n`);
  trickle(slow, body);

  const served = await chatStatusLine(connect);
  await slow.closed;

  assert.equal(served, 'HTTP/1.1 200 OK');
  assert.match(
    slow.received(),
    /^HTTP\/1\.1 408 [^]*"message":"request not received within 400 ms"/,
  );
});

test('a hundred connections that hold half a request each are all closed, and none blocks', async (t) => {
  const { connect } = await slowGateway(t);
  const holders = await Promise.all(Array.from({ length: 100 }, () => connect()));
  for (const holder of holders) holder.send('POST /v1/completions HTTP/1.1\r\nhost: g\r\n');

  const served = await chatStatusLine(connect);
  await Promise.all(holders.map((holder) => holder.closed));

  assert.equal(served, 'HTTP/1.1 200 OK');
  for (const holder of holders) assert.match(holder.received(), /^HTTP\/1\.1 408 /);
});
