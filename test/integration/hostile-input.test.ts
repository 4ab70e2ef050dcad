// Random and mangled input on both listeners: every request gets an answer or a closed
// connection, and the gateway keeps serving.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import fc from 'fast-check';
import { encodeGrpcFrame } from '../../src/codecs/grpc-frame-decoder';
import { startDemoServer } from '../../src/demo/demo-server';
import { startDemoHttpServer } from '../../src/demo/demo-http-server';
import { callUnary } from '../fixtures/grpc-calls';
import { kserveClient, startTestGateway } from '../fixtures/gateway-fixture';
import { connectRawHttp } from '../fixtures/http-client';

const VALID_HTTP =
  'POST /v1/chat/completions HTTP/1.1\r\nhost: g\r\ncontent-type: application/json\r\n' +
  'content-length: 60\r\n\r\n{"model":"echo","messages":[{"role":"user","content":"hi"}]}';

/** Valid requests with bytes replaced, inserted or cut, and plain random bytes. */
const hostileHttp = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  fc
    .tuple(fc.nat(VALID_HTTP.length - 1), fc.uint8Array({ minLength: 1, maxLength: 8 }))
    .map(([at, bytes]) =>
      Buffer.concat([
        Buffer.from(VALID_HTTP.slice(0, at)),
        bytes,
        Buffer.from(VALID_HTTP.slice(at + 1)),
      ]),
    ),
  fc.nat(VALID_HTTP.length - 1).map((cut) => Buffer.from(VALID_HTTP.slice(0, cut) + '\r\n\r\n')),
);

test('the HTTP listener answers or closes on hostile bytes and keeps serving', async (t) => {
  const demo = await startDemoHttpServer();
  t.after(() => demo.close());
  const { gateway } = await startTestGateway(t, {
    upstreams: [{ name: 'demo-http', address: `http://${demo.address}` }],
    listeners: { http: { headersTimeoutMs: 200, requestTimeoutMs: 200 } },
  });

  await fc.assert(
    fc.asyncProperty(hostileHttp, async (bytes) => {
      const client = await connectRawHttp(gateway.addresses.http);
      client.send(bytes);
      const answered = client.waitFor((text) => /^HTTP\/1\.1 \d{3} /.test(text));
      await Promise.race([answered, client.closed]);
      client.socket.destroy();
    }),
    { seed: 20261203, numRuns: 60 },
  );
  const client = await connectRawHttp(gateway.addresses.http);
  t.after(() => client.socket.destroy());
  client.send(VALID_HTTP);
  const text = await client.waitFor((received) => received.endsWith('}'));

  assert.match(text, /^HTTP\/1\.1 200 OK/);
});

test('the gRPC listener answers every hostile message with a status and keeps serving', async (t) => {
  const demo = await startDemoServer();
  t.after(() => demo.close());
  const { grpcAddress } = await startTestGateway(t, {
    upstreams: [{ name: 'demo', address: `grpc://${demo.address}` }],
  });
  const session = http2.connect(`http://${grpcAddress}`);
  session.on('error', () => undefined);
  t.after(() => session.destroy());

  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('ModelInfer', 'ModelReady', 'ModelStreamInfer', 'ServerLive'),
      fc.uint8Array({ maxLength: 200 }),
      async (rpc, payload) => {
        const stream = session.request({
          ':method': 'POST',
          ':path': `/inference.GRPCInferenceService/${rpc}`,
          'content-type': 'application/grpc',
          te: 'trailers',
        });
        stream.on('error', () => undefined);
        stream.end(encodeGrpcFrame(Buffer.from(payload)));
        stream.resume();
        const status = await new Promise<string | undefined>((resolve) => {
          stream.once(
            'response',
            (headers) =>
              headers['grpc-status'] !== undefined && resolve(String(headers['grpc-status'])),
          );
          stream.once('trailers', (trailers) => resolve(String(trailers['grpc-status'])));
          stream.once('close', () => resolve(undefined));
        });
        assert.match(String(status), /^\d+$/, `${rpc} got no status`);
      },
    ),
    { seed: 20261203, numRuns: 60 },
  );
  const outcome = await callUnary(kserveClient(t, grpcAddress), 'ServerLive', {});

  assert.deepEqual(outcome.response, { live: true });
});
