// The echo models over HTTP: OpenAI and Triton streams cut where demo_token_bytes says.

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import OpenAI from 'openai';
import type {
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
} from 'openai/resources/chat/completions';
import { startDemoHttpServer, type DemoHttpServer } from '../../src/demo/demo-http-server';
import { tokenize } from '../../src/demo/reply-script';

/** Multi-byte characters of each UTF-8 length, a surrogate pair among them. */
const PROMPT = 'Kärte 4111 1111 1111 1111 € 😀 ok';

/** Starts a demo HTTP server on port 0, closed after the test. */
async function startServer(t: TestContext): Promise<DemoHttpServer> {
  const server = await startDemoHttpServer({ port: 0 });
  t.after(() => server.close());
  return server;
}

/** The official SDK pointed at the server; no retries, so failures show at once. */
function openAiClient(server: DemoHttpServer): OpenAI {
  return new OpenAI({ baseURL: `http://${server.address}/v1`, apiKey: 'x', maxRetries: 0 });
}

/** POSTs a JSON body with fetch. */
function post(server: DemoHttpServer, path: string, body: unknown): Promise<Response> {
  return fetch(`http://${server.address}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** The `text_output` of every event of a generate_stream answer. */
async function generatedPieces(response: Response): Promise<string[]> {
  assert.equal(response.status, 200);
  return (await response.text())
    .split('\n\n')
    .filter((event) => event.startsWith('data: '))
    .map((event) => JSON.parse(event.slice('data: '.length)) as { text_output: string })
    .map((event) => event.text_output);
}

/** Streams a chat completion of `model` for PROMPT and collects its content deltas. */
async function chatDeltas(client: OpenAI, model: string, extra: object): Promise<string[]> {
  const stream = await client.chat.completions.create({
    model,
    messages: [{ role: 'user', content: PROMPT }],
    stream: true,
    ...extra,
  } as ChatCompletionCreateParamsStreaming);
  const deltas: string[] = [];
  for await (const chunk of stream) {
    const content = chunk.choices[0]?.delta.content;
    if (content !== undefined && content !== null && content !== '') {
      deltas.push(content);
    }
  }
  return deltas;
}

/** The code points of a string, so that a surrogate pair counts once. */
function codePoints(text: string): number {
  return Array.from(text).length;
}

test('streams echo chat deltas of demo_token_bytes code points', async (t) => {
  const client = openAiClient(await startServer(t));

  const deltas = await chatDeltas(client, 'echo', { demo_token_bytes: 2 });
  const limited = await chatDeltas(client, 'echo', { demo_token_bytes: 2, max_tokens: 3 });

  assert.equal(deltas.join(''), PROMPT);
  assert.equal(deltas.length, Math.ceil(codePoints(PROMPT) / 2));
  assert.ok(deltas.every((delta) => codePoints(delta) >= 1 && codePoints(delta) <= 2));
  assert.ok(deltas.includes('😀 '));
  assert.deepEqual(limited, deltas.slice(0, 3));
});

test('serves echo-stream over the OpenAI routes as it serves echo', async (t) => {
  const client = openAiClient(await startServer(t));

  const words = await chatDeltas(client, 'echo-stream', {});
  const pieces = await chatDeltas(client, 'echo-stream', { demo_token_bytes: 5 });
  const whole = await client.chat.completions.create({
    model: 'echo-stream',
    messages: [{ role: 'user', content: PROMPT }],
    demo_token_bytes: 5,
  } as ChatCompletionCreateParamsNonStreaming);
  const completion = await client.completions.create({ model: 'echo-stream', prompt: PROMPT });

  assert.deepEqual(words, tokenize(PROMPT));
  assert.equal(pieces.join(''), PROMPT);
  assert.ok(pieces.slice(0, -1).every((piece) => codePoints(piece) === 5));
  assert.equal(whole.choices[0]?.message.content, PROMPT);
  assert.equal(whole.usage?.completion_tokens, pieces.length);
  assert.equal(completion.choices[0]?.text, PROMPT);
});

test('answers a demo_token_bytes below 1 with 400 naming the field', async (t) => {
  const server = await startServer(t);

  const response = await post(server, '/v1/chat/completions', {
    model: 'echo',
    messages: [{ role: 'user', content: PROMPT }],
    demo_token_bytes: 0,
  });

  assert.equal(response.status, 400);
  const body = (await response.json()) as { error: { param: string } };
  assert.equal(body.error.param, 'demo_token_bytes');
});

test('streams echo-stream generate_stream in words or demo_token_bytes code points', async (t) => {
  const server = await startServer(t);
  const stream = '/v2/models/echo-stream/generate_stream';

  const words = await generatedPieces(await post(server, stream, { text_input: PROMPT }));
  const byParameter = await generatedPieces(
    await post(server, stream, { text_input: PROMPT, parameters: { demo_token_bytes: 3 } }),
  );
  const byField = await generatedPieces(
    await post(server, stream, { text_input: PROMPT, demo_token_bytes: 3 }),
  );
  const whole = await post(server, '/v2/models/echo-stream/generate', {
    text_input: PROMPT,
    demo_token_bytes: 3,
  });
  const zero = await post(server, stream, { text_input: PROMPT, demo_token_bytes: 0 });

  assert.deepEqual(words, tokenize(PROMPT));
  assert.equal(byParameter.join(''), PROMPT);
  assert.equal(byParameter.length, Math.ceil(codePoints(PROMPT) / 3));
  assert.ok(byParameter.slice(0, -1).every((piece) => codePoints(piece) === 3));
  assert.deepEqual(byField, byParameter);
  assert.equal(((await whole.json()) as { text_output: string }).text_output, PROMPT);
  assert.equal(zero.status, 400);
});

test('lists echo-stream as decoupled on the Triton model routes', async (t) => {
  const server = await startServer(t);

  const ready = await fetch(`http://${server.address}/v2/models/echo-stream/ready`);
  const config = (await (
    await fetch(`http://${server.address}/v2/models/echo-stream/config`)
  ).json()) as { model_transaction_policy: { decoupled: boolean } };

  assert.equal(ready.status, 200);
  assert.deepEqual(config.model_transaction_policy, { decoupled: true });
});
