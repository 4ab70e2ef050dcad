// `infergate infer` against a gateway in front of the demo model server.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../fixtures/cli-run';
import { startDemoServer } from '../../src/demo/demo-server';
import { startTestGateway } from '../fixtures/gateway-fixture';

test('prints the answer of a unary and of a streamed call through the gateway', async (t) => {
  const demo = await startDemoServer();
  t.after(() => demo.close());
  const { grpcAddress } = await startTestGateway(t, {
    upstreams: [{ name: 'demo', address: `grpc://${demo.address}` }],
  });

  const unary = await runCli(
    'infer',
    '--address',
    grpcAddress,
    '--model',
    'echo',
    '--prompt',
    'hi',
  );
  const streamed = await runCli('infer', '-a', grpcAddress, '--stream', '--prompt', 'tell me');
  const whole = await runCli('infer', '-a', grpcAddress, '--prompt', 'tell me');

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

  const result = await runCli('infer', '--address', grpcAddress, '--model', 'llama');

  assert.equal(result.code, 1);
  assert.equal(
    result.stderr,
    'infergate infer: call failed with NOT_FOUND: no route for model "llama"\n',
  );
});
