// Masking through the gRPC listener at its edges: it fails closed (a hold-back past its bound, a
// malformed upstream message), follows the masking section, reads compressed messages both ways,
// and releases a text at its request's final response.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { encodeGrpcFrame } from '../../src/codecs/grpc-frame-decoder';
import { startDemoServer } from '../../src/demo/demo-server';
import { loadKserveDefinition } from '../../src/demo/kserve-definition';
import { callUnary, collectStream, nextEvent } from '../fixtures/grpc-calls';
import { kserveClient, rawKserveClient, startTestGateway } from '../fixtures/gateway-fixture';
import {
  CARD,
  demoBehindGateway,
  MASKED,
  MASKED_PROMPT,
  pieceParameters,
  PROMPT,
  RESPONSES_ONLY,
  streamPiece,
  typedInfer,
  type InferResponse,
  type StreamResponse,
} from '../fixtures/kserve-masking';
import { startRawUpstream } from '../fixtures/raw-upstream';

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
  // The digits with their spaces: a bare 4111 can be part of a duration in the log.
  assert.doesNotMatch(logs.text(), /4111 1111|1111 1111/);
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
  assert.doesNotMatch(logs.text(), /4111 1111|1111 1111/);
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
