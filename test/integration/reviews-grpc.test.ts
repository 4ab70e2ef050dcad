// Just-in-time review on the gRPC listener through real TLS: a held ModelInfer is refused with
// its review id in the message and trailing metadata, and the approved retry naming it in
// metadata passes once.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { startDemoServer } from '../../src/demo/demo-server';
import { createIdGenerator } from '../../src/pipeline/exchange';
import { callUnary } from '../fixtures/grpc-calls';
import { kserveClient, startTestGateway } from '../fixtures/gateway-fixture';
import { makeTestIdentity, TEST_ROLES } from '../fixtures/identity-fixture';

/** A batch of two waits for a reviewer; the chat role allows batches up to 2. */
const RULE = { name: 'batches', when: { roles: ['chat'], batchAbove: 1 }, reviewers: ['reviewer'] };

function inferRequest(batch: number) {
  const elements = Array.from({ length: batch }, () => Buffer.from('hi'));
  return {
    model_name: 'echo',
    inputs: [
      {
        name: 'text_input',
        datatype: 'BYTES',
        shape: [batch],
        contents: { bytes_contents: elements },
      },
    ],
  };
}

test('a held ModelInfer names its review, and a retry naming it passes once', async (t) => {
  const identity = makeTestIdentity(t);
  const demo = await startDemoServer();
  t.after(() => demo.close());
  const reviewer = { models: ['*'], operations: ['metadata'] };
  const { gateway, grpcAddress } = await startTestGateway(
    t,
    {
      upstreams: [{ name: 'demo', address: `grpc://${demo.address}` }],
      ...identity.sections(),
      roles: { ...TEST_ROLES, reviewer },
      reviews: { waitMs: 0, rules: [RULE] },
    },
    {},
    { nextReviewId: createIdGenerator('review') },
  );
  const { key, cert } = identity.clients.alice;
  const ca = Buffer.from(identity.caPem);
  const credentials = grpc.credentials.createSsl(ca, Buffer.from(key), Buffer.from(cert));
  const client = kserveClient(t, grpcAddress.replace('127.0.0.1', 'localhost'), credentials);
  const token = await identity.token('alice', ['chat']);
  const metadata = (reviewId?: string) => {
    const out = new grpc.Metadata();
    out.set('authorization', `Bearer ${token}`);
    if (reviewId !== undefined) out.set('x-infergate-review-id', reviewId);
    return out;
  };
  const bob = {
    subject: 'bob',
    certificateThumbprint: identity.clients.bob.peer.thumbprint,
    roles: ['reviewer'],
  };

  const single = await callUnary(client, 'ModelInfer', inferRequest(1), metadata());
  const held = await callUnary(client, 'ModelInfer', inferRequest(2), metadata());
  const approval = await gateway.reviews!.decide('review-1', {
    reviewer: bob,
    verdict: 'approve',
    reason: 'checked',
    atMs: Date.now(),
  });
  const retry = await callUnary(client, 'ModelInfer', inferRequest(2), metadata('review-1'));
  const again = await callUnary(client, 'ModelInfer', inferRequest(2), metadata('review-1'));

  assert.equal(single.error, undefined);
  assert.equal(held.error?.code, grpc.status.PERMISSION_DENIED);
  assert.match(held.error?.details ?? '', /review review-1/);
  assert.deepEqual(held.error?.metadata.get('x-infergate-review-id'), ['review-1']);
  assert.equal(approval.ok, true);
  assert.equal(retry.error, undefined);
  assert.equal(again.error?.code, grpc.status.PERMISSION_DENIED);
  assert.match(again.error?.details ?? '', /grant_used/);
});
