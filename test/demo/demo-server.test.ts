// Behaviour of the bundled demo model server, through real sockets and a grpc-js client.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { encodeBytesElements, decodeBytesElements } from '../../src/demo/bytes-tensor';
import { loadKserveDefinition } from '../../src/demo/kserve-definition';
import { pickReply, tokenize } from '../../src/demo/reply-script';
import {
  createDemoFixture,
  nextEvent,
  openStream,
  openWatch,
  startUnary,
  streamAll,
  StreamReader,
  unary,
  type Message,
} from './demo-fixture';

const PROMPT = 'What does infergate do?';

/** A typed-contents request to `model` with the given text elements. */
function typedRequest(model: string, texts: string[], extra: object = {}): object {
  return {
    model_name: model,
    inputs: [
      {
        name: 'text_input',
        datatype: 'BYTES',
        shape: [texts.length],
        contents: { bytes_contents: texts.map((text) => Buffer.from(text)) },
      },
    ],
    ...extra,
  };
}

/** A raw-contents request to `model` with the given text elements. */
function rawRequest(model: string, texts: string[], extra: object = {}): object {
  return {
    model_name: model,
    inputs: [{ name: 'text_input', datatype: 'BYTES', shape: [texts.length] }],
    raw_input_contents: [encodeBytesElements(texts.map((text) => Buffer.from(text)))],
    ...extra,
  };
}

interface DecodedResponse {
  id: string;
  model_name: string;
  model_version: string;
  parameters: Record<string, { bool_param?: boolean }>;
  outputs: { name: string; shape: string[]; contents: { bytes_contents: Buffer[] } | null }[];
  raw_output_contents: Buffer[];
}

/** The text elements of a response's first output, whichever form it used. */
function outputTexts(response: DecodedResponse): string[] {
  const raw = response.raw_output_contents[0];
  const elements =
    raw === undefined ? response.outputs[0]?.contents?.bytes_contents : decodeBytesElements(raw);
  return (elements ?? []).map((element) => element.toString());
}

/** Calls ModelInfer and resolves with the decoded response. */
async function infer(client: grpc.Client, request: object): Promise<DecodedResponse> {
  return (await unary(client, 'ModelInfer', request)) as unknown as DecodedResponse;
}

/** The infer_response of stream messages, asserting none carries an error. */
function inferResponses(messages: Message[]): DecodedResponse[] {
  return messages.map((message) => {
    assert.equal(message.error_message, '');
    return message.infer_response as DecodedResponse;
  });
}

function isFinal(response: DecodedResponse): boolean {
  return response.parameters.triton_final_response?.bool_param === true;
}

test('answers every inference and health RPC', async (t) => {
  const { inference, health } = await createDemoFixture(t);

  assert.deepEqual(await unary(inference, 'ServerLive'), { live: true });
  assert.deepEqual(await unary(inference, 'ServerReady'), { ready: true });
  assert.deepEqual(await unary(inference, 'ModelReady', { name: 'demo-chat' }), { ready: true });
  const server = await unary(inference, 'ServerMetadata');
  assert.equal(server.name, 'infergate-demo');
  assert.equal(server.version, '0.1.0');
  const metadata = await unary(inference, 'ModelMetadata', { name: 'demo-chat' });
  assert.deepEqual(metadata.versions, ['1']);
  assert.deepEqual(metadata.inputs, [{ name: 'text_input', datatype: 'BYTES', shape: ['1'] }]);
  const chatConfig = (await unary(inference, 'ModelConfig', { name: 'demo-chat' }))
    .config as Message;
  assert.deepEqual(chatConfig.model_transaction_policy, { decoupled: true });
  const echoConfig = (await unary(inference, 'ModelConfig', { name: 'echo' })).config as Message;
  assert.deepEqual(echoConfig.model_transaction_policy, { decoupled: false });
  const stats = await unary(inference, 'ModelStatistics', { name: '' });
  assert.deepEqual(
    (stats.model_stats as Message[]).map((s) => s.name),
    ['demo-chat', 'echo', 'echo-stream'],
  );
  const index = await unary(inference, 'RepositoryIndex', {});
  assert.deepEqual(
    (index.models as Message[]).map((m) => m.state),
    ['READY', 'READY', 'READY'],
  );
  assert.deepEqual(await unary(health, 'Check', { service: '' }), { status: 'SERVING' });
});

