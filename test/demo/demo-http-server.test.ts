// The demo server's HTTP side, OpenAI / vLLM routes: through real sockets, the openai SDK, fetch.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test, type TestContext } from 'node:test';
import OpenAI from 'openai';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import {
  startDemoHttpServer,
  type DemoHttpServer,
  type DemoHttpServerOptions,
} from '../../src/demo/demo-http-server';
import { pickReply, tokenize } from '../../src/demo/reply-script';

const PROMPT = 'What does infergate do?';
const REPLY = pickReply(Buffer.from(PROMPT));
const USER_MESSAGES = [{ role: 'user' as const, content: PROMPT }];

/** Starts a demo HTTP server on port 0, closed after the test. */
async function startServer(
  t: TestContext,
  options: DemoHttpServerOptions = {},
): Promise<DemoHttpServer> {
  const server = await startDemoHttpServer({ port: 0, ...options });
  t.after(() => server.close());
  return server;
}

/** The official SDK pointed at the server; no retries, so failures show at once. */
function openAiClient(server: DemoHttpServer, apiKey = 'x'): OpenAI {
  return new OpenAI({ baseURL: `http://${server.address}/v1`, apiKey, maxRetries: 0 });
}

/** POSTs a JSON body (or raw text) with fetch. */
function post(server: DemoHttpServer, path: string, body: unknown): Promise<Response> {
  return fetch(`http://${server.address}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** The JSON documents of an event stream's `data:` lines, `[DONE]` kept as a string. */
function sseDocuments(text: string): unknown[] {
  return text
    .split('\n\n')
    .filter((event) => event.startsWith('data: '))
    .map((event) => event.slice('data: '.length))
    .map((data) => (data === '[DONE]' ? data : (JSON.parse(data) as unknown)));
}

interface ChunkChoice {
  index: number;
  delta: { role?: string; content?: string };
  finish_reason: string | null;
}

test('answers a chat completion with the scripted reply and its usage', async (t) => {
  const client = openAiClient(await startServer(t));

  const completion = await client.chat.completions.create({
    model: 'demo-chat',
    messages: [{ role: 'system', content: 'Be brief.' }, ...USER_MESSAGES],
  });

  assert.equal(completion.object, 'chat.completion');
  assert.match(completion.id, /^chatcmpl-/);
  assert.equal(completion.choices[0]?.message.content, REPLY);
  assert.equal(completion.choices[0]?.finish_reason, 'stop');
  const promptTokens = tokenize('Be brief.').length + tokenize(PROMPT).length;
  assert.deepEqual(completion.usage, {
    prompt_tokens: promptTokens,
    completion_tokens: tokenize(REPLY).length,
    total_tokens: promptTokens + tokenize(REPLY).length,
  });
});

test('streams a chat completion token by token, then usage when asked for', async (t) => {
  const client = openAiClient(await startServer(t));

  const stream = await client.chat.completions.create({
    model: 'demo-chat',
    messages: USER_MESSAGES,
    stream: true,
    stream_options: { include_usage: true },
  });
  const chunks = [];
  for await (const chunk of stream) {
    chunks.push(chunk);
  }

  assert.deepEqual(chunks[0]?.choices[0]?.delta, { role: 'assistant', content: '' });
  const deltas = chunks.flatMap((chunk) => chunk.choices.map((choice) => choice.delta.content));
  assert.equal(deltas.join(''), REPLY);
  assert.equal(chunks.length, 1 + tokenize(REPLY).length + 2);
  assert.equal(chunks.at(-2)?.choices[0]?.finish_reason, 'stop');
  assert.deepEqual(chunks.at(-1)?.choices, []);
  assert.equal(chunks.at(-1)?.usage?.completion_tokens, tokenize(REPLY).length);
});

test('interleaves n choices by index, cuts at max_tokens and ends with [DONE]', async (t) => {
  const server = await startServer(t);

  const response = await post(server, '/v1/chat/completions', {
    messages: USER_MESSAGES,
    stream: true,
    n: 2,
    max_tokens: 3,
  });

  assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const text = await response.text();
  assert.ok(text.endsWith('data: [DONE]\n\n'));
  const chunks = sseDocuments(text).slice(0, -1) as { choices: ChunkChoice[] }[];
  const indexes = chunks.map((chunk) => chunk.choices[0]?.index);
  assert.deepEqual(indexes, [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
  const contents = chunks.slice(2, 8).map((chunk) => chunk.choices[0]?.delta.content);
  const words = tokenize(REPLY).slice(0, 3);
  assert.deepEqual(
    contents,
    words.flatMap((word) => [word, word]),
  );
  assert.deepEqual(
    chunks.slice(-2).map((chunk) => chunk.choices[0]?.finish_reason),
    ['length', 'length'],
  );
  assert.ok(
    chunks.every((chunk) => !('usage' in chunk)),
    'no usage chunk unless asked',
  );
});

test('demo_tokens gives exactly that many tokens, and echo answers the prompt', async (t) => {
  const client = openAiClient(await startServer(t));
  const exact = await client.chat.completions.create({
    model: 'demo-chat',
    messages: USER_MESSAGES,
    demo_tokens: 40,
  } as ChatCompletionCreateParamsNonStreaming);
  const echoed = await client.chat.completions.create({
    model: 'echo',
    messages: [{ role: 'user', content: [{ type: 'text', text: PROMPT }] }],
  });

  assert.equal(exact.usage?.completion_tokens, 40);
  assert.equal(tokenize(exact.choices[0]?.message.content ?? '').length, 40);
  assert.ok(exact.choices[0]?.message.content?.startsWith(REPLY));
  assert.equal(echoed.choices[0]?.message.content, PROMPT);
});

test('answers text completions whole and streamed, one choice per prompt', async (t) => {
  const client = openAiClient(await startServer(t));

  const whole = await client.completions.create({ model: 'demo-chat', prompt: [PROMPT, 'hi'] });
  const stream = await client.completions.create({
    model: 'demo-chat',
    prompt: PROMPT,
    stream: true,
  });
  let streamed = '';
  for await (const chunk of stream) {
    streamed += chunk.choices[0]?.text ?? '';
  }

  assert.equal(whole.object, 'text_completion');
  assert.deepEqual(
    whole.choices.map((choice) => [choice.index, choice.text]),
    [
      [0, REPLY],
      [1, pickReply(Buffer.from('hi'))],
    ],
  );
  assert.equal(streamed, REPLY);
});

test('embeds each input as a deterministic unit vector, base64 or float', async (t) => {
  const server = await startServer(t);
  const client = openAiClient(server);

  const viaSdk = await client.embeddings.create({ model: 'demo-chat', input: [PROMPT, 'hi'] });
  const asFloats = (await (
    await post(server, '/v1/embeddings', { input: PROMPT, encoding_format: 'float' })
  ).json()) as { data: { embedding: number[] }[] };

  assert.equal(viaSdk.data.length, 2);
  const first = Array.from(viaSdk.data[0]?.embedding ?? []);
  assert.equal(first.length, 16);
  assert.ok(Math.abs(Math.hypot(...first) - 1) < 1e-5);
  assert.deepEqual(asFloats.data[0]?.embedding, first);
  assert.notDeepEqual(Array.from(viaSdk.data[1]?.embedding ?? []), first);
});

test('lists every model in the vLLM shape', async (t) => {
  const client = openAiClient(await startServer(t));

  const page = await client.models.list();

  assert.deepEqual(
    page.data.map((model) => [model.id, model.object, model.owned_by]),
    [
      ['demo-chat', 'model', 'vllm'],
      ['echo', 'model', 'vllm'],
      ['echo-stream', 'model', 'vllm'],
    ],
  );
  const card = page.data[0] as unknown as { root: string; max_model_len: number };
  assert.equal(card.root, 'demo-chat');
  assert.equal(card.max_model_len, 4096);
});

test('answers the Responses API whole and as a typed event stream', async (t) => {
  const client = openAiClient(await startServer(t));

  const whole = await client.responses.create({ model: 'demo-chat', input: PROMPT });
  const stream = await client.responses.create({ model: 'demo-chat', input: PROMPT, stream: true });
  const events = [];
  for await (const event of stream) {
    events.push(event);
  }

  assert.equal(whole.output_text, REPLY);
  assert.equal(whole.status, 'completed');
  assert.deepEqual(
    events.map((event) => event.sequence_number),
    events.map((_, i) => i),
  );
  const types = events.map((event) => event.type);
  assert.equal(types[0], 'response.created');
  assert.equal(types.at(-1), 'response.completed');
  assert.equal(
    types.filter((type) => type === 'response.output_text.delta').length,
    tokenize(REPLY).length,
  );
  const deltas = events.map((event) =>
    event.type === 'response.output_text.delta' ? event.delta : '',
  );
  assert.equal(deltas.join(''), REPLY);
  const done = events.find((event) => event.type === 'response.output_text.done');
  assert.equal(done?.type === 'response.output_text.done' ? done.text : undefined, REPLY);
});

test('answers an unknown model with 404 NotFoundError in the vLLM shape', async (t) => {
  const client = openAiClient(await startServer(t));

  const failed = client.chat.completions.create({
    model: 'no-such-model',
    messages: USER_MESSAGES,
  });

  await assert.rejects(failed, (err: unknown) => {
    assert.ok(err instanceof OpenAI.NotFoundError);
    assert.equal(err.status, 404);
    assert.equal(err.type, 'NotFoundError');
    assert.equal(err.param, 'model');
    return true;
  });
});

test('answers malformed JSON and bad fields with 400 BadRequestError', async (t) => {
  const server = await startServer(t);

  const malformed = await post(server, '/v1/chat/completions', '{"messages": [');
  const badField = await post(server, '/v1/completions', { prompt: PROMPT, max_tokens: -1 });

  assert.equal(malformed.status, 400);
  const body = (await malformed.json()) as { error: Record<string, unknown> };
  assert.equal(body.error.type, 'BadRequestError');
  assert.equal(body.error.code, 400);
  assert.equal(badField.status, 400);
  const fault = (await badField.json()) as { error: Record<string, unknown> };
  assert.equal(fault.error.param, 'max_tokens');
});

test('with an api key, /v1 routes need the bearer token and health stays open', async (t) => {
  const server = await startServer(t, { apiKey: 'demo-secret' });

  await assert.rejects(openAiClient(server, 'wrong').models.list(), OpenAI.AuthenticationError);
  const right = await openAiClient(server, 'demo-secret').models.list();
  const bare = await fetch(`http://${server.address}/v1/models`);
  const health = await fetch(`http://${server.address}/health`);

  assert.equal(right.data.length, 3);
  assert.equal(bare.status, 401);
  assert.equal(((await bare.json()) as { error: { code: number } }).error.code, 401);
  assert.equal(health.status, 200);
});

