// The admin listener: liveness, readiness and answers for anything else.

import assert from 'node:assert/strict';
import http from 'node:http';
import { test, type TestContext } from 'node:test';
import { AdminListener, type Readiness } from '../../src/listeners/admin-listener';
import { captureLogs } from '../fixtures/log-sink';

/** What one request to the admin listener got back. */
interface AdminResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/**
 * Starts an admin listener on a free loopback port, closed after the test. `readiness.now` is
 * what the gateway says of its readiness, so a test can change it between requests.
 */
async function startAdmin(t: TestContext, readiness: { now: Readiness }) {
  const listener = new AdminListener({
    host: '127.0.0.1',
    port: 0,
    readiness: () => readiness.now,
    logger: captureLogs().logger,
  });
  const address = await listener.listen();
  t.after(() => listener.close());
  assert.notEqual(address.port, 0);
  return { port: address.port };
}

/** Sends one request without connection reuse and reads the whole answer. */
function request(port: number, method: string, path: string): Promise<AdminResponse> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      { host: '127.0.0.1', port, method, path, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

test('answers /healthz with 200 and a JSON status', async (t) => {
  const { port } = await startAdmin(t, { now: { status: 'starting' } });

  const response = await request(port, 'GET', '/healthz');

  assert.equal(response.status, 200);
  assert.equal(response.headers['content-type'], 'application/json');
  assert.equal(response.headers['cache-control'], 'no-store');
  assert.deepEqual(JSON.parse(response.body), { status: 'ok' });
});

test('answers /readyz with 200 when ready and 503 with the reason when not', async (t) => {
  const readiness: { now: Readiness } = { now: { status: 'ready' } };
  const { port } = await startAdmin(t, readiness);

  const ready = await request(port, 'GET', '/readyz');
  readiness.now = { status: 'draining' };
  const draining = await request(port, 'GET', '/readyz?verbose=1');
  readiness.now = { status: 'upstream_unreachable', upstreams: { demo: 'unreachable' } };
  const unreachable = await request(port, 'GET', '/readyz');

  assert.equal(ready.status, 200);
  assert.deepEqual(JSON.parse(ready.body), { status: 'ready' });
  assert.equal(draining.status, 503);
  assert.equal(draining.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(draining.body), { status: 'draining' });
  assert.equal(unreachable.status, 503);
  assert.deepEqual(JSON.parse(unreachable.body), {
    status: 'upstream_unreachable',
    upstreams: { demo: 'unreachable' },
  });
});

test('answers an unknown path with 404 and a JSON error body', async (t) => {
  const { port } = await startAdmin(t, { now: { status: 'ready' } });

  const response = await request(port, 'GET', '/metrics?x=1');

  assert.equal(response.status, 404);
  assert.equal(response.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(response.body), {
    error: { message: 'no admin endpoint at /metrics', type: 'not_found' },
  });
});

test('answers POST with 405 and the methods it allows', async (t) => {
  const { port } = await startAdmin(t, { now: { status: 'ready' } });

  const response = await request(port, 'POST', '/readyz');

  assert.equal(response.status, 405);
  assert.equal(response.headers.allow, 'GET, HEAD');
  assert.deepEqual(JSON.parse(response.body), {
    error: { message: 'only GET and HEAD are served', type: 'method_not_allowed' },
  });
});

test('answers HEAD with the GET status and length but no body', async (t) => {
  const { port } = await startAdmin(t, { now: { status: 'starting' } });

  const get = await request(port, 'GET', '/readyz');
  const head = await request(port, 'HEAD', '/readyz');

  assert.equal(head.status, 503);
  assert.equal(head.body, '');
  assert.equal(head.headers['content-length'], String(Buffer.byteLength(get.body)));
  assert.equal(head.headers['content-type'], 'application/json');
});

test('stops accepting connections once closed', async (t) => {
  const listener = new AdminListener({
    host: '127.0.0.1',
    port: 0,
    readiness: () => ({ status: 'ready' }),
    logger: captureLogs().logger,
  });
  const { port } = await listener.listen();
  t.after(() => listener.close());
  assert.equal((await request(port, 'GET', '/healthz')).status, 200);

  await listener.close();

  await assert.rejects(request(port, 'GET', '/healthz'), { code: 'ECONNREFUSED' });
});