test('keeps shared-memory registrations, trace and log settings', async (t) => {
  const { inference } = await createDemoFixture(t);
  const region = { name: 'r1', key: '/shm1', offset: '0', byte_size: '64' };

  await unary(inference, 'SystemSharedMemoryRegister', region);
  assert.deepEqual(await unary(inference, 'SystemSharedMemoryStatus', { name: 'r1' }), {
    regions: { r1: region },
  });
  await assert.rejects(unary(inference, 'SystemSharedMemoryRegister', region), {
    code: grpc.status.ALREADY_EXISTS,
  });
  await unary(inference, 'SystemSharedMemoryUnregister', { name: '' });
  assert.deepEqual(await unary(inference, 'SystemSharedMemoryStatus', { name: '' }), {
    regions: {},
  });
  const cuda = { name: 'c1', raw_handle: Buffer.from([1, 2]), device_id: '0', byte_size: '8' };
  await unary(inference, 'CudaSharedMemoryRegister', cuda);
  const cudaStatus = await unary(inference, 'CudaSharedMemoryStatus', { name: '' });
  assert.deepEqual(cudaStatus.regions, { c1: { name: 'c1', device_id: '0', byte_size: '8' } });
  await unary(inference, 'CudaSharedMemoryUnregister', { name: 'c1' });
  await assert.rejects(unary(inference, 'CudaSharedMemoryStatus', { name: 'c1' }), {
    code: grpc.status.NOT_FOUND,
  });

  const trace = await unary(inference, 'TraceSetting', {
    settings: { trace_level: { value: ['TIMESTAMPS'] } },
    model_name: 'echo',
  });
  assert.deepEqual((trace.settings as Message).trace_level, { value: ['TIMESTAMPS'] });
  const log = await unary(inference, 'LogSettings', {
    settings: { log_verbose_level: { uint32_param: 2 } },
  });
  const verbose = (log.settings as Record<string, Message>).log_verbose_level;
  assert.equal(verbose?.uint32_param, 2);
});

test('answers demo-chat unary calls with the scripted reply of the prompt', async (t) => {
  const { inference } = await createDemoFixture(t);

  const first = await infer(inference, typedRequest('demo-chat', [PROMPT]));
  const again = await infer(inference, rawRequest('demo-chat', [PROMPT]));

  const expected = pickReply(Buffer.from(PROMPT));
  assert.deepEqual(outputTexts(first), [expected]);
  assert.deepEqual(outputTexts(again), [expected]);
  assert.equal(again.raw_output_contents.length, 1);
});

test('streams one response per token, final only on the last, ids echoed', async (t) => {
  const { inference } = await createDemoFixture(t);
  const tokens = tokenize(pickReply(Buffer.from(PROMPT)));

  const messages = await streamAll(inference, [
    typedRequest('demo-chat', [PROMPT], { id: 'a' }),
    rawRequest('demo-chat', [PROMPT], { id: 'b' }),
  ]);

  for (const id of ['a', 'b']) {
    const responses = inferResponses(messages).filter((response) => response.id === id);
    assert.equal(responses.length, tokens.length);
    assert.deepEqual(responses.map(outputTexts).flat(), tokens);
    assert.deepEqual(
      responses.map(isFinal),
      tokens.map((_, i) => i === tokens.length - 1),
    );
    assert.ok(responses.every((r) => r.model_name === 'demo-chat' && r.model_version === '1'));
  }
});

test('produces exactly demo_tokens tokens and honours max_tokens', async (t) => {
  const { inference } = await createDemoFixture(t);
  const maxInput = { name: 'max_tokens', datatype: 'INT32', shape: [1] };
  const rawMax = rawRequest('demo-chat', [PROMPT]) as {
    inputs: object[];
    raw_input_contents: Buffer[];
  };
  const three = Buffer.alloc(4);
  three.writeInt32LE(3);

  const exact = await streamAll(inference, [
    typedRequest('demo-chat', [PROMPT], { parameters: { demo_tokens: { int64_param: 50 } } }),
  ]);
  const capped = await streamAll(inference, [
    {
      ...rawMax,
      inputs: [...rawMax.inputs, maxInput],
      raw_input_contents: [...rawMax.raw_input_contents, three],
    },
    typedRequest('demo-chat', [PROMPT], {
      id: 'p',
      parameters: { max_tokens: { int64_param: 2 } },
    }),
  ]);

  assert.equal(exact.length, 50);
  assert.deepEqual(inferResponses(exact).map(isFinal).indexOf(true), 49);
  assert.equal(inferResponses(capped).filter((r) => r.id === '').length, 3);
  assert.equal(inferResponses(capped).filter((r) => r.id === 'p').length, 2);
});

test('sends an empty final response when the request asks for one', async (t) => {
  const { inference } = await createDemoFixture(t);
  const parameters = { triton_enable_empty_final_response: { bool_param: true } };

  const responses = inferResponses(
    await streamAll(inference, [typedRequest('demo-chat', [PROMPT], { parameters })]),
  );

  const last = responses.at(-1) as DecodedResponse;
  assert.ok(responses.slice(0, -1).every((response) => !isFinal(response)));
  assert.ok(isFinal(last));
  assert.deepEqual(last.outputs, []);
});

test('echoes raw and typed inputs in the form they came', async (t) => {
  const { inference } = await createDemoFixture(t);
  const texts = ['one', '', 'three'];

  const typed = await infer(inference, typedRequest('echo', texts));
  const raw = await infer(inference, rawRequest('echo', texts));
  const streamed = inferResponses(await streamAll(inference, [rawRequest('echo', texts)]));

  assert.deepEqual(outputTexts(typed), texts);
  assert.deepEqual(typed.raw_output_contents, []);
  assert.deepEqual(outputTexts(raw), texts);
  assert.deepEqual(raw.outputs[0]?.shape, ['3']);
  assert.equal(streamed.length, 1);
  assert.ok(isFinal(streamed[0] as DecodedResponse));
});

