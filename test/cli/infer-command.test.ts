// `infergate infer` against a gateway in front of the demo model server, in cleartext and on the
// development set of certificates.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../fixtures/cli-run';
import { startDemoServer } from '../../src/demo/demo-server';
import { developmentIdentitySections } from '../../src/cli/development-identity';
import { ensureDevelopmentCertificates } from '../../src/identity/pki/development-certificates';
import { startTestGateway } from '../fixtures/gateway-fixture';

/** A folder removed after the test. */
function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'infergate-infer-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('prints the answer of a unary and of a streamed call through the gateway', async (t) => {
  const demo = await startDemoServer();
  t.after(() => demo.close());
  const { grpcAddress } = await startTestGateway(t, {
    upstreams: [{ name: 'demo', address: `grpc://${demo.address}` }],
  });
  const cli = (...args: string[]) => runCli('infer', '--insecure', '-a', grpcAddress, ...args);

  const unary = await cli('--model', 'echo', '--prompt', 'hi');
  const streamed = await cli('--stream', '--prompt', 'tell me');
  const whole = await cli('--prompt', 'tell me');

  assert.deepEqual(unary, { code: 0, stdout: 'hi\n', stderr: '' });
  assert.equal(streamed.code, 0);
  assert.equal(streamed.stdout, whole.stdout);
  assert.ok(streamed.stdout.trim().split(' ').length > 3, streamed.stdout);
});

test('exits 1 with the gRPC status when the call fails', async (t) => {
  const demo = await startDemoServer();
  t.after(() => demo.close());
  const { grpcAddress } = await startTestGateway(t, {
    upstreams: [{ name: 'demo', address: `grpc://${demo.address}` }],
    routes: [{ name: 'echo-only', models: ['echo'], upstream: 'demo' }],
  });

  const result = await runCli('infer', '--insecure', '--address', grpcAddress, '--model', 'llama');

  assert.equal(result.code, 1);
  assert.equal(
    result.stderr,
    'infergate infer: call failed with NOT_FOUND: no route for model "llama"\n',
  );
});

test('calls over mTLS with a token it makes from the development set', async (t) => {
  const dir = tempDir(t);
  const { paths } = ensureDevelopmentCertificates(dir);
  const demo = await startDemoServer();
  t.after(() => demo.close());
  const { grpcAddress } = await startTestGateway(t, {
    upstreams: [{ name: 'demo', address: `grpc://${demo.address}` }],
    ...developmentIdentitySections(paths),
  });
  const address = grpcAddress.replace('127.0.0.1', 'localhost');

  const unary = await runCli('infer', '--certs', dir, '-a', address, '--model', 'echo', '-p', 'hi');
  const streamed = await runCli('infer', '--certs', dir, '-a', address, '--stream');
  const badToken = await runCli('infer', '--certs', dir, '-a', address, '--token', 'a.b.c');

  assert.deepEqual(unary, { code: 0, stdout: 'hi\n', stderr: '' });
  assert.equal(streamed.code, 0, streamed.stderr);
  assert.ok(streamed.stdout.trim().split(' ').length > 3, streamed.stdout);
  assert.equal(badToken.code, 1);
  assert.match(badToken.stderr, /^infergate infer: call failed with UNAUTHENTICATED: token /);
});

test('refuses --insecure together with certificate flags', async () => {
  const result = await runCli('infer', '--insecure', '--certs', 'certs');

  assert.equal(result.code, 2);
  assert.equal(
    result.stderr,
    'infergate infer: --insecure sends no certificate and no token (ERR_USAGE)\n',
  );
});
