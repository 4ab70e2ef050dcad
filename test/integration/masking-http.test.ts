// Card data masked end to end through the HTTP listener: OpenAI and Triton clients, streamed
// and whole, with the demo model server echoing card numbers split across its tokens.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startDemoHttpServer } from '../../src/demo/demo-http-server';
import { startTestGateway } from '../fixtures/gateway-fixture';
import { splitAddress } from '../fixtures/http-client';
import { startRawHttpUpstream } from '../fixtures/raw-http-upstream';
import { answerEvents, chunk, SSE_HEAD } from '../fixtures/raw-http-exchange';

const CARD = '4111 1111 1111 1111';
const MASKED = '**** **** **** 1111';
const PROMPT = `Charge card ${CARD}, CVV 123, for the order.`;
const MASKED_PROMPT = `Charge card ${MASKED}, CVV ***, for the order.`;

async function demoBehindGateway(t: TestContext, document: Record<string, unknown> = {}) {
  const demo = await startDemoHttpServer({ tokenDelayMs: 0 });
  t.after(() => demo.close());
  const under = await startTestGateway(t, {
    upstreams: [{ name: 'demo-http', address: `http://${demo.address}` }],
    ...document,
  });
  const [host, port] = splitAddress(under.gateway.addresses.http);
  const base = `http://${host}:${port}`;
  const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'client-key', maxRetries: 0 });
  return { demo, base, client, ...under };
}

/** Responses only, so the model sees the card and the test sees what masking made of it. */
const RESPONSES_ONLY = {
  routes: [{ name: 'demo', default: true, upstream: 'demo-http', masking: 'responses' }],
};

async function streamedChat(client: OpenAI, content: string, pieceSize: number) {
  // `demo_token_bytes` is the demo server's knob: how many code points each delta carries.
  const params = {
    model: 'echo',
    messages: [{ role: 'user' as const, content }],
    stream: true as const,
    demo_token_bytes: pieceSize,
  };
  const stream = await client.chat.completions.create(params);
  const deltas: string[] = [];
  for await (const chunk of stream) deltas.push(chunk.choices[0]?.delta.content ?? '');
  return deltas;
}

test('a card number split across streamed chat deltas reaches the client masked', async (t) => {
  const { client } = await demoBehindGateway(t, RESPONSES_ONLY);

  for (const size of [1, 2, 3, 5, 8]) {
    const deltas = await streamedChat(client, PROMPT, size);
    assert.equal(deltas.join(''), MASKED_PROMPT, `pieces of ${size}`);
    assert.ok(deltas.filter((delta) => delta !== '').length >= PROMPT.length / size);
  }
});

test('digits of other scripts and invisible characters between them are masked too', async (t) => {
  const { client } = await demoBehindGateway(t, RESPONSES_ONLY);
  const fullWidth = '４１１１ １１１１ １１１１ １１１１';
  const invisible = [...'4111111111111111'].join('\u200b');

  const wide = await streamedChat(client, `pay with ${fullWidth} now`, 1);
  const hidden = await streamedChat(client, `or ${invisible}.`, 2);

  // A masked character keeps its byte length: a full-width digit takes three bytes.
  const stars = '*'.repeat(12);
  assert.equal(wide.join(''), `pay with ${stars} ${stars} ${stars} １１１１ now`);
  assert.equal(hidden.join(''), `or ${[...'************1111'].join('\u200b')}.`);
});

test('clean text streams through unchanged, one delta per token', async (t) => {
  const { client } = await demoBehindGateway(t, RESPONSES_ONLY);
  const text = 'Order 12345 ships on 2026-12-04 to 10.0.0.1, phone +1 415 555 0100.';

  const deltas = await streamedChat(client, text, 4);

  assert.equal(deltas.join(''), text);
});

test('prompts are masked before the model sees them on a route that masks both', async (t) => {
  const { client } = await demoBehindGateway(t);

  const answer = await client.chat.completions.create({
    model: 'echo',
    messages: [{ role: 'user', content: PROMPT }],
  });

  // The echo model repeats what it received: the masked prompt.
  assert.equal(answer.choices[0]?.message.content, MASKED_PROMPT);
});

test('a non-streamed answer and every choice of a streamed completion are masked', async (t) => {
  const { client } = await demoBehindGateway(t, RESPONSES_ONLY);

  const whole = await client.completions.create({ model: 'echo', prompt: PROMPT });
  assert.equal(whole.choices[0]?.text, MASKED_PROMPT);

  const params = {
    model: 'echo',
    prompt: PROMPT,
    n: 2,
    stream: true as const,
    demo_token_bytes: 3,
  };
  const stream = await client.completions.create(params);
  const texts = new Map<number, string>();
  for await (const chunk of stream) {
    for (const choice of chunk.choices) {
      texts.set(choice.index, (texts.get(choice.index) ?? '') + choice.text);
    }
  }
  assert.deepEqual([...texts.entries()].sort(), [
    [0, MASKED_PROMPT],
    [1, MASKED_PROMPT],
  ]);
});

