// Card data masked end to end through the gRPC listener: KServe v2 ModelInfer with typed and raw
// BYTES tensors, and ModelStreamInfer with the demo model cutting card numbers across responses.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { startDemoServer } from '../../src/demo/demo-server';
import { bytesElements } from '../codecs/triton-http-fixtures';
import { callUnary, collectStream, nextEvent } from '../fixtures/grpc-calls';
import { kserveClient, startTestGateway } from '../fixtures/gateway-fixture';
import { makeTestIdentity, TEST_ROLES } from '../fixtures/identity-fixture';
import {
  CARD,
  demoBehindGateway,
  MASKED_PROMPT,
  pieceParameters,
  PROMPT,
  rawInfer,
  RESPONSES_ONLY,
  streamedEcho,
  typedInfer,
  type InferResponse,
  type StreamResponse,
} from '../fixtures/kserve-masking';

test('a unary answer in typed bytes_contents reaches the client masked', async (t) => {
  const { client, demo } = await demoBehindGateway(t, RESPONSES_ONLY);
  const seen = nextEvent<[string, Buffer]>(demo.events, 'request', (rpc) => rpc === 'ModelInfer');

  const outcome = await callUnary<InferResponse>(
    client,
    'ModelInfer',
    typedInfer('echo', [PROMPT]),
  );

  assert.equal(outcome.error, undefined);
  assert.ok((await seen)[1].includes(CARD), 'the model saw the card: only responses are masked');
  const output = outcome.response!.outputs[0]!.contents!.bytes_contents;
  assert.deepEqual(output.map(String), [MASKED_PROMPT]);
});

test('a unary answer in raw_output_contents is masked element by element', async (t) => {
  const { client } = await demoBehindGateway(t, RESPONSES_ONLY);
  const texts = [PROMPT, 'then 5555 5555 5555 4444 too'];

  const outcome = await callUnary<InferResponse>(client, 'ModelInfer', rawInfer('echo', texts));

  assert.equal(outcome.error, undefined);
  // Length prefixes are untouched: masking keeps every element's byte length.
  assert.deepEqual(outcome.response!.raw_output_contents, [
    bytesElements([MASKED_PROMPT, 'then **** **** **** 4444 too']),
  ]);
});

test('prompts are masked before the model sees them when a route masks both', async (t) => {
  const { client, demo } = await demoBehindGateway(t);

  for (const request of [typedInfer('echo', [PROMPT]), rawInfer('echo', [PROMPT])]) {
    const seen = nextEvent<[string, Buffer]>(demo.events, 'request', (rpc) => rpc === 'ModelInfer');
    const outcome = await callUnary<InferResponse>(client, 'ModelInfer', request);

    assert.equal(outcome.error, undefined);
    const upstreamSaw = (await seen)[1];
    assert.ok(!upstreamSaw.includes('4111'), 'no card digit reaches the model');
    assert.ok(upstreamSaw.includes(MASKED_PROMPT));
    // The echo model repeats what it received: the masked prompt.
    const { outputs, raw_output_contents: raw } = outcome.response!;
    const echoed = raw.length > 0 ? raw[0]!.subarray(4) : outputs[0]!.contents!.bytes_contents[0]!;
    assert.equal(String(echoed), MASKED_PROMPT);
  }
});

test('a card number split across streamed responses reaches the client masked', async (t) => {
  const { client } = await demoBehindGateway(t, RESPONSES_ONLY);

  for (const size of [1, 2, 3, 5, 7]) {
    const { pieces, status } = await streamedEcho(client, PROMPT, size);

    assert.equal(status.code, grpc.status.OK, `pieces of ${size}`);
    assert.equal(Buffer.concat(pieces).toString(), MASKED_PROMPT, `pieces of ${size}`);
    assert.equal(pieces.length, Math.ceil(Buffer.byteLength(PROMPT) / size), `pieces of ${size}`);
  }
});

test('other-script digits and zero-width spaces are masked across streamed pieces', async (t) => {
  const { client } = await demoBehindGateway(t, RESPONSES_ONLY);
  const fullWidth = `pay with ４１１１ １１１１ １１１１ １１１１ now`;
  const invisible = `or ${[...'4111111111111111'].join('\u200b')}.`;
  // A masked character keeps its byte length: a full-width digit takes three bytes.
  const stars = '*'.repeat(12);
  const cases: [string, string][] = [
    [fullWidth, `pay with ${stars} ${stars} ${stars} １１１１ now`],
    [invisible, `or ${[...'************1111'].join('\u200b')}.`],
  ];

  for (const [text, expected] of cases) {
    for (const size of [1, 2, 3, 5, 7]) {
      // Pieces of these sizes end inside a three-byte character, which the masker must rejoin.
      const { pieces, status } = await streamedEcho(client, text, size);

      assert.equal(status.code, grpc.status.OK);
      assert.equal(Buffer.concat(pieces).toString(), expected, `${text}, pieces of ${size}`);
      assert.equal(pieces.length, Math.ceil(Buffer.byteLength(text) / size));
    }
  }
});

