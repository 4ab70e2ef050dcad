// Upstreams over TLS and mTLS: the gateway verifies the model server and presents its own cert.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { encodeGrpcFrame } from '../../src/codecs/grpc-frame-decoder';
import { callUnary } from '../fixtures/grpc-calls';
import { makeTestPki } from '../fixtures/certificates';
import { kserveClient, startTestGateway } from '../fixtures/gateway-fixture';
import { startRawUpstream } from '../fixtures/raw-upstream';

const pki = makeTestPki();

function writePem(t: TestContext, files: Record<string, string>): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'infergate-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const paths: Record<string, string> = {};
  for (const [name, pem] of Object.entries(files)) {
    paths[name] = join(dir, `${name}.pem`);
    writeFileSync(paths[name]!, pem);
  }
  return paths;
}

const request = { model_name: 'echo', inputs: [] };

test('calls a grpcs upstream with mTLS, verifying its certificate and presenting the client one', async (t) => {
  const upstream = await startRawUpstream({ ...pki.server, clientCa: pki.ca });
  t.after(() => upstream.close());
  const files = writePem(t, { ca: pki.ca, cert: pki.client.cert, key: pki.client.key });
  const { grpcAddress } = await startTestGateway(t, {
    upstreams: [
      {
        name: 'secure',
        address: `grpcs://127.0.0.1:${upstream.port}`,
        tls: {
          caFile: files.ca,
          certFile: files.cert,
          keyFile: files.key,
          serverName: 'localhost',
        },
      },
    ],
  });
  const pending = callUnary(kserveClient(t, grpcAddress), 'ModelReady', { name: 'echo' });

  const call = await upstream.nextCall();
  const peer = (call.stream.session!.socket as TLSSocket).getPeerCertificate();
  call.stream.respond(
    { ':status': 200, 'content-type': 'application/grpc' },
    { waitForTrailers: true },
  );
  call.stream.once('wantTrailers', () => call.stream.sendTrailers({ 'grpc-status': '0' }));
  call.stream.end(encodeGrpcFrame(Buffer.from([0x08, 0x01])));
  const outcome = await pending;

  assert.deepEqual(outcome.response, { ready: true });
  assert.equal(peer.subject.CN, 'gateway-client');
  assert.equal(call.headers[':scheme'], 'https');
});

test('refuses an upstream whose certificate the configured CA did not sign', async (t) => {
  const stranger = makeTestPki('some other CA');
  const upstream = await startRawUpstream(stranger.server);
  t.after(() => upstream.close());
  const files = writePem(t, { ca: pki.ca });
  const { grpcAddress } = await startTestGateway(t, {
    upstreams: [
      {
        name: 'impostor',
        address: `grpcs://127.0.0.1:${upstream.port}`,
        tls: { caFile: files.ca },
      },
    ],
  });

  const outcome = await callUnary(kserveClient(t, grpcAddress), 'ModelInfer', request);

  assert.equal(outcome.error?.code, grpc.status.UNAVAILABLE);
  assert.equal(outcome.error?.details, 'upstream "impostor" is unavailable');
});