test('a route that masks nothing relays card data as the model wrote it', async (t) => {
  const { client } = await demoBehindGateway(t, {
    routes: [{ name: 'demo', default: true, upstream: 'demo-http', masking: 'none' }],
  });

  const deltas = await streamedChat(client, PROMPT, 3);

  assert.equal(deltas.join(''), PROMPT);
});

test('Triton generate_stream and infer answers are masked', async (t) => {
  const { base } = await demoBehindGateway(t, RESPONSES_ONLY);

  const streamed = await fetch(`${base}/v2/models/echo-stream/generate_stream`, {
    method: 'POST',
    body: JSON.stringify({ text_input: PROMPT, parameters: { demo_token_bytes: 2 } }),
  });
  const events = (await streamed.text()).split('\n\n').filter((block) => block.startsWith('data:'));
  const outputs = events.map((block) => JSON.parse(block.slice(5)).text_output as string);
  assert.ok(outputs.length > 10);
  assert.equal(outputs.join(''), MASKED_PROMPT);

  const infer = await fetch(`${base}/v2/models/echo/infer`, {
    method: 'POST',
    body: JSON.stringify({
      inputs: [{ name: 'text_input', datatype: 'BYTES', shape: [1], data: [PROMPT] }],
    }),
  });
  const answer = (await infer.json()) as { outputs: { data: string[] }[] };
  assert.deepEqual(answer.outputs[0]?.data, [MASKED_PROMPT]);
});

test('the access log counts what was masked, never the digits', async (t) => {
  const { client, logs } = await demoBehindGateway(t, RESPONSES_ONLY);

  await streamedChat(client, PROMPT, 2);

  const access = await logs.waitFor((line) => line.msg === 'access');
  assert.deepEqual((access.masked as { response: unknown }).response, { pan: 1, cvv: 1 });
  assert.doesNotMatch(logs.text(), /4111 1111/);
});

test("an operator's own pattern is masked in a stream whatever the split, and counted", async (t) => {
  const { client, logs } = await demoBehindGateway(t, {
    ...RESPONSES_ONLY,
    masking: { patterns: [{ name: 'employee-id', regex: 'EMP-\\d{6}' }] },
  });
  const text = 'Ask EMP-204817 about EMP-12345 and card 4111111111111111.';

  for (const size of [1, 3, 7]) {
    const deltas = await streamedChat(client, text, size);
    assert.equal(deltas.join(''), 'Ask ********** about EMP-12345 and card ************1111.');
  }

  const access = await logs.waitFor((line) => line.msg === 'access');
  const masked = access.masked as { response: unknown };
  assert.deepEqual(masked.response, { pan: 1, patterns: { 'employee-id': 1 } });
  assert.doesNotMatch(logs.text(), /EMP-204817/);
});

test('escaped digits in an upstream event are masked and the event re-encoded', async (t) => {
  const upstream = await startRawHttpUpstream();
  t.after(() => upstream.close());
  const { client } = await rawBehindGateway(t, upstream.address);
  const escaped = '\\u0034111 1111 1111 \\u00311\\u00311';
  const events = [
    chatEvent('card \\"'),
    chatEvent(escaped.slice(0, 10)),
    chatEvent(escaped.slice(10)),
    chatEvent('\\" done'),
  ];

  const pending = streamedChat(client, 'hi', 1);
  answerEvents(await upstream.nextRequest(), [...events, 'data: [DONE]\n\n']);

  assert.equal((await pending).join(''), `card "${MASKED}" done`);
});

test('an event that is not JSON ends the stream with an error instead of passing', async (t) => {
  const upstream = await startRawHttpUpstream();
  t.after(() => upstream.close());
  const { client } = await rawBehindGateway(t, upstream.address);

  const pending = streamedChat(client, 'hi', 1).then(
    () => undefined,
    (err: unknown) => err,
  );
  const request = await upstream.nextRequest();
  request.socket.write(SSE_HEAD);
  request.socket.write(chunk(chatEvent('card 4111 1111 ')));
  request.socket.write(chunk('data: {"choices": [{"delta": {"content": "1111 1111"\n\n'));

  const err = await pending;
  assert.ok(err instanceof Error, 'the stream ends with an error');
  assert.doesNotMatch(String(err), /1111 1111/);
});

async function rawBehindGateway(t: TestContext, address: string) {
  const under = await startTestGateway(t, {
    upstreams: [{ name: 'raw', address: `http://${address}` }],
    routes: [{ name: 'raw', default: true, upstream: 'raw', masking: 'responses' }],
  });
  const [host, port] = splitAddress(under.gateway.addresses.http);
  const client = new OpenAI({
    baseURL: `http://${host}:${port}/v1`,
    apiKey: 'client-key',
    maxRetries: 0,
  });
  return { client, ...under };
}

/** A chat stream event whose delta is `wire`, written as JSON string content (escapes kept). */
function chatEvent(wire: string): string {
  return `data: {"choices":[{"index":0,"delta":{"content":"${wire}"},"finish_reason":null}]}\n\n`;
}
