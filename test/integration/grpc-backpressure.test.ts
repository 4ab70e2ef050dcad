// Backpressure through the gateway: a slow reader on either side slows the writer on the other,
// so the gateway's memory stays bounded by flow-control windows, not by the stream's length.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2, { type ClientHttp2Stream, type ServerHttp2Stream } from 'node:http2';
import { encodeGrpcFrame } from '../../src/codecs/grpc-frame-decoder';
import { encodeMessage } from '../../src/codecs/protobuf-wire-writer';
import { startTestGateway } from '../fixtures/gateway-fixture';
import { startRawUpstream } from '../fixtures/raw-upstream';

const MIB = 1024 * 1024;
/**
 * A ModelStreamInferResponse (infer_response: model_name, raw_output_contents) of about 64 KiB,
 * well-formed so the masking filter reads every message it passes.
 */
const FRAME = encodeGrpcFrame(
  encodeMessage([
    [
      2,
      [
        [1, 'echo'],
        [6, Buffer.alloc(64 * 1024 - 32, 0x61)],
      ],
    ],
  ]),
);
/** What may sit in windows and buffers between the two ends; far below what is sent. */
const STALL_BOUND_BYTES = 8 * MIB;
/** About 32 MiB, in whole frames. */
const TOTAL_BYTES = 512 * FRAME.length;

/** Writes frames until the stream pushes back; resolves with the bytes accepted so far. */
function writeUntilFull(
  stream: ServerHttp2Stream | ClientHttp2Stream,
  frame: Buffer,
  limit: number,
): number {
  let written = 0;
  while (written < limit) {
    written += frame.length;
    if (!stream.write(frame)) return written;
  }
  return written;
}

function streamRequest(session: http2.ClientHttp2Session): ClientHttp2Stream {
  return session.request({
    ':method': 'POST',
    ':path': '/inference.GRPCInferenceService/ModelStreamInfer',
    'content-type': 'application/grpc',
    te: 'trailers',
  });
}

test('a client that stops reading stops the upstream writing', async (t) => {
  const upstream = await startRawUpstream();
  t.after(() => upstream.close());
  const { grpcAddress } = await startTestGateway(t, {
    upstreams: [{ name: 'model-a', address: `grpc://${upstream.address}` }],
  });
  const session = http2.connect(`http://${grpcAddress}`);
  t.after(() => session.close());
  const client = streamRequest(session);
  client.pause();
  client.write(encodeGrpcFrame(encodeMessage([[1, 'echo']])));

  const call = await upstream.nextCall();
  call.stream.respond(
    { ':status': 200, 'content-type': 'application/grpc' },
    { waitForTrailers: true },
  );
  const stalledAt = writeUntilFull(call.stream, FRAME, TOTAL_BYTES);
  assert.ok(
    stalledAt < STALL_BOUND_BYTES,
    `upstream wrote ${stalledAt} bytes before it had to wait`,
  );

  let sent = stalledAt;
  const sendRest = () => {
    sent += writeUntilFull(call.stream, FRAME, TOTAL_BYTES - sent);
    if (sent < TOTAL_BYTES) return call.stream.once('drain', sendRest);
    call.stream.once('wantTrailers', () => call.stream.sendTrailers({ 'grpc-status': '0' }));
    call.stream.end();
  };
  call.stream.once('drain', sendRest);
  let received = 0;
  client.on('data', (chunk: Buffer) => (received += chunk.length));
  const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) =>
    client.once('trailers', resolve),
  );
  client.resume();
  client.end();

  assert.equal((await trailers)['grpc-status'], '0');
  assert.equal(received, TOTAL_BYTES);
});

test('an upstream that stops reading stops the client writing', async (t) => {
  const upstream = await startRawUpstream();
  t.after(() => upstream.close());
  const { grpcAddress } = await startTestGateway(t, {
    upstreams: [{ name: 'model-a', address: `grpc://${upstream.address}` }],
  });
  const session = http2.connect(`http://${grpcAddress}`);
  t.after(() => session.close());
  const client = streamRequest(session);
  const request = encodeGrpcFrame(
    encodeMessage([
      [1, 'echo'],
      [7, Buffer.alloc(64 * 1024, 0x62)],
    ]),
  );

  client.write(request);
  const call = await upstream.nextCall();
  call.stream.pause();
  const stalledAt = request.length + (await fillUntilStalled(client, request));

  assert.ok(stalledAt < STALL_BOUND_BYTES, `client wrote ${stalledAt} bytes before it had to wait`);
  client.close(http2.constants.NGHTTP2_CANCEL);
});

/** Keeps writing until the client's stream stays full for a while of event-loop turns. */
async function fillUntilStalled(stream: ClientHttp2Stream, frame: Buffer): Promise<number> {
  let written = 0;
  while (written < TOTAL_BYTES) {
    written += frame.length;
    if (!stream.write(frame)) {
      const drained = await Promise.race([
        new Promise<boolean>((resolve) => stream.once('drain', () => resolve(true))),
        settleTurns(50).then(() => false),
      ]);
      if (!drained) return written;
    }
  }
  return written;
}

/** Lets I/O run for a number of event-loop turns: no clock involved. */
async function settleTurns(turns: number): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}
