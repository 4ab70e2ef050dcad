// `infergate infer` against a gateway in front of the demo model server.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { main } from '../../src/cli/main';
import { startDemoServer } from '../../src/demo/demo-server';
import { startTestGateway } from '../fixtures/gateway-fixture';

/** Runs the command line in-process and collects what it prints. */
async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const sink = (into: string[]) =>
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        into.push(chunk.toString('utf8'));
        callback();
      },
    });
  const code = await main(args, { stdout: sink(out), stderr: sink(err) });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

test('prints the answer of a unary and of a streamed call through the gateway', async (t) => {
  const demo = await startDemoServer();
  t.after(() => demo.close());
  const { grpcAddress } = await startTestGateway(t, {
    upstreams: [{ name: 'demo', address: `grpc://${demo.address}` }],
  });

  const unary = await run('infer', '--address', grpcAddress, '--model', 'echo', '--prompt', 'hi');
  const streamed = await run('infer', '-a', grpcAddress, '--stream', '--prompt', 'tell me');
  const whole = await run('infer', '-a', grpcAddress, '--prompt', 'tell me');

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

  const result = await run('infer', '--address', grpcAddress, '--model', 'llama');

  assert.equal(result.code, 1);
  assert.equal(
    result.stderr,
    'infergate infer: call failed with NOT_FOUND: no route for model "llama"\n',
  );
});
