// OpenAI, vLLM and Triton HTTP clients through the gateway to the demo model server.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startDemoHttpServer } from '../../src/demo/demo-http-server';
import { startTestGateway } from '../fixtures/gateway-fixture';
import { splitAddress } from '../fixtures/http-client';

async function demoBehindGateway(t: TestContext, document: Record<string, unknown> = {}) {
  const demo = await startDemoHttpServer({ tokenDelayMs: 0, apiKey: 'demo-upstream-key' });
  t.after(() => demo.close());
  const under = await startTestGateway(t, {
    upstreams: [
      {
        name: 'demo-http',
        address: `http://${demo.address}`,
        credentials: { bearerToken: 'demo-upstream-key' },
      },
    ],
    ...document,
  });
  const [host, port] = splitAddress(under.gateway.addresses.http);
  const base = `http://${host}:${port}`;
  const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'client-key', maxRetries: 0 });
  const direct = new OpenAI({
    baseURL: `http://${demo.address}/v1`,
    apiKey: 'demo-upstream-key',
    maxRetries: 0,
  });
  return { demo, base, client, direct, ...under };
}

const MESSAGES = [{ role: 'user' as const, content: 'What does a gateway do?' }];

test('a non-streamed chat completion through the gateway equals the direct one', async (t) => {
  const { client, direct } = await demoBehindGateway(t);

  const proxied = await client.chat.completions.create({ model: 'demo-chat', messages: MESSAGES });
  const expected = await direct.chat.completions.create({ model: 'demo-chat', messages: MESSAGES });

  assert.equal(proxied.choices[0]?.message.content, expected.choices[0]?.message.content);
  assert.ok((proxied.choices[0]?.message.content ?? '').length > 0);
  assert.deepEqual(proxied.usage, expected.usage);
});

test('a streamed chat completion arrives delta by delta with its usage chunk', async (t) => {
  const { client, direct } = await demoBehindGateway(t);
  const whole = await direct.chat.completions.create({ model: 'demo-chat', messages: MESSAGES });

  const stream = await client.chat.completions.create({
    model: 'demo-chat',
    messages: MESSAGES,
    stream: true,
    stream_options: { include_usage: true },
  });
  const deltas: string[] = [];
  let usage: OpenAI.CompletionUsage | undefined | null;
  for await (const chunk of stream) {
    deltas.push(chunk.choices[0]?.delta.content ?? '');
    usage = chunk.usage ?? usage;
  }

  assert.ok(deltas.filter((delta) => delta !== '').length > 3);
  assert.equal(deltas.join(''), whole.choices[0]?.message.content);
  assert.equal(usage?.completion_tokens, whole.usage?.completion_tokens);
});

test('completions, embeddings and the model list pass through', async (t) => {
  const { client } = await demoBehindGateway(t);

  const completion = await client.completions.create({ model: 'echo', prompt: 'say this back' });
  const embedding = await client.embeddings.create({ model: 'demo-chat', input: ['a', 'b'] });
  const models = await client.models.list();

  assert.equal(completion.choices[0]?.text, 'say this back');
  assert.equal(embedding.data.length, 2);
  assert.deepEqual(
    models.data.map((model) => model.id),
    ['demo-chat', 'echo', 'echo-stream'],
  );
});

test('relays the upstream error for an unknown model as the SDK expects', async (t) => {
  const { client } = await demoBehindGateway(t);

  const error = await client.chat.completions
    .create({ model: 'no-such-model', messages: MESSAGES })
    .then(
      () => undefined,
      (err: unknown) => err,
    );

  assert.ok(error instanceof OpenAI.NotFoundError);
  assert.equal(error.status, 404);
});

test('answers 404 in the OpenAI shape when no route takes the model', async (t) => {
  const { client } = await demoBehindGateway(t, {
    routes: [{ name: 'echo-only', models: ['echo'], upstream: 'demo-http' }],
  });

  const error = await client.chat.completions
    .create({ model: 'llama-70b', messages: MESSAGES })
    .then(
      () => undefined,
      (err: unknown) => err,
    );

  assert.ok(error instanceof OpenAI.NotFoundError);
  assert.equal(error.message, '404 no route for model "llama-70b"');
  assert.equal(error.code, 'route_not_found');
});

test('Triton HTTP infer and generate_stream pass through', async (t) => {
  const { base } = await demoBehindGateway(t);

  const infer = await fetch(`${base}/v2/models/echo/infer`, {
    method: 'POST',
    body: JSON.stringify({
      inputs: [{ name: 'text_input', datatype: 'BYTES', shape: [1], data: ['hello triton'] }],
    }),
  });
  const stream = await fetch(`${base}/v2/models/demo-chat/generate_stream`, {
    method: 'POST',
    body: JSON.stringify({ text_input: 'hello', parameters: { demo_tokens: 5 } }),
  });
  const events = (await stream.text()).split('\n\n').filter((event) => event.startsWith('data:'));

  assert.equal(infer.status, 200);
  const inferred = (await infer.json()) as { outputs: { data: string[] }[] };
  assert.deepEqual(inferred.outputs[0]?.data, ['hello triton']);
  assert.equal(stream.headers.get('content-type')?.startsWith('text/event-stream'), true);
  assert.equal(events.length, 5);
});

test('logs one access line per HTTP exchange without payload text', async (t) => {
  const { client, logs } = await demoBehindGateway(t);

  await client.chat.completions.create({
    model: 'echo',
    messages: [{ role: 'user', content: 'secret prompt text' }],
  });
  const line = await logs.waitFor((l) => l.msg === 'access' && l.listener === 'http');

  assert.equal(line.operation, 'chat.completions');
  assert.equal(line.model, 'echo');
  assert.equal(line.upstream, 'demo-http');
  assert.equal(line.status, 200);
  assert.equal(logs.text().includes('secret prompt text'), false);
});
