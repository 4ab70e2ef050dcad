// Every KServe v2 RPC relayed through the gateway to the demo model server, byte for byte.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { startDemoServer, type DemoServer } from '../../src/demo/demo-server';
import { loadKserveDefinition } from '../../src/demo/kserve-definition';
import { callUnary, collectStream, nextEvent } from '../fixtures/grpc-calls';
import { kserveClient, rawKserveClient, startTestGateway } from '../fixtures/gateway-fixture';

async function demoBehindGateway(t: TestContext, tokenDelayMs = 0) {
  const demo = await startDemoServer({ tokenDelayMs });
  t.after(() => demo.close());
  const under = await startTestGateway(t, {
    upstreams: [{ name: 'demo', address: `grpc://${demo.address}` }],
  });
  return { demo, ...under };
}

function textInfer(model: string, text: string, extra: Record<string, unknown> = {}) {
  return {
    model_name: model,
    id: `req-${model}`,
    inputs: [
      {
        name: 'text_input',
        datatype: 'BYTES',
        shape: ['1'],
        contents: { bytes_contents: [Buffer.from(text)] },
      },
    ],
    ...extra,
  };
}

/** One sample request per unary RPC; load comes after unload so the demo ends as it began. */
const UNARY_SAMPLES: readonly [string, Record<string, unknown>][] = [
  ['ServerLive', {}],
  ['ServerReady', {}],
  ['ModelReady', { name: 'echo' }],
  ['ServerMetadata', {}],
  ['ModelMetadata', { name: 'demo-chat' }],
  ['ModelInfer', textInfer('echo', 'hello through the gateway')],
  ['ModelConfig', { name: 'demo-chat' }],
  ['ModelStatistics', { name: '' }],
  ['RepositoryIndex', { ready: false }],
  ['RepositoryModelUnload', { model_name: 'echo' }],
  ['RepositoryModelLoad', { model_name: 'echo' }],
  ['SystemSharedMemoryRegister', { name: 'region', key: '/shm-key', offset: '0', byte_size: '64' }],
  ['SystemSharedMemoryStatus', { name: '' }],
  ['SystemSharedMemoryUnregister', { name: 'region' }],
  [
    'CudaSharedMemoryRegister',
    { name: 'gpu', raw_handle: Buffer.from([1, 2, 3]), device_id: '0', byte_size: '64' },
  ],
  ['CudaSharedMemoryStatus', { name: '' }],
  ['CudaSharedMemoryUnregister', { name: 'gpu' }],
  ['TraceSetting', { settings: { trace_level: { value: ['TIMESTAMPS'] } }, model_name: '' }],
  ['LogSettings', { settings: { log_info: { bool_param: true } } }],
];

test('relays every unary RPC with request and response bytes unchanged', async (t) => {
  const { demo, grpcAddress } = await demoBehindGateway(t);
  const raw = rawKserveClient(t, grpcAddress);
  const service = loadKserveDefinition().GRPCInferenceService.service;

  for (const [rpc, sample] of UNARY_SAMPLES) {
    const request = service[rpc]!.requestSerialize(sample);
    const seen = nextEvent<[string, Buffer]>(demo.events, 'request', (name) => name === rpc);
    const answered = nextEvent<[string, Buffer]>(demo.events, 'response', (name) => name === rpc);
    const outcome = await callUnary<Buffer>(raw, rpc, request);

    assert.equal(outcome.error, undefined, `${rpc}: ${outcome.error?.message}`);
    assert.deepEqual((await seen)[1], request, `${rpc} request bytes`);
    assert.deepEqual(outcome.response, (await answered)[1], `${rpc} response bytes`);
  }
});

test('relays the health service to the default upstream', async (t) => {
  const { grpcAddress } = await demoBehindGateway(t);
  const { Health } = loadKserveDefinition();
  const client = new Health(grpcAddress, grpc.credentials.createInsecure()) as grpc.Client &
    Record<string, Function>;
  t.after(() => client.close());

  const outcome = await callUnary<{ status: string }>(client, 'Check', { service: '' });

  assert.equal(outcome.response?.status, 'SERVING');
});

test('streams a decoupled model token by token with the final flag on the last response', async (t) => {
  const { grpcAddress } = await demoBehindGateway(t);
  const client = kserveClient(t, grpcAddress);
  const call = client.ModelStreamInfer() as grpc.ClientDuplexStream<unknown, StreamResponse>;
  const result = collectStream(call);

  call.write(
    textInfer('demo-chat', 'tell me a story', {
      parameters: { demo_tokens: { int64_param: '300' } },
    }),
  );
  call.end();
  const { messages, status } = await result;

  assert.equal(status.code, grpc.status.OK);
  assert.equal(messages.length, 300);
  const finals = messages.map((m) => m.infer_response.parameters.triton_final_response?.bool_param);
  assert.deepEqual(finals, [...Array(299).fill(false), true]);
  assert.ok(
    messages.every((m) => m.error_message === '' && m.infer_response.id === 'req-demo-chat'),
  );
});