test('rejects unknown models and bad inputs, keeping the stream open', async (t) => {
  const { inference } = await createDemoFixture(t);
  const unknownMessage = "Request for unknown model: 'nope' is not found";

  await assert.rejects(unary(inference, 'ModelInfer', typedRequest('nope', [PROMPT])), {
    code: grpc.status.NOT_FOUND,
    details: unknownMessage,
  });
  await assert.rejects(unary(inference, 'ModelInfer', { model_name: 'demo-chat', inputs: [] }), {
    code: grpc.status.INVALID_ARGUMENT,
  });

  const stream = openStream(inference);
  const reader = new StreamReader(stream);
  stream.write(typedRequest('nope', [PROMPT]));
  const [failure] = await reader.take(1);
  stream.write({
    model_name: 'echo',
    inputs: [{ name: 'text_input', datatype: 'INT32', shape: [1] }],
  });
  const [badInput] = await reader.take(1);
  stream.write(typedRequest('echo', ['still open']));
  stream.end();
  const rest = inferResponses(await reader.rest());

  assert.equal(failure?.error_message, unknownMessage);
  assert.match(String(badInput?.error_message), /text_input/);
  assert.deepEqual(rest.map(outputTexts), [['still open']]);
});

test('unloads and reloads models through the repository RPCs', async (t) => {
  const { inference } = await createDemoFixture(t);

  await unary(inference, 'RepositoryModelUnload', { model_name: 'echo' });
  assert.deepEqual(await unary(inference, 'ModelReady', { name: 'echo' }), { ready: false });
  await assert.rejects(unary(inference, 'ModelInfer', typedRequest('echo', ['x'])), {
    code: grpc.status.UNAVAILABLE,
  });
  const readyOnly = await unary(inference, 'RepositoryIndex', { ready: true });
  assert.deepEqual(
    (readyOnly.models as Message[]).map((m) => m.name),
    ['demo-chat', 'echo-stream'],
  );
  await unary(inference, 'RepositoryModelLoad', { model_name: 'echo' });

  const echoed = await infer(inference, typedRequest('echo', ['x']));
  assert.deepEqual(outputTexts(echoed), ['x']);
  await assert.rejects(unary(inference, 'RepositoryModelLoad', { model_name: 'nope' }), {
    code: grpc.status.NOT_FOUND,
  });
});

test('stops generating and emits cancelled when the client cancels', async (t) => {
  const { server, inference, health } = await createDemoFixture(t, { tokenDelayMs: 1_000 });

  const stream = openStream(inference);
  // The cancel fails the client side with CANCELLED; this test checks the server side only.
  stream.on('error', () => undefined);
  const reader = new StreamReader(stream);
  stream.write(typedRequest('demo-chat', [PROMPT], { id: 'c' }));
  await reader.take(1);
  const streamCancelled = nextEvent(server, 'cancelled', 'ModelStreamInfer');
  stream.cancel();
  await streamCancelled;

  const unaryReceived = nextEvent(server, 'request', 'ModelInfer');
  const pending = startUnary(inference, 'ModelInfer', typedRequest('demo-chat', [PROMPT]));
  pending.response.catch(() => undefined); // rejected with CANCELLED by design
  await unaryReceived;
  const unaryCancelled = nextEvent(server, 'cancelled', 'ModelInfer');
  pending.call.cancel();
  await unaryCancelled;

  const watch = openWatch(health, '');
  assert.deepEqual(await new StreamReader(watch).take(1), [{ status: 'SERVING' }]);
  const watchCancelled = nextEvent(server, 'cancelled', 'Watch');
  watch.cancel();
  await watchCancelled;
});

test('emits raw request and response bytes and call metadata', async (t) => {
  const { server, inference } = await createDemoFixture(t);
  const method = loadKserveDefinition().GRPCInferenceService.service.ModelInfer;
  assert.ok(method !== undefined);
  const request = rawRequest('echo', ['bytes'], { id: 'r1' });
  const seen = {
    request: nextEvent(server, 'request', 'ModelInfer'),
    response: nextEvent(server, 'response', 'ModelInfer'),
    metadata: nextEvent(server, 'metadata', 'ModelInfer'),
  };
  const metadata = new grpc.Metadata();
  metadata.set('x-demo-test', 'yes');

  const received = await startUnary(inference, 'ModelInfer', request, metadata).response;

  const [requestBytes] = await seen.request;
  const [responseBytes] = await seen.response;
  const [callMetadata] = await seen.metadata;
  assert.ok(Buffer.isBuffer(requestBytes) && Buffer.isBuffer(responseBytes));
  assert.deepEqual(requestBytes, method.requestSerialize(request));
  assert.deepEqual(method.responseDeserialize(responseBytes), received);
  assert.deepEqual((callMetadata as grpc.Metadata).get('x-demo-test'), ['yes']);
});
