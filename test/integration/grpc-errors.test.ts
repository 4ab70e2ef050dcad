// How the gRPC path fails: every error reaches the client as a clear status, never a crash.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { startDemoServer } from '../../src/demo/demo-server';
import { encodeGrpcFrame } from '../../src/codecs/grpc-frame-decoder';
import { callUnary, collectStream } from '../fixtures/grpc-calls';
import { kserveClient, rawKserveClient, startTestGateway } from '../fixtures/gateway-fixture';
import { startRawUpstream } from '../fixtures/raw-upstream';

function infer(model: string, text = 'hello') {
  return {
    model_name: model,
    inputs: [
      {
        name: 'text_input',
        datatype: 'BYTES',
        shape: ['1'],
        contents: { bytes_contents: [Buffer.from(text)] },
      },
    ],
  };
}

async function gatewayWithRawUpstream(t: TestContext, listener: Record<string, unknown> = {}) {
  const upstream = await startRawUpstream();
  t.after(() => upstream.close());
  const under = await startTestGateway(t, {
    listeners: { grpc: listener },
    upstreams: [{ name: 'model-a', address: `grpc://${upstream.address}` }],
  });
  return { upstream, ...under };
}

test('answers UNAVAILABLE naming the upstream when it cannot be reached', async (t) => {
  const closed = await startRawUpstream();
  await closed.close();
  const { grpcAddress } = await startTestGateway(t, {
    upstreams: [{ name: 'gone', address: `grpc://${closed.address}` }],
  });

  const outcome = await callUnary(kserveClient(t, grpcAddress), 'ModelInfer', infer('echo'));

  assert.equal(outcome.error?.code, grpc.status.UNAVAILABLE);
  assert.match(outcome.error!.details, /upstream "gone" is unavailable/);
});

test('answers NOT_FOUND naming the model when no route matches', async (t) => {
  const demo = await startDemoServer();
  t.after(() => demo.close());
  const { grpcAddress } = await startTestGateway(t, {
    upstreams: [{ name: 'demo', address: `grpc://${demo.address}` }],
    routes: [{ name: 'echo-only', models: ['echo'], upstream: 'demo' }],
  });

  const outcome = await callUnary(kserveClient(t, grpcAddress), 'ModelInfer', infer('llama-70b'));

  assert.equal(outcome.error?.code, grpc.status.NOT_FOUND);
  assert.equal(outcome.error?.details, 'no route for model "llama-70b"');
});

test('answers an unroutable stream request in the stream and keeps serving the others', async (t) => {
  const demo = await startDemoServer();
  t.after(() => demo.close());
  const { grpcAddress } = await startTestGateway(t, {
    upstreams: [{ name: 'demo', address: `grpc://${demo.address}` }],
    routes: [{ name: 'echo-only', models: ['echo'], upstream: 'demo' }],
  });
  const call = kserveClient(t, grpcAddress).ModelStreamInfer() as grpc.ClientDuplexStream<
    unknown,
    { error_message: string; infer_response: { model_name: string; id: string } | null }
  >;
  const result = collectStream(call);

  call.write({ ...infer('llama-70b'), id: 'lost' });
  call.write(infer('echo'));
  call.end();
  const { messages, status } = await result;

  assert.equal(status.code, grpc.status.OK);
  assert.equal(messages.length, 2);
  assert.equal(messages[0]!.error_message, 'no route for model "llama-70b"');
  assert.equal(messages[0]!.infer_response?.id, 'lost');
  assert.equal(messages[1]!.infer_response?.model_name, 'echo');
});

test('answers INVALID_ARGUMENT to a message that is not protobuf', async (t) => {
  const { grpcAddress, upstream } = await gatewayWithRawUpstream(t);
  let upstreamCalled = false;
  void upstream.nextCall().then(() => (upstreamCalled = true));

  const garbage = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]);
  const outcome = await callUnary(rawKserveClient(t, grpcAddress), 'ModelInfer', garbage);

  assert.equal(outcome.error?.code, grpc.status.INVALID_ARGUMENT);
  assert.equal(upstreamCalled, false);
});

test('answers RESOURCE_EXHAUSTED to a message above the listener limit', async (t) => {
  const { grpcAddress } = await gatewayWithRawUpstream(t, { maxMessageBytes: 1024 });

  const outcome = await callUnary(
    kserveClient(t, grpcAddress),
    'ModelInfer',
    infer('echo', 'x'.repeat(4096)),
  );

  assert.equal(outcome.error?.code, grpc.status.RESOURCE_EXHAUSTED);
  assert.match(outcome.error!.details, /exceeds the limit of 1024 bytes/);
});

test('answers UNIMPLEMENTED to a method outside the relayed services', async (t) => {
  const { grpcAddress } = await gatewayWithRawUpstream(t);
  const client = new grpc.Client(grpcAddress, grpc.credentials.createInsecure());
  t.after(() => client.close());

  const error = await new Promise<grpc.ServiceError>((resolve) =>
    client.makeUnaryRequest(
      '/other.Service/Method',
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.alloc(0),
      (err) => resolve(err!),
    ),
  );

  assert.equal(error.code, grpc.status.UNIMPLEMENTED);
});

