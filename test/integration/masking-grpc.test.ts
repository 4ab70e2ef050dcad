// Card data masked end to end through the gRPC listener: KServe v2 ModelInfer with typed and raw
// BYTES tensors, and ModelStreamInfer with the demo model cutting card numbers across responses.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { encodeGrpcFrame } from '../../src/codecs/grpc-frame-decoder';
import { startDemoServer } from '../../src/demo/demo-server';
import { loadKserveDefinition } from '../../src/demo/kserve-definition';
import { callUnary, collectStream, nextEvent } from '../fixtures/grpc-calls';
import { kserveClient, rawKserveClient, startTestGateway } from '../fixtures/gateway-fixture';
import { makeTestIdentity, TEST_ROLES } from '../fixtures/identity-fixture';
import { startRawUpstream } from '../fixtures/raw-upstream';

const CARD = '4111 1111 1111 1111';
const MASKED = '**** **** **** 1111';
const PROMPT = `Charge card ${CARD}, CVV 123, for the order.`;
const MASKED_PROMPT = `Charge card ${MASKED}, CVV ***, for the order.`;

/** Responses only, so the model sees the card and the test sees what masking made of it. */
const RESPONSES_ONLY = {
  routes: [{ name: 'demo', default: true, upstream: 'demo', masking: 'responses' }],
};

async function demoBehindGateway(t: TestContext, document: Record<string, unknown> = {}) {
  const demo = await startDemoServer({ tokenDelayMs: 0 });
  t.after(() => demo.close());
  const under = await startTestGateway(t, {
    upstreams: [{ name: 'demo', address: `grpc://${demo.address}` }],
    ...document,
  });
  return { demo, client: kserveClient(t, under.grpcAddress), ...under };
}

/** A request whose `text_input` elements travel in typed `contents.bytes_contents`. */
function typedInfer(model: string, texts: string[], parameters: Record<string, unknown> = {}) {
  const bytes = texts.map((text) => Buffer.from(text));
  return {
    model_name: model,
    id: `req-${model}`,
    inputs: [
      {
        name: 'text_input',
        datatype: 'BYTES',
        shape: [String(texts.length)],
        contents: { bytes_contents: bytes },
      },
    ],
    parameters,
  };
}

/** A request whose `text_input` elements travel in `raw_input_contents`, length-prefixed. */
function rawInfer(model: string, texts: string[]) {
  return {
    model_name: model,
    id: `req-${model}`,
    inputs: [{ name: 'text_input', datatype: 'BYTES', shape: [String(texts.length)] }],
    raw_input_contents: [rawElements(texts)],
  };
}

/** BYTES elements in raw form: each a 4-byte little-endian length, then its bytes. */
function rawElements(texts: string[]): Buffer {
  return Buffer.concat(
    texts.flatMap((text) => {
      const bytes = Buffer.from(text);
      const prefix = Buffer.alloc(4);
      prefix.writeUInt32LE(bytes.length);
      return [prefix, bytes];
    }),
  );
}

/** `demo_token_bytes` cuts the echoed prompt into pieces of `size` bytes, one per response. */
function pieceParameters(size: number) {
  return { demo_token_bytes: { int64_param: String(size) } };
}

/** The ModelInferResponse fields the tests read, as proto-loader decodes them. */
interface InferResponse {
  id: string;
  outputs: { contents: { bytes_contents: Buffer[] } | null }[];
  raw_output_contents: Buffer[];
}

/** The ModelStreamInferResponse fields the tests read. */
interface StreamResponse {
  error_message: string;
  infer_response: InferResponse;
}

/** Streams `text` back from `echo-stream` in pieces of `size` bytes; the pieces and the status. */
async function streamedEcho(
  client: grpc.Client & Record<string, Function>,
  text: string,
  size: number,
) {
  const call = client.ModelStreamInfer() as grpc.ClientDuplexStream<unknown, StreamResponse>;
  const result = collectStream(call);
  call.write(typedInfer('echo-stream', [text], pieceParameters(size)));
  call.end();
  const { messages, status } = await result;
  const pieces = messages.map((m) => m.infer_response.outputs[0]!.contents!.bytes_contents[0]!);
  return { pieces, status };
}

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
    rawElements([MASKED_PROMPT, 'then **** **** **** 4444 too']),
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
  assert.deepEqual(outcome.response?.raw_output_contents, [rawElements([PROMPT])]);
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
  assert.doesNotMatch(logs.text(), /4111|1111 1111|CVV 123/);
});