test('tokenizes words into stable ids and detokenizes them back', async (t) => {
  const server = await startServer(t);

  const tokenized = (await (await post(server, '/tokenize', { prompt: PROMPT })).json()) as {
    count: number;
    max_model_len: number;
    tokens: number[];
  };
  const again = (await (await post(server, '/tokenize', { prompt: PROMPT })).json()) as {
    tokens: number[];
  };
  const detokenized = await post(server, '/detokenize', { tokens: tokenized.tokens });
  const unknown = await post(server, '/detokenize', { tokens: [7] });

  assert.equal(tokenized.count, tokenize(PROMPT).length);
  assert.equal(tokenized.max_model_len, 4096);
  assert.deepEqual(again.tokens, tokenized.tokens);
  assert.deepEqual(await detokenized.json(), { prompt: PROMPT });
  assert.equal(unknown.status, 400);
});

test('answers /health with 200 and an empty body, and /version', async (t) => {
  const server = await startServer(t);

  const health = await fetch(`http://${server.address}/health`);
  const version = await fetch(`http://${server.address}/version`);

  assert.equal(health.status, 200);
  assert.equal(await health.text(), '');
  assert.match(((await version.json()) as { version: string }).version, /^\d+\.\d+\.\d+/);
});

test('reports each request with its method, path, headers and body', async (t) => {
  const server = await startServer(t);
  const reported = once(server.events, 'request');

  await (await post(server, '/v1/chat/completions', { messages: USER_MESSAGES })).text();

  const [method, path, headers, body] = (await reported) as [string, string, object, Buffer];
  assert.equal(method, 'POST');
  assert.equal(path, '/v1/chat/completions');
  assert.equal((headers as Record<string, string>)['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(body.toString()), { messages: USER_MESSAGES });
});

test('sends the first token at once and stops when the client goes away', async (t) => {
  const server = await startServer(t, { tokenDelayMs: 60_000 });
  const controller = new AbortController();
  const response = await fetch(`http://${server.address}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: USER_MESSAGES, stream: true }),
    signal: controller.signal,
  });
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const firstToken = JSON.stringify({ content: tokenize(REPLY)[0] });

  let received = '';
  while (!received.includes(firstToken)) {
    const { value } = await reader.read();
    received += Buffer.from(value ?? new Uint8Array()).toString();
  }
  const disconnected = once(server.events, 'disconnected');
  controller.abort();

  assert.deepEqual(await disconnected, ['/v1/chat/completions']);
  assert.ok(!received.includes('finish_reason":"stop'));
});

test('streams a long answer whole through socket backpressure', async (t) => {
  const server = await startServer(t);

  const response = await post(server, '/v1/completions', {
    prompt: PROMPT,
    stream: true,
    demo_tokens: 20_000,
  });
  const chunks = sseDocuments(await response.text());

  assert.equal(chunks.at(-1), '[DONE]');
  assert.equal(chunks.length, 20_000 + 2);
});
