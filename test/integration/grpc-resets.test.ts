// Clients that reset their streams at every stage never take the gateway down, and every
// upstream stream they opened is cancelled.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { encodeGrpcFrame } from '../../src/codecs/grpc-frame-decoder';
import { startDemoServer } from '../../src/demo/demo-server';
import { loadKserveDefinition } from '../../src/demo/kserve-definition';
import { callUnary } from '../fixtures/grpc-calls';
import { kserveClient, startTestGateway } from '../fixtures/gateway-fixture';

const RESET_CODES = [
  http2.constants.NGHTTP2_CANCEL,
  http2.constants.NGHTTP2_PROTOCOL_ERROR,
  http2.constants.NGHTTP2_INTERNAL_ERROR,
  http2.constants.NGHTTP2_REFUSED_STREAM,
];

type Stage = 'headers' | 'half-message' | 'first-response';
const STAGES: readonly Stage[] = ['headers', 'half-message', 'first-response'];

test('streams reset at every stage with every code leave the gateway serving', async (t) => {
  const demo = await startDemoServer({ tokenDelayMs: 5 });
  t.after(() => demo.close());
  const { grpcAddress } = await startTestGateway(t, {
    upstreams: [{ name: 'demo', address: `grpc://${demo.address}` }],
  });
  const service = loadKserveDefinition().GRPCInferenceService.service;
  const frame = encodeGrpcFrame(
    service.ModelStreamInfer!.requestSerialize({
      model_name: 'demo-chat',
      parameters: { demo_tokens: { int64_param: '1000' } },
      inputs: [
        {
          name: 'text_input',
          datatype: 'BYTES',
          shape: ['1'],
          contents: { bytes_contents: [Buffer.from('go')] },
        },
      ],
    }),
  );
  let cancelled = 0;
  const everyUpstreamCancelled = new Promise<void>((resolve) =>
    demo.events.on('cancelled', () => ++cancelled === RESET_CODES.length && resolve()),
  );
  const session = http2.connect(`http://${grpcAddress}`);
  session.on('error', () => undefined);
  t.after(() => session.destroy());

  for (const stage of STAGES) {
    for (const code of RESET_CODES) {
      const stream = session.request({
        ':method': 'POST',
        ':path': '/inference.GRPCInferenceService/ModelStreamInfer',
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      stream.on('error', () => undefined);
      if (stage !== 'headers')
        stream.write(stage === 'half-message' ? frame.subarray(0, 9) : frame);
      if (stage === 'first-response') await new Promise((resolve) => stream.once('data', resolve));
      const closed = new Promise((resolve) => stream.once('close', resolve));
      stream.close(code);
      await closed;
    }
  }
  const outcome = await callUnary(kserveClient(t, grpcAddress), 'ServerLive', {});
  await everyUpstreamCancelled;

  assert.deepEqual(outcome.response, { live: true });
  assert.equal(
    cancelled,
    RESET_CODES.length,
    'each stream that reached the upstream was cancelled',
  );
});