test('relays metadata, drops client credentials and adds the upstream credentials', async (t) => {
  const upstream = await startRawUpstream();
  t.after(() => upstream.close());
  const { grpcAddress } = await startTestGateway(
    t,
    {
      upstreams: [
        {
          name: 'model-a',
          address: `grpc://${upstream.address}`,
          credentials: { bearerToken: '${env:MODEL_KEY}', headers: { 'x-team': 'search' } },
        },
      ],
    },
    { MODEL_KEY: 'upstream-secret' },
  );
  const metadata = new grpc.Metadata();
  metadata.set('x-tenant', 'acme');
  metadata.set('trace-bin', Buffer.from([0, 1, 2, 255]));
  metadata.set('authorization', 'Bearer client-key');
  const pending = callUnary(kserveClient(t, grpcAddress), 'ModelInfer', infer('echo'), metadata);

  const call = await upstream.nextCall();
  await call.ended;
  call.stream.respond(
    { ':status': 200, 'content-type': 'application/grpc', 'x-served-by': 'a' },
    { waitForTrailers: true },
  );
  call.stream.on('wantTrailers', () =>
    call.stream.sendTrailers({
      'grpc-status': '9',
      'grpc-message': 'model busy',
      'x-retry-in': '5',
    }),
  );
  call.stream.end();
  const outcome = await pending;

  assert.equal(call.headers['x-tenant'], 'acme');
  assert.equal(
    Buffer.from(String(call.headers['trace-bin']), 'base64').toString('hex'),
    '000102ff',
  );
  assert.equal(call.headers.authorization, 'Bearer upstream-secret');
  assert.equal(call.headers['x-team'], 'search');
  assert.equal(call.headers.te, 'trailers');
  assert.equal(outcome.error?.code, grpc.status.FAILED_PRECONDITION);
  assert.equal(outcome.error?.details, 'model busy');
  assert.deepEqual(outcome.error?.metadata.get('x-retry-in'), ['5']);
  assert.deepEqual(outcome.metadata?.get('x-served-by'), ['a']);
});

test('propagates the deadline upstream and answers DEADLINE_EXCEEDED when it passes', async (t) => {
  const { grpcAddress, upstream } = await gatewayWithRawUpstream(t);
  const pending = callUnary(
    kserveClient(t, grpcAddress),
    'ModelInfer',
    infer('echo'),
    new grpc.Metadata(),
    {
      deadline: Date.now() + 300,
    },
  );

  const call = await upstream.nextCall();
  const outcome = await pending;

  assert.match(String(call.headers['grpc-timeout']), /^\d{1,8}[mu]$/);
  assert.equal(outcome.error?.code, grpc.status.DEADLINE_EXCEEDED);
  assert.equal(await call.closed, http2.constants.NGHTTP2_CANCEL);
});

test('an upstream that resets the stream ends the client call with the mapped status', async (t) => {
  const { grpcAddress, upstream } = await gatewayWithRawUpstream(t);
  const pending = callUnary(kserveClient(t, grpcAddress), 'ModelInfer', infer('echo'));

  const call = await upstream.nextCall();
  call.stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
  call.stream.close(http2.constants.NGHTTP2_CANCEL);
  const outcome = await pending;

  assert.equal(outcome.error?.code, grpc.status.CANCELLED);
});

test('an upstream answering garbage framing gets the client an error status', async (t) => {
  const { grpcAddress, upstream } = await gatewayWithRawUpstream(t);
  const pending = callUnary(kserveClient(t, grpcAddress), 'ModelInfer', infer('echo'));

  const call = await upstream.nextCall();
  call.stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
  call.stream.write(Buffer.from([7, 0, 0, 0, 1, 0]));
  const outcome = await pending;

  assert.equal(outcome.error?.code, grpc.status.INTERNAL);
  assert.equal(outcome.error?.details, 'upstream "model-a" sent a malformed gRPC frame');
  assert.equal(await call.closed, http2.constants.NGHTTP2_CANCEL);
});

test('logs one access line per exchange without payload text', async (t) => {
  const demo = await startDemoServer();
  t.after(() => demo.close());
  const { grpcAddress, logs } = await startTestGateway(t, {
    upstreams: [{ name: 'demo', address: `grpc://${demo.address}` }],
  });

  await callUnary(kserveClient(t, grpcAddress), 'ModelInfer', infer('echo', 'secret prompt text'));
  const line = await logs.waitFor((l) => l.msg === 'access');

  assert.equal(line.operation, 'ModelInfer');
  assert.equal(line.model, 'echo');
  assert.equal(line.route, 'default');
  assert.equal(line.upstream, 'demo');
  assert.equal(line.status, 0);
  assert.equal(line.requestMessages, 1);
  assert.equal(line.responseMessages, 1);
  assert.ok(Number(line.requestBytes) > 0 && Number(line.responseBytes) > 0);
  assert.equal(typeof line.durationMs, 'number');
  assert.equal(logs.text().includes('secret prompt text'), false);
});

test('a frame written by hand with a compressed flag but no encoding is refused', async (t) => {
  const { grpcAddress } = await gatewayWithRawUpstream(t);
  const session = http2.connect(`http://${grpcAddress}`);
  t.after(() => session.close());
  const frame = encodeGrpcFrame(Buffer.from([0x0a, 0x01, 0x61]), true);

  const stream = session.request({
    ':method': 'POST',
    ':path': '/inference.GRPCInferenceService/ModelReady',
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  stream.end(frame);
  const headers = await new Promise<http2.IncomingHttpHeaders>((resolve) =>
    stream.once('response', (received) => resolve(received)),
  );
  stream.resume();

  assert.equal(headers['grpc-status'], String(grpc.status.INVALID_ARGUMENT));
  assert.match(String(headers['grpc-message']), /compressed message without a grpc-encoding/);
});
