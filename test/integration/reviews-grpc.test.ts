// Just-in-time review on the gRPC listener through real TLS: a held ModelInfer is refused with
// its review id in the message and trailing metadata, and the approved retry naming it in
// metadata passes once; loading a model waits for a reviewer too.

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
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

/** Alice's KServe client through a gateway whose reviews hold by `rule`, and bob as reviewer. */
async function startGrpcReviewGateway(t: TestContext, rule: object, aliceRoles: string[]) {
  const identity = makeTestIdentity(t);
  const demo = await startDemoServer();
  t.after(() => demo.close());
  const reviewer = { models: ['*'], operations: ['metadata'] };
  const operator = { models: ['*'], operations: ['repository'] };
  const { gateway, grpcAddress } = await startTestGateway(
    t,
    {
      upstreams: [{ name: 'demo', address: `grpc://${demo.address}` }],
      ...identity.sections(),
      roles: { ...TEST_ROLES, reviewer, operator },
      reviews: { waitMs: 0, rules: [rule] },
    },
    {},
    { nextReviewId: createIdGenerator('review') },
  );
  const { key, cert } = identity.clients.alice;
  const ca = Buffer.from(identity.caPem);
  const credentials = grpc.credentials.createSsl(ca, Buffer.from(key), Buffer.from(cert));
  const client = kserveClient(t, grpcAddress.replace('127.0.0.1', 'localhost'), credentials);
  const token = await identity.token('alice', aliceRoles);
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
  const approve = (id: string) =>
    gateway.reviews!.decide(id, {
      reviewer: bob,
      verdict: 'approve',
      reason: 'checked',
      atMs: Date.now(),
    });
  return { client, metadata, approve };
}

test('a held ModelInfer names its review, and a retry naming it passes once', async (t) => {
  const { client, metadata, approve } = await startGrpcReviewGateway(t, RULE, ['chat']);

  const single = await callUnary(client, 'ModelInfer', inferRequest(1), metadata());
  const held = await callUnary(client, 'ModelInfer', inferRequest(2), metadata());
  const approval = await approve('review-1');
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

test('loading a model waits for a reviewer; listing the repository does not', async (t) => {
  const rule = { name: 'model-changes', when: { loadsModels: true }, reviewers: ['reviewer'] };
  const { client, metadata, approve } = await startGrpcReviewGateway(t, rule, ['operator']);
  const load = { model_name: 'echo' };

  const index = await callUnary(client, 'RepositoryIndex', {}, metadata());
  const held = await callUnary(client, 'RepositoryModelLoad', load, metadata());
  const unload = await callUnary(client, 'RepositoryModelUnload', load, metadata());
  await approve('review-1');
  const retry = await callUnary(client, 'RepositoryModelLoad', load, metadata('review-1'));

  assert.equal(index.error, undefined);
  assert.equal(held.error?.code, grpc.status.PERMISSION_DENIED);
  assert.deepEqual(held.error?.metadata.get('x-infergate-review-id'), ['review-1']);
  assert.deepEqual(unload.error?.metadata.get('x-infergate-review-id'), ['review-2']);
  assert.equal(retry.error, undefined);
});
