// HTTP/2 floods against the gRPC listener: streams opened and reset at once by the thousand,
// more streams than the listener allows, oversized metadata. The gateway keeps serving others,
// and keeps nothing of the streams it refused.

import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { test, type TestContext } from 'node:test';
import { encodeGrpcFrame } from '../../src/codecs/grpc-frame-decoder';
import { startDemoServer } from '../../src/demo/demo-server';
import { kserveClient, startTestGateway } from '../fixtures/gateway-fixture';
import { callUnary } from '../fixtures/grpc-calls';

const MODEL_INFER = '/inference.GRPCInferenceService/ModelInfer';
const GRPC_HEADERS = { ':method': 'POST', 'content-type': 'application/grpc', te: 'trailers' };

async function floodedGateway(t: TestContext, maxConcurrentStreams = 1_000) {
  const demo = await startDemoServer();
  t.after(() => demo.close());
  const { grpcAddress } = await startTestGateway(t, {
    upstreams: [{ name: 'demo', address: `grpc://${demo.address}` }],
    listeners: { grpc: { maxConcurrentStreams } },
  });
  return grpcAddress;
}

/** A raw HTTP/2 session to the listener whose errors (a GOAWAY, a reset) the test ignores. */
function rawSession(t: TestContext, address: string): http2.ClientHttp2Session {
  const session = http2.connect(`http://${address}`);
  session.on('error', () => undefined);
  t.after(() => session.destroy());
  return session;
}

/** Another client, on its own connection, can still ask whether the server is live. */
async function stillServes(t: TestContext, address: string): Promise<unknown> {
  return (await callUnary(kserveClient(t, address), 'ServerLive', {})).response;
}

test('thousands of streams opened and reset at once leave the gateway serving', async (t) => {
  const address = await floodedGateway(t);
  const session = rawSession(t, address);

  const closed: Promise<void>[] = [];
  for (let i = 0; i < 2_000 && !session.destroyed; i++) {
    const stream = session.request({ ...GRPC_HEADERS, ':path': MODEL_INFER });
    stream.on('error', () => undefined);
    closed.push(new Promise((resolve) => stream.once('close', () => resolve())));
    stream.close(http2.constants.NGHTTP2_CANCEL);
  }
  await Promise.all(closed);

  assert.deepEqual(await stillServes(t, address), { live: true });
});

test('streams past maxConcurrentStreams wait or are refused; those admitted are answered', async (t) => {
  const address = await floodedGateway(t, 8);
  const session = rawSession(t, address);

  // Sixty-four calls on one connection that allows eight at a time: each stream ends its
  // request at once, so the admitted ones are answered and make room for the rest.
  const statuses = await Promise.all(
    Array.from({ length: 64 }, () => {
      const stream = session.request({ ...GRPC_HEADERS, ':path': MODEL_INFER });
      stream.on('error', () => undefined);
      stream.end(encodeGrpcFrame(Buffer.alloc(0)));
      stream.resume();
      return new Promise<string>((resolve) => {
        stream.once('trailers', (trailers) => resolve(String(trailers['grpc-status'])));
        stream.once('response', (headers) => {
          if (headers['grpc-status'] !== undefined) resolve(String(headers['grpc-status']));
        });
        stream.once('close', () => resolve(`closed ${stream.rstCode}`));
      });
    }),
  );

  assert.equal(statuses.length, 64);
  for (const status of statuses) assert.match(status, /^(\d+|closed \d+)$/);
  assert.ok(
    statuses.some((status) => /^\d+$/.test(status)),
    'some calls were answered',
  );
  assert.deepEqual(await stillServes(t, address), { live: true });
});

test('metadata larger than the listener takes is refused, and the gateway keeps serving', async (t) => {
  const address = await floodedGateway(t);
  const session = rawSession(t, address);

  const outcome = await new Promise<string>((resolve) => {
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request({
        ...GRPC_HEADERS,
        ':path': MODEL_INFER,
        'x-huge': 'a'.repeat(256 * 1024),
      });
    } catch (err) {
      return resolve(`refused by the client: ${(err as NodeJS.ErrnoException).code}`);
    }
    stream.on('error', (err: NodeJS.ErrnoException) => resolve(`stream error ${err.code}`));
    stream.once('response', (headers) => resolve(`answered ${String(headers[':status'])}`));
    stream.once('close', () => resolve(`closed ${stream.rstCode}`));
    stream.end();
  });

  // The header block leaves the client and the listener resets the stream: nothing is relayed.
  assert.match(outcome, /^(stream error|closed) /);
  assert.deepEqual(await stillServes(t, address), { live: true });
});

/** Opens and resets `count` ModelInfer streams on one connection; resolves once all closed. */
async function resetFlood(address: string, count: number): Promise<void> {
  const session = http2.connect(`http://${address}`);
  session.on('error', () => undefined);
  const closed: Promise<void>[] = [];
  for (let i = 0; i < count && !session.destroyed; i++) {
    const stream = session.request({ ...GRPC_HEADERS, ':path': MODEL_INFER });
    stream.on('error', () => undefined);
    closed.push(new Promise((resolve) => stream.once('close', () => resolve())));
    stream.close(http2.constants.NGHTTP2_CANCEL);
  }
  await Promise.all(closed);
  session.destroy();
}

/** `count` connections to the HTTP listener that send bytes that are no HTTP request. */
async function garbageFlood(address: string, count: number): Promise<void> {
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
      socket.on('data', () => undefined);
      socket.write(`\u0016\u0003${'x'.repeat(i % 64)}\r\n\r\n`);
    });
  await Promise.all(Array.from({ length: count }, (_, i) => one(i)));
}

/** The live heap after a full collection (the test command runs node with --expose-gc). */
function liveHeapMb(): number {
  assert.equal(typeof globalThis.gc, 'function', 'node runs the tests with --expose-gc');
  globalThis.gc!();
  return process.memoryUsage().heapUsed / 1e6;
}

test('floods leave nothing behind: the live heap after a third flood is that after the first', async (t) => {
  const demo = await startDemoServer();
  t.after(() => demo.close());
  // The capture of log lines would itself keep memory for every stream: none is kept here.
  const upstreams = [{ name: 'demo', address: `grpc://${demo.address}` }];
  const { grpcAddress, gateway } = await startTestGateway(t, { upstreams }, {}, {}, 'silent');
  const flood = async () => {
    await resetFlood(grpcAddress, 10_000);
    await garbageFlood(gateway.addresses.http, 300);
  };

  await flood();
  const afterFirst = liveHeapMb();
  await flood();
  await flood();
  const afterThird = liveHeapMb();

  // Two floods of 10,000 streams and 300 connections: a kilobyte kept for each would be 20 MB.
  assert.ok(
    afterThird - afterFirst < 3,
    `live heap ${afterFirst.toFixed(1)} MB after one flood, ${afterThird.toFixed(1)} MB after three`,
  );
  assert.deepEqual(await stillServes(t, grpcAddress), { live: true });
});