test('routes each stream request by its own model and interleaves their responses', async (t) => {
  const chat = await startDemoServer();
  const echo = await startDemoServer();
  t.after(() => Promise.all([chat.close(), echo.close()]));
  const { grpcAddress } = await startTestGateway(t, {
    upstreams: [
      { name: 'chat', address: `grpc://${chat.address}` },
      { name: 'echo', address: `grpc://${echo.address}` },
    ],
    routes: [
      { name: 'echo', models: ['echo'], upstream: 'echo' },
      { name: 'rest', default: true, upstream: 'chat' },
    ],
  });
  const chatRequests = nextEvent<[string, Buffer]>(
    chat.events,
    'request',
    (rpc) => rpc === 'ModelStreamInfer',
  );
  const echoRequests = nextEvent<[string, Buffer]>(
    echo.events,
    'request',
    (rpc) => rpc === 'ModelStreamInfer',
  );
  const client = kserveClient(t, grpcAddress);
  const call = client.ModelStreamInfer() as grpc.ClientDuplexStream<unknown, StreamResponse>;
  const result = collectStream(call);

  call.write(
    textInfer('demo-chat', 'first', { parameters: { demo_tokens: { int64_param: '20' } } }),
  );
  call.write(textInfer('echo', 'second'));
  call.end();
  const { messages, status } = await result;
  await Promise.all([chatRequests, echoRequests]);

  assert.equal(status.code, grpc.status.OK);
  const byModel = (model: string) => messages.filter((m) => m.infer_response.model_name === model);
  assert.equal(byModel('demo-chat').length, 20);
  assert.equal(byModel('echo').length, 1);
  const echoed = byModel('echo')[0]!.infer_response;
  const text = echoed.outputs[0]?.contents?.bytes_contents?.[0] ?? echoed.raw_output_contents[0];
  assert.ok(Buffer.from(text!).includes(Buffer.from('second')));
});

test('a cancelled client stream cancels the upstream stream', async (t) => {
  const { demo, grpcAddress } = await demoBehindGateway(t, 60_000);
  const client = kserveClient(t, grpcAddress);
  const call = client.ModelStreamInfer() as grpc.ClientDuplexStream<unknown, StreamResponse>;
  call.on('error', () => undefined);
  const cancelled = nextEvent<[string]>(demo.events, 'cancelled');
  const firstToken = new Promise((resolve) => call.once('data', resolve));

  call.write(
    textInfer('demo-chat', 'a long answer', { parameters: { demo_tokens: { int64_param: '50' } } }),
  );
  await firstToken;
  call.cancel();

  assert.deepEqual(await cancelled, ['ModelStreamInfer']);
});

test('relays an upstream error status and message unchanged', async (t) => {
  const { grpcAddress, demo } = await demoBehindGateway(t);
  const direct = kserveClient(t, demo.address);
  const proxied = kserveClient(t, grpcAddress);

  const expected = await callUnary(direct, 'ModelInfer', textInfer('no-such-model', 'hi'));
  const actual = await callUnary(proxied, 'ModelInfer', textInfer('no-such-model', 'hi'));

  assert.equal(expected.error?.code, grpc.status.NOT_FOUND);
  assert.equal(actual.error?.code, expected.error?.code);
  assert.equal(actual.error?.details, expected.error?.details);
});

/** The ModelStreamInferResponse fields the tests read, as proto-loader decodes them. */
interface StreamResponse {
  error_message: string;
  infer_response: {
    model_name: string;
    id: string;
    parameters: Record<string, { bool_param?: boolean }>;
    outputs: { contents?: { bytes_contents?: Buffer[] } }[];
    raw_output_contents: Buffer[];
  };
}

export type { DemoServer };

test('relays stream request and response messages byte for byte', async (t) => {
  const { demo, grpcAddress } = await demoBehindGateway(t);
  const service = loadKserveDefinition().GRPCInferenceService.service;
  const sent = [
    textInfer('demo-chat', 'first', { parameters: { demo_tokens: { int64_param: '40' } } }),
    textInfer('echo', 'second'),
  ].map((request) => service.ModelStreamInfer!.requestSerialize(request));
  const seen: Buffer[] = [];
  const answered: Buffer[] = [];
  demo.events.on(
    'request',
    (rpc: string, bytes: Buffer) => rpc === 'ModelStreamInfer' && seen.push(bytes),
  );
  demo.events.on(
    'response',
    (rpc: string, bytes: Buffer) => rpc === 'ModelStreamInfer' && answered.push(bytes),
  );
  const call = rawKserveClient(t, grpcAddress).ModelStreamInfer() as grpc.ClientDuplexStream<
    Buffer,
    Buffer
  >;
  const result = collectStream(call);

  for (const request of sent) call.write(request);
  call.end();
  const { messages, status } = await result;

  assert.equal(status.code, grpc.status.OK);
  assert.deepEqual(seen, sent);
  assert.equal(messages.length, 41);
  assert.deepEqual(messages, answered);
});

test('relays a server-streaming health Watch until the client cancels it', async (t) => {
  const { demo, grpcAddress } = await demoBehindGateway(t);
  const { Health } = loadKserveDefinition();
  const client = new Health(grpcAddress, grpc.credentials.createInsecure()) as grpc.Client &
    Record<string, Function>;
  t.after(() => client.close());
  const cancelled = nextEvent<[string]>(demo.events, 'cancelled', (rpc) => rpc === 'Watch');

  const call = client.Watch({ service: '' }) as grpc.ClientReadableStream<{ status: string }>;
  call.on('error', () => undefined);
  const [first] = (await new Promise((resolve) => call.once('data', (m) => resolve([m])))) as [
    { status: string },
  ];
  call.cancel();

  assert.equal(first.status, 'SERVING');
  assert.deepEqual(await cancelled, ['Watch']);
});