test('the access log counts a masked prompt of a unary call', async (t) => {
  const { client, logs } = await demoBehindGateway(t);

  await callUnary(client, 'ModelInfer', rawInfer('echo', [PROMPT]));

  const access = await logs.waitFor((line) => line.msg === 'access');
  assert.deepEqual(access.masked, { prompt: { pan: 1, cvv: 1 }, heldFrames: 0, maxHeldMs: 0 });
  assert.doesNotMatch(logs.text(), /4111|1111 1111|CVV 123/);
});

test('a stream held past maxHeldBytes ends INTERNAL instead of passing unmasked', async (t) => {
  const { client, logs } = await demoBehindGateway(t, {
    ...RESPONSES_ONLY,
    masking: { maxHeldBytes: 16 },
  });

  const call = client.ModelStreamInfer() as grpc.ClientDuplexStream<unknown, StreamResponse>;
  const result = collectStream(call);
  call.write(typedInfer('echo-stream', [PROMPT], pieceParameters(2)));
  call.end();
  const { messages, error } = await result;

  const received = Buffer.concat(
    messages.map((m) => m.infer_response.outputs[0]!.contents!.bytes_contents[0]!),
  );
  // Clean pieces before the card leave at once; the first piece of the card is held, and
  // holding it already passes the bound.
  assert.equal(received.toString(), 'Charge card ');
  assert.equal(error?.code, grpc.status.INTERNAL);
  assert.equal(error?.details, 'more than 16 response bytes wait for undecided text');
  const access = await logs.waitFor((line) => line.msg === 'access');
  assert.equal(access.detail, 'masking_hold_exceeded');
  assert.doesNotMatch(logs.text(), /4111|1111 1111/);
});

test('a malformed upstream message ends a held stream, dropping the held card', async (t) => {
  const upstream = await startRawUpstream();
  t.after(() => upstream.close());
  const { grpcAddress, logs } = await startTestGateway(t, {
    upstreams: [{ name: 'raw', address: `grpc://${upstream.address}` }],
    routes: [{ name: 'raw', default: true, upstream: 'raw', masking: 'responses' }],
  });
  const service = loadKserveDefinition().GRPCInferenceService.service;
  const client = rawKserveClient(t, grpcAddress);
  const call = client.ModelStreamInfer() as grpc.ClientDuplexStream<Buffer, Buffer>;
  const result = collectStream(call);
  call.write(service.ModelStreamInfer!.requestSerialize(typedInfer('echo-stream', ['hi'])));

  const upstreamCall = await upstream.nextCall();
  upstreamCall.stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
  // The second message loses its last byte: its infer_response runs past the message's end.
  const truncated = streamPiece('1111 1111, CVV 123').subarray(0, -1);
  upstreamCall.stream.write(encodeGrpcFrame(streamPiece('card 4111 1111 ')));
  upstreamCall.stream.write(encodeGrpcFrame(truncated));
  const { messages, error } = await result;

  // The first message waited for the rest of the card; failing closed drops it with the rest.
  assert.deepEqual(messages, []);
  assert.ok(error, 'the call ends with an error status');
  assert.doesNotMatch(String(error.details), /1111/);
  assert.doesNotMatch(logs.text(), /4111|1111 1111/);
  // The upstream, not the caller, sent the bad message: INTERNAL, as for a malformed frame.
  assert.equal(error.code, grpc.status.INTERNAL, `${error.code}: ${error.details}`);
});

test('the masking section sets what is kept and the mask character for every route', async (t) => {
  const { client } = await demoBehindGateway(t, {
    masking: { mask: 'responses', keepFirst: 6, keepLast: 4, maskCharacter: '#' },
  });

  const outcome = await callUnary<InferResponse>(
    client,
    'ModelInfer',
    typedInfer('echo', [PROMPT]),
  );

  const echoed = String(outcome.response?.outputs[0]?.contents?.bytes_contents[0]);
  assert.equal(echoed, 'Charge card 4111 11## #### 1111, CVV ###, for the order.');
});

