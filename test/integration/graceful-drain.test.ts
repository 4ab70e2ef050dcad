// A gateway that is told to stop (what SIGTERM does) stops accepting at once, lets the streams
// in flight finish up to its drain bound, then seals its audit log.

import assert from 'node:assert/strict';
import net from 'node:net';
import { test, type TestContext } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import OpenAI from 'openai';
import { startDemoHttpServer } from '../../src/demo/demo-http-server';
import { startDemoServer } from '../../src/demo/demo-server';
import { auditSection, framesOf, readFrames, verifyDir } from '../fixtures/audit-fixture';
import { kserveClient, startTestGateway } from '../fixtures/gateway-fixture';
import { collectStream } from '../fixtures/grpc-calls';
import { connectRawHttp, splitAddress } from '../fixtures/http-client';
import { typedInfer } from '../fixtures/kserve-masking';

/** Sixteen words: the echo-stream models answer word by word, one word per token delay. */
const PROMPT = 'one two three four five six seven eight nine ten eleven twelve 13 14 15 16';

/** A gateway with its audit trail in front of both demo sides, which wait between tokens. */
async function drainingGateway(t: TestContext, tokenDelayMs: number, drainTimeoutMs: number) {
  const demoHttp = await startDemoHttpServer({ tokenDelayMs });
  t.after(() => demoHttp.close());
  const demoGrpc = await startDemoServer({ tokenDelayMs });
  t.after(() => demoGrpc.close());
  const audit = auditSection(t);
  const under = await startTestGateway(t, {
    upstreams: [
      { name: 'demo-http', address: `http://${demoHttp.address}` },
      { name: 'demo-grpc', address: `grpc://${demoGrpc.address}` },
    ],
    audit: audit.section,
    drainTimeoutMs,
  });
  const [host, port] = splitAddress(under.gateway.addresses.http);
  const openai = new OpenAI({ baseURL: `http://${host}:${port}/v1`, apiKey: 'k', maxRetries: 0 });
  return { ...under, audit, openai, httpPort: Number(port) };
}

/** An SSE chat stream of the echo-stream model, read to its end or its failure. */
async function startChatStream(openai: OpenAI) {
  const stream = await openai.chat.completions.create({
    model: 'echo-stream',
    messages: [{ role: 'user', content: PROMPT }],
    stream: true,
  });
  const iterator = stream[Symbol.asyncIterator]();
  const first = await iterator.next();
  const rest = (async () => {
    let text = first.done === true ? '' : (first.value.choices[0]?.delta.content ?? '');
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
      text += next.value.choices[0]?.delta.content ?? '';
    }
    return text;
  })();
  return { rest };
}

/** A ModelStreamInfer call of the echo-stream model, its request sent and first answer in. */
async function startInferStream(t: TestContext, address: string) {
  const call = kserveClient(t, address).ModelStreamInfer() as grpc.ClientDuplexStream<
    unknown,
    unknown
  >;
  const result = collectStream(call);
  const firstAnswer = new Promise((resolve) => call.once('data', resolve));
  call.write(typedInfer('echo-stream', [PROMPT]));
  call.end();
  await firstAnswer;
  return result;
}

/** Resolves with the error code of a TCP connection attempt to `port`, or 'connected'. */
function connectOutcome(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
}

test('a drain refuses new connections, lets streams in flight finish and seals the log', async (t) => {
  const { gateway, audit, openai, httpPort, grpcAddress } = await drainingGateway(t, 20, 30_000);
  const chat = await startChatStream(openai);
  const infer = await startInferStream(t, grpcAddress);

  const closed = gateway.close();
  const newConnection = await connectOutcome(httpPort);
  const [chatText, inferResult] = await Promise.all([chat.rest, infer]);
  await closed;
  const frames = await readFrames(audit.dir);
  const finished = framesOf(frames, 'exchangeFinished');
  const report = await verifyDir(audit.dir, audit.keys);

  assert.equal(newConnection, 'ECONNREFUSED');
  assert.equal(chatText.trim().split(/\s+/).length, 16, 'every word of the chat stream');
  assert.equal(inferResult.error, undefined);
  assert.equal(inferResult.status.code, 0);
  assert.equal(inferResult.messages.length, 16, 'every token of the gRPC stream');
  assert.deepEqual(finished.map((event) => event.status).sort(), [0, 200]);
  assert.equal(frames.at(-2)?.kind, 'gatewayStopped');
  assert.equal(frames.at(-1)?.kind, 'checkpoint');
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.equal(report.logs[0]!.unsignedTail, 0);
});

test('a stream still running at the drain bound is cut, recorded and sealed', async (t) => {
  // A token every 200 ms: the stream needs seconds, the drain allows 100 ms.
  const { gateway, audit, openai } = await drainingGateway(t, 200, 100);
  const chat = await startChatStream(openai);
  const ended = chat.rest.then(
    (text) => ({ text }),
    (err: Error) => ({ err }),
  );

  await gateway.close();
  const outcome = await ended;
  const frames = await readFrames(audit.dir);
  const [finished] = framesOf(frames, 'exchangeFinished');
  const report = await verifyDir(audit.dir, audit.keys);

  assert.ok('err' in outcome, `the cut stream fails at the client, got ${JSON.stringify(outcome)}`);
  assert.ok(finished !== undefined, 'the cut exchange is recorded');
  assert.equal(frames.at(-1)?.kind, 'checkpoint');
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.equal(report.logs[0]!.unsignedTail, 0);
});

test('a request whose body is on its way when the drain begins is read and answered', async (t) => {
  const { gateway } = await drainingGateway(t, 0, 30_000);
  const client = await connectRawHttp(gateway.addresses.http);
  t.after(() => client.socket.destroy());
  const body = JSON.stringify({ model: 'echo', messages: [{ role: 'user', content: 'late' }] });

  // The 100 Continue says the gateway has the headers: the exchange is in flight, its body not.
  client.send(
    'POST /v1/chat/completions HTTP/1.1\r\nhost: g\r\ncontent-type: application/json\r\n' +
      `expect: 100-continue\r\ncontent-length: ${body.length}\r\n\r\n`,
  );
  await client.waitFor((text) => text.includes('100 Continue'));
  const closed = gateway.close();
  client.send(body);
  await client.closed;
  await closed;
  const response = client.received().slice(client.received().indexOf('\r\n\r\n') + 4);

  assert.match(response, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(response, /\r\nconnection: close\r\n/i);
  assert.match(response, /"content":"late"/);
});