test('clean text streams through unchanged, piece for piece', async (t) => {
  const { client } = await demoBehindGateway(t, RESPONSES_ONLY);
  const text = 'Order 12345 ships on 2026-12-04 to 10.0.0.1, phone +1 415 555 0100.';
  const bytes = Buffer.from(text);
  const expected = Array.from({ length: Math.ceil(bytes.length / 4) }, (_, i) =>
    bytes.subarray(i * 4, i * 4 + 4),
  );

  const { pieces, status } = await streamedEcho(client, text, 4);

  assert.equal(status.code, grpc.status.OK);
  assert.deepEqual(pieces, expected);
});

test('each request on one stream is its own text, masked apart from the others', async (t) => {
  const { client } = await demoBehindGateway(t, RESPONSES_ONLY);
  const call = client.ModelStreamInfer() as grpc.ClientDuplexStream<unknown, StreamResponse>;
  const result = collectStream(call);

  const second = 'card 5555555555554444 here';
  call.write({ ...typedInfer('echo-stream', [PROMPT], pieceParameters(3)), id: 'first' });
  call.write({ ...typedInfer('echo-stream', [second], pieceParameters(2)), id: 'second' });
  call.end();
  const { messages, status } = await result;

  assert.equal(status.code, grpc.status.OK);
  const textOf = (id: string) =>
    Buffer.concat(
      messages
        .filter((m) => m.infer_response.id === id)
        .map((m) => m.infer_response.outputs[0]!.contents!.bytes_contents[0]!),
    ).toString();
  assert.equal(textOf('first'), MASKED_PROMPT);
  assert.equal(textOf('second'), 'card ************4444 here');
});

test('a route that masks nothing relays card data as the model wrote it', async (t) => {
  const { client } = await demoBehindGateway(t, {
    routes: [{ name: 'demo', default: true, upstream: 'demo', masking: 'none' }],
  });

  const { pieces } = await streamedEcho(client, PROMPT, 3);
  const outcome = await callUnary<InferResponse>(client, 'ModelInfer', rawInfer('echo', [PROMPT]));

  assert.equal(Buffer.concat(pieces).toString(), PROMPT);
  assert.deepEqual(outcome.response?.raw_output_contents, [bytesElements([PROMPT])]);
});

test('a caller with an unmasked role sees card data that other callers see masked', async (t) => {
  const identity = makeTestIdentity(t);
  const demo = await startDemoServer();
  t.after(() => demo.close());
  const { grpcAddress } = await startTestGateway(t, {
    upstreams: [{ name: 'demo', address: `grpc://${demo.address}` }],
    ...RESPONSES_ONLY,
    ...identity.sections(),
    roles: { ...TEST_ROLES, 'card-reviewer': TEST_ROLES.chat },
    masking: { unmaskedRoles: ['card-reviewer'] },
  });
  const address = grpcAddress.replace('127.0.0.1', 'localhost');
  const echoAs = async (name: 'alice' | 'bob', roles: string[]) => {
    const { key, cert } = identity.clients[name];
    const ca = Buffer.from(identity.caPem);
    const credentials = grpc.credentials.createSsl(ca, Buffer.from(key), Buffer.from(cert));
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${await identity.token(name, roles)}`);
    const client = kserveClient(t, address, credentials);
    const request = typedInfer('echo', [PROMPT]);
    const outcome = await callUnary<InferResponse>(client, 'ModelInfer', request, metadata);
    assert.equal(outcome.error, undefined, outcome.error?.details);
    return String(outcome.response!.outputs[0]!.contents!.bytes_contents[0]);
  };

  assert.equal(await echoAs('alice', ['card-reviewer']), PROMPT);
  assert.equal(await echoAs('bob', ['chat']), MASKED_PROMPT);
});

test('the access log counts what was masked, never the digits', async (t) => {
  const { client, logs } = await demoBehindGateway(t, RESPONSES_ONLY);

  await streamedEcho(client, PROMPT, 2);

  const access = await logs.waitFor((line) => line.msg === 'access');
  const masked = access.masked as Record<string, unknown>;
  assert.equal(access.operation, 'ModelStreamInfer');
  assert.deepEqual(masked.response, { pan: 1, cvv: 1 });
  assert.equal(masked.prompt, undefined);
  assert.ok(Number(masked.heldFrames) > 0, 'frames waited while the card was undecided');
  assert.doesNotMatch(logs.text(), /4111 1111|1111 1111|CVV 123/);
});

test('the access log counts a masked prompt of a unary call', async (t) => {
  const { client, logs } = await demoBehindGateway(t);

  await callUnary(client, 'ModelInfer', rawInfer('echo', [PROMPT]));

  const access = await logs.waitFor((line) => line.msg === 'access');
  assert.deepEqual(access.masked, { prompt: { pan: 1, cvv: 1 }, heldFrames: 0, maxHeldMs: 0 });
  assert.doesNotMatch(logs.text(), /4111 1111|1111 1111|CVV 123/);
});