test('a gzip-compressed prompt is masked before the model sees it', async (t) => {
  const demo = await startDemoServer();
  t.after(() => demo.close());
  const { grpcAddress } = await startTestGateway(t, {
    upstreams: [{ name: 'demo', address: `grpc://${demo.address}` }],
  });
  const { GRPCInferenceService } = loadKserveDefinition();
  const client = new GRPCInferenceService(grpcAddress, grpc.credentials.createInsecure(), {
    'grpc.default_compression_algorithm': 2,
  }) as grpc.Client & Record<string, Function>;
  t.after(() => client.close());
  const seen = nextEvent<[string, Buffer]>(demo.events, 'request', (rpc) => rpc === 'ModelInfer');

  const outcome = await callUnary<InferResponse>(
    client,
    'ModelInfer',
    typedInfer('echo', [PROMPT]),
  );

  assert.equal(outcome.error, undefined, outcome.error?.details);
  assert.ok((await seen)[1].includes(MASKED_PROMPT), 'the model saw the masked prompt');
  assert.equal(String(outcome.response!.outputs[0]!.contents!.bytes_contents[0]), MASKED_PROMPT);
});

test('a card split across gzip-compressed stream responses is masked', async (t) => {
  const upstream = await startRawUpstream();
  t.after(() => upstream.close());
  const { grpcAddress } = await startTestGateway(t, {
    upstreams: [{ name: 'raw', address: `grpc://${upstream.address}` }],
    routes: [{ name: 'raw', default: true, upstream: 'raw', masking: 'responses' }],
  });
  const client = kserveClient(t, grpcAddress);
  const call = client.ModelStreamInfer() as grpc.ClientDuplexStream<unknown, StreamResponse>;
  const result = collectStream(call);
  call.write(typedInfer('echo-stream', ['hi']));
  call.end();

  const upstreamCall = await upstream.nextCall();
  upstreamCall.stream.respond(
    { ':status': 200, 'content-type': 'application/grpc', 'grpc-encoding': 'gzip' },
    { waitForTrailers: true },
  );
  upstreamCall.stream.once('wantTrailers', () =>
    upstreamCall.stream.sendTrailers({ 'grpc-status': '0' }),
  );
  const parts = ['card 4111 11', '11 1111 11', '11 ok'];
  parts.forEach((text, index) => {
    const final = index === parts.length - 1;
    const message = streamPiece(text, final);
    upstreamCall.stream.write(encodeGrpcFrame(gzipSync(message), true));
  });
  upstreamCall.stream.end();
  const { messages, status } = await result;

  assert.equal(status.code, grpc.status.OK, status.details);
  const pieces = messages.map((m) => String(m.infer_response.raw_output_contents[0]!.subarray(4)));
  assert.deepEqual(pieces, ['card **** **', '** **** 11', '11 ok']);
});

test('a request whose text ends in a card number is released at its final response', async (t) => {
  const { client } = await demoBehindGateway(t, RESPONSES_ONLY);
  const call = client.ModelStreamInfer() as grpc.ClientDuplexStream<unknown, StreamResponse>;
  const text = `pay ${CARD}`;
  const expected = Math.ceil(Buffer.byteLength(text) / 3);
  const received: Buffer[] = [];
  // The call stays open: only the final-response flag can tell the gateway the text is over.
  const whole = new Promise<string>((resolve) =>
    call.on('data', (m: StreamResponse) => {
      received.push(m.infer_response.outputs[0]!.contents!.bytes_contents[0]!);
      if (received.length === expected) resolve(Buffer.concat(received).toString());
    }),
  );
  const result = collectStream(call);

  call.write(typedInfer('echo-stream', [text], pieceParameters(3)));
  const masked = await whole;
  call.end();

  assert.equal(masked, `pay ${MASKED}`);
  assert.equal((await result).status.code, grpc.status.OK);
});

/** A serialized ModelStreamInferResponse of `echo-stream` carrying `text` as a raw element. */
function streamPiece(text: string, final = false): Buffer {
  const service = loadKserveDefinition().GRPCInferenceService.service;
  return service.ModelStreamInfer!.responseSerialize({
    infer_response: {
      model_name: 'echo-stream',
      id: 'req-echo-stream',
      parameters: { triton_final_response: { bool_param: final } },
      outputs: [{ name: 'text_output', datatype: 'BYTES', shape: ['1'] }],
      raw_output_contents: [rawElements([text])],
    },
  });
}
