// Random requests to the admin listener over real mTLS, from a reviewer with a valid token and
// with a forged one: every request gets an answer that is no internal error, and the gateway
// keeps serving.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Agent, request } from 'undici';
import { auditSection } from '../fixtures/audit-fixture';
import { startReviewGateway } from '../fixtures/review-gateway';

/** The admin endpoints with the method each takes. */
const ENDPOINTS: readonly (readonly [string, string])[] = [
  ['GET', '/healthz'],
  ['GET', '/readyz'],
  ['GET', '/metrics'],
  ['GET', '/certificates'],
  ['GET', '/.well-known/jwks.json'],
  ['GET', '/reviews'],
  ['GET', '/reviews/review-1'],
  ['POST', '/token'],
  ['POST', '/reviews/review-1/approve'],
  ['POST', '/reviews/review-1/deny'],
  ['POST', '/reviews/%2e%2e/approve'],
  ['POST', '/audit/unseal'],
];

/** Bodies a hostile or broken client may send: bytes, JSON of any shape, form fields. */
const body = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  fc.jsonValue({ maxDepth: 3 }).map((value) => Buffer.from(JSON.stringify(value))),
  fc
    .dictionary(
      fc.constantFrom('reason', 'grant_type', 'log', 'sequence', 'subject_token'),
      fc.string(),
    )
    .map((fields) => Buffer.from(new URLSearchParams(fields).toString())),
);

const hostileRequest = fc.record({
  // Mostly each endpoint with its own method, so most requests reach the handlers.
  endpoint: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...ENDPOINTS) },
    {
      weight: 1,
      arbitrary: fc.tuple(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'),
        fc
          .tuple(fc.constantFrom(...ENDPOINTS), fc.webSegment())
          .map(([[, path], extra]) => `${path}/${extra}`),
      ),
    },
  ),
  contentType: fc.constantFrom(
    'application/json',
    'application/x-www-form-urlencoded',
    'text/plain',
    undefined,
  ),
  forged: fc.boolean(),
  body,
});

test('the admin listener answers every random request and keeps serving', async (t) => {
  const audit = auditSection(t, { unsealRoles: ['reviewer'] });
  const gateway = await startReviewGateway(t, { audit: audit.section });
  const held = await gateway.chat(4_096);
  const bob = gateway.identity.clients.bob;
  const agent = new Agent({
    connect: { ca: gateway.identity.caPem, cert: bob.cert, key: bob.key },
  });
  t.after(() => agent.close());
  const token = await gateway.identity.token('bob', ['reviewer']);

  await fc.assert(
    fc.asyncProperty(hostileRequest, async (hostile) => {
      const authorization = `Bearer ${hostile.forged ? `${token.slice(0, -4)}AAAA` : token}`;
      const [method, path] = hostile.endpoint;
      const response = await request(`https://${gateway.admin}${path}`, {
        dispatcher: agent,
        method,
        headers: {
          authorization,
          ...(hostile.contentType === undefined ? {} : { 'content-type': hostile.contentType }),
        },
        body: method === 'GET' ? undefined : hostile.body,
      });
      await response.body.dump();
      assert.ok(response.statusCode >= 200 && response.statusCode < 600);
      // A 500 is an exception that escaped a handler: a bug, whatever the input.
      assert.notEqual(response.statusCode, 500, `${method} ${path}`);
    }),
    { seed: 20261204, numRuns: 150 },
  );
  const health = await request(`https://${gateway.admin}/healthz`, { dispatcher: agent });
  await health.body.dump();
  const chat = await gateway.chat(8);

  assert.equal(held.status, 403, 'a review is pending for the random decisions to meet');
  assert.equal(health.statusCode, 200);
  assert.equal(chat.status, 200);
});
