// Card data masked end to end through the HTTP listener in the message shapes the demo server
// never writes: tool calls, several choices, Responses API events, reasoning and refusal text,
// whole chat bodies, Triton binary infer bodies; and what masking must leave byte for byte alone.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { maskCardData } from '../../src/masking/card-masker';
import { startTestGateway } from '../fixtures/gateway-fixture';
import { splitAddress } from '../fixtures/http-client';
import { startRawHttpUpstream } from '../fixtures/raw-http-upstream';
import {
  answerBody,
  answerEvents,
  chunk,
  rawExchange,
  SSE_HEAD,
  writeOut,
} from '../fixtures/raw-http-exchange';
import { binaryBody, bytesElements } from '../codecs/triton-http-fixtures';

/** A raw upstream behind a gateway whose only route masks responses. */
async function rawBehindGateway(t: TestContext) {
  const upstream = await startRawHttpUpstream();
  t.after(() => upstream.close());
  const under = await startTestGateway(t, {
    upstreams: [{ name: 'raw', address: `http://${upstream.address}` }],
    routes: [{ name: 'raw', default: true, upstream: 'raw', masking: 'responses' }],
  });
  const address = under.gateway.addresses.http;
  const [host, port] = splitAddress(address);
  const base = `http://${host}:${port}`;
  const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'client-key', maxRetries: 0 });
  return { upstream, address, base, client };
}

/** What the one-shot masker makes of a whole text: the oracle for every streamed text. */
function oneShot(text: string): string {
  const bytes = Buffer.from(text);
  maskCardData(bytes);
  return bytes.toString();
}

/** `text` cut into pieces of `size` code points. */
function pieces(text: string, size: number): string[] {
  const points = [...text];
  const out: string[] = [];
  for (let i = 0; i < points.length; i += size) out.push(points.slice(i, i + size).join(''));
  return out;
}

/** One SSE event of a chat stream with these choices. */
function chatEvent(choices: readonly Record<string, unknown>[]): string {
  const chunk = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'm' };
  return `data: ${JSON.stringify({ ...chunk, choices })}\n\n`;
}

function deltaEvent(delta: Record<string, unknown>, index = 0): string {
  return chatEvent([{ index, delta, finish_reason: null }]);
}

function chatStreamRequest(body: Record<string, unknown> = {}): string {
  const json = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...body });
  return (
    'POST /v1/chat/completions HTTP/1.1\r\nhost: gateway\r\nconnection: close\r\n' +
    `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(json)}\r\n\r\n${json}`
  );
}

async function streamChat(client: OpenAI) {
  const stream = await client.chat.completions.create({
    model: 'm',
    messages: [{ role: 'user', content: 'hi' }],
    stream: true,
  });
  const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  for await (const part of stream) chunks.push(part);
  return chunks;
}

test('each streamed tool call is masked as its own text while the calls interleave', async (t) => {
  const { upstream, client } = await rawBehindGateway(t);
  const charge = '{"card":"4111 1111 1111 1111","amount":12}';
  const refund = '{"pan":"5555555555554444"}';
  const call = (index: number, fn: Record<string, unknown>, head = {}) =>
    deltaEvent({ tool_calls: [{ index, ...head, function: fn }] });
  const events = [
    call(0, { name: 'charge', arguments: '' }, { id: 'call_a', type: 'function' }),
    call(1, { name: 'refund', arguments: '' }, { id: 'call_b', type: 'function' }),
  ];
  const [first, second] = [pieces(charge, 5), pieces(refund, 3)];
  for (let i = 0; i < Math.max(first.length, second.length); i++) {
    if (i < first.length) events.push(call(0, { arguments: first[i] }));
    if (i < second.length) events.push(call(1, { arguments: second[i] }));
  }
  events.push(chatEvent([{ index: 0, delta: {}, finish_reason: 'tool_calls' }]));

  const pending = streamChat(client);
  answerEvents(await upstream.nextRequest(), [...events, 'data: [DONE]\n\n']);
  const chunks = await pending;

  const args = new Map<number, string>();
  for (const part of chunks) {
    for (const tool of part.choices[0]?.delta.tool_calls ?? []) {
      args.set(tool.index, (args.get(tool.index) ?? '') + (tool.function?.arguments ?? ''));
    }
  }
  assert.deepEqual([...args.entries()].sort(), [
    [0, '{"card":"**** **** **** 1111","amount":12}'],
    [1, '{"pan":"************4444"}'],
  ]);
  assert.equal(chunks.length, events.length, 'no event is lost or merged');
});

test('a card number split between two choices is not joined across them', async (t) => {
  const { upstream, client } = await rawBehindGateway(t);
  // Joined, the two would read `4111 1111 1111 1111`, a card number.
  const [zero, one] = ['pay with 4111 1111 ', '1111 1111 then stop'];
  assert.equal(oneShot(zero + one), 'pay with **** **** **** 1111 then stop');
  // vLLM writes one choice per event, told apart by `index`, not by position in `choices`.
  const apart = [
    ...pieces(zero, 4).map((text) => deltaEvent({ content: text }, 0)),
    ...pieces(one, 4).map((text) => deltaEvent({ content: text }, 1)),
  ];
  const together = [
    chatEvent([
      { index: 0, delta: { content: zero }, finish_reason: null },
      { index: 1, delta: { content: one }, finish_reason: null },
    ]),
  ];

  for (const events of [apart, together]) {
    const pending = streamChat(client);
    answerEvents(await upstream.nextRequest(), [...events, 'data: [DONE]\n\n']);
    const texts = new Map<number, string>();
    for (const part of await pending) {
      for (const choice of part.choices) {
        texts.set(choice.index, (texts.get(choice.index) ?? '') + (choice.delta.content ?? ''));
      }
    }
    assert.deepEqual([...texts.entries()].sort(), [
      [0, oneShot(zero)],
      [1, oneShot(one)],
    ]);
    assert.equal(texts.get(1), '1111 1111 then stop', 'eight digits alone are no card number');
  }
});

test('a Responses stream masks a number split across deltas and the done text', async (t) => {
  const { upstream, client } = await rawBehindGateway(t);
  const answer = 'Card 4111-1111-1111-1111 ok';
  const aside = 'Refund to 5555 5555 5555 4444.';
  const event = (type: string, fields: Record<string, unknown>) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, ...fields })}\n\n`;
  const part = (output: number) => ({ item_id: `msg_${output}`, output_index: output });
  const delta = (output: number, text: string) =>
    event('response.output_text.delta', { ...part(output), content_index: 0, delta: text });
  const done = (output: number, text: string) =>
    event('response.output_text.done', { ...part(output), content_index: 0, text });
  const message = (output: number, text: string) => ({
    type: 'message',
    id: `msg_${output}`,
    role: 'assistant',
    content: [{ type: 'output_text', text, annotations: [] }],
  });
  const [first, second] = [pieces(answer, 3), pieces(aside, 4)];
  const events = [event('response.created', { response: { id: 'resp_1', output: [] } })];
  for (let i = 0; i < Math.max(first.length, second.length); i++) {
    if (i < first.length) events.push(delta(0, first[i]!));
    if (i < second.length) events.push(delta(1, second[i]!));
  }
  events.push(done(0, answer), done(1, aside));
  const output = [message(0, answer), message(1, aside)];
  events.push(event('response.completed', { response: { id: 'resp_1', output } }));

  const pending = (async () => {
    const stream = await client.responses.create({ model: 'm', input: 'hi', stream: true });
    const seen: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const item of stream) seen.push(item);
    return seen;
  })();
  answerEvents(await upstream.nextRequest(), events);
  const seen = await pending;

  const [maskedAnswer, maskedAside] = [
    'Card ****-****-****-1111 ok',
    'Refund to **** **** **** 4444.',
  ];
  const deltas = ['', ''];
  const doneTexts: string[] = [];
  for (const item of seen) {
    if (item.type === 'response.output_text.delta') deltas[item.output_index] += item.delta;
    if (item.type === 'response.output_text.done') doneTexts.push(item.text);
  }
  assert.deepEqual(deltas, [maskedAnswer, maskedAside]);
  assert.deepEqual(doneTexts, [maskedAnswer, maskedAside]);
  const completed = seen.at(-1);
  assert.equal(completed?.type, 'response.completed');
  assert.deepEqual(completed.response.output, [message(0, maskedAnswer), message(1, maskedAside)]);
  assert.equal(seen.length, events.length);
});

test('streamed reasoning and refusal text are masked, each as its own text', async (t) => {
  const { upstream, client } = await rawBehindGateway(t);
  const reasoning = 'The user gave 4111 1111 1111 1111 as the card.';
  const refusal = 'I cannot store 5555 5555 5555 4444 here.';
  const [thoughts, refusals] = [pieces(reasoning, 3), pieces(refusal, 5)];
  const events: string[] = [];
  for (let i = 0; i < Math.max(thoughts.length, refusals.length); i++) {
    if (i < thoughts.length) events.push(deltaEvent({ reasoning_content: thoughts[i] }));
    if (i < refusals.length) events.push(deltaEvent({ refusal: refusals[i] }));
  }

  const pending = streamChat(client);
  answerEvents(await upstream.nextRequest(), [...events, 'data: [DONE]\n\n']);
  const chunks = await pending;

  const joined = { reasoning_content: '', refusal: '' };
  for (const part of chunks) {
    const delta = (part.choices[0]?.delta ?? {}) as Record<string, string | undefined>;
    joined.reasoning_content += delta.reasoning_content ?? '';
    joined.refusal += delta.refusal ?? '';
  }
  assert.deepEqual(joined, {
    reasoning_content: 'The user gave **** **** **** 1111 as the card.',
    refusal: 'I cannot store **** **** **** 4444 here.',
  });
});

test('a whole chat answer masks content and tool call arguments, length kept', async (t) => {
  const { upstream, base } = await rawBehindGateway(t);
  const answer = (content: string, args: string) => ({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'm',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content,
          tool_calls: [
            { id: 'call_a', type: 'function', function: { name: 'charge', arguments: args } },
          ],
        },
        finish_reason: 'tool_calls',
      },
    ],
    usage: { prompt_tokens: 5, completion_tokens: 20, total_tokens: 25 },
  });
  const sent = Buffer.from(
    JSON.stringify(
      answer(
        'Your card 4111 1111 1111 1111 is on file.',
        '{"card":"4111111111111111","note":"say \\"hi\\""}',
      ),
    ),
  );

  const pending = fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
  });
  answerBody(await upstream.nextRequest(), { 'content-type': 'application/json' }, sent);
  const response = await pending;
  const received = Buffer.from(await response.arrayBuffer());

  const expected = answer(
    'Your card **** **** **** 1111 is on file.',
    '{"card":"************1111","note":"say \\"hi\\""}',
  );
  assert.equal(received.toString(), JSON.stringify(expected));
  assert.deepEqual(JSON.parse(received.toString()), expected);
  assert.deepEqual(JSON.parse(expected.choices[0]!.message.tool_calls[0]!.function.arguments), {
    card: '************1111',
    note: 'say "hi"',
  });
  assert.equal(response.headers.get('content-length'), String(sent.length));
  assert.equal(received.length, sent.length);
});

test('Triton binary infer answers are masked in BYTES elements, lengths kept', async (t) => {
  const { upstream, base } = await rawBehindGateway(t);
  const elements = ['card 4111 1111 1111 1111 ok', 'ends 4111 1111', '1111 1111 next'];
  const texts = bytesElements(elements);
  // A numeric tensor is data, not text: its bytes spelling a card number must stay as they are.
  const scores = Buffer.from('4111111111111111');
  const tensor = (name: string, datatype: string, shape: number, size: number) => ({
    name,
    datatype,
    shape: [shape],
    parameters: { binary_data_size: size },
  });
  const header = {
    model_name: 'reader',
    outputs: [
      tensor('text_output', 'BYTES', elements.length, texts.length),
      tensor('scores', 'FP32', 4, scores.length),
    ],
  };
  const { body, headerLength } = binaryBody(header, [texts, scores]);

  const pending = fetch(`${base}/v2/models/reader/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      inputs: [{ name: 'text_input', datatype: 'BYTES', shape: [1], data: ['read it'] }],
      outputs: [{ name: 'text_output', parameters: { binary_data: true } }],
    }),
  });
  const headers = {
    'content-type': 'application/octet-stream',
    'inference-header-content-length': String(headerLength),
  };
  answerBody(await upstream.nextRequest(), headers, body);
  const response = await pending;
  const received = Buffer.from(await response.arrayBuffer());

  const masked = ['card **** **** **** 1111 ok', 'ends 4111 1111', '1111 1111 next'];
  assert.deepEqual(masked, elements.map(oneShot), 'elements are texts of their own');
  assert.deepEqual(received, binaryBody(header, [bytesElements(masked), scores]).body);
  assert.equal(response.headers.get('inference-header-content-length'), String(headerLength));
  assert.equal(response.headers.get('content-length'), String(body.length));
});

test('an embeddings answer and a model list pass byte for byte', async (t) => {
  const { upstream, base } = await rawBehindGateway(t);
  // Hand-written spacing and a number that reads as a card: any re-encoding would show.
  const embeddings = Buffer.from(
    '{ "object": "list",\n  "data": [ {"object":"embedding","index":0,\n' +
      '    "embedding":[0.0023064255, -0.009327292, 4111111111111111, 1e-7, -0.0]} ],\n' +
      '  "model": "embed-4111", "usage": {"prompt_tokens": 8, "total_tokens": 8} }\n',
  );
  const models = Buffer.from(
    '{"object":"list","data":[{"id":"m","object":"model","created":4111111111111111,' +
      '"owned_by":"vllm","max_model_len":4096}]}',
  );

  const embedded = fetch(`${base}/v1/embeddings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'embed', input: 'hello' }),
  });
  answerBody(await upstream.nextRequest(), { 'content-type': 'application/json' }, embeddings);
  const listed = fetch(`${base}/v1/models`);
  answerBody(await upstream.nextRequest(), { 'content-type': 'application/json' }, models);

  assert.deepEqual(Buffer.from(await (await embedded).arrayBuffer()), embeddings);
  assert.deepEqual(Buffer.from(await (await listed).arrayBuffer()), models);
});

test('transport chunks inside a UTF-8 character or a card number change nothing', async (t) => {
  const { upstream, address } = await rawBehindGateway(t);
  const text = 'Zürich €4111 1111 1111 1111€ ４１１１ １１１１ １１１１ １１１１ ✓';
  const masked = 'Zürich €**** **** **** 1111€ ************ ************ ************ １１１１ ✓';
  assert.equal(oneShot(text), masked);
  const before = deltaEvent({ role: 'assistant', content: 'Paid: ' });
  const done = 'data: [DONE]\n\n';

  const pending = rawExchange(address, chatStreamRequest({ stream: true }));
  const request = await upstream.nextRequest();
  request.socket.setNoDelay(true);
  request.socket.write(SSE_HEAD + chunk(before).toString('latin1'));
  // One byte per write and per transport chunk, so the gateway reads the event byte by byte.
  for (const byte of Buffer.from(deltaEvent({ content: text }))) {
    await writeOut(request.socket, chunk(Buffer.of(byte)));
  }
  request.socket.end(Buffer.concat([chunk(done), Buffer.from('0\r\n\r\n')]));
  const { head, body } = await pending;

  assert.match(head, /^HTTP\/1\.1 200 /);
  assert.equal(body.toString(), before + deltaEvent({ content: masked }) + done);
});

test('clean events leave as the exact bytes the upstream wrote', async (t) => {
  const { upstream, address } = await rawBehindGateway(t);
  const events = [
    ': keep-alive\n\n',
    `id: 1\nretry: 3000\n${deltaEvent({ role: 'assistant', content: '' })}`,
    // CRLF line ends, JSON escapes in clean text and digits that are no card number.
    'data: {"choices":[{"index":0,"delta":{"content":"Caf\\u00e9 order 12345 \\"ok\\"\\n"}}]}\r\n\r\n',
    // One event over two data lines, in one transport chunk with the next.
    'event: message\ndata: {"choices":[{"index":0,\ndata: "delta":{"content":" ships 2026-12-04 ☕"}}]}\n\n' +
      deltaEvent({ content: ' call +1 415 555 0100, ref 4111 1111.' }),
    chatEvent([{ index: 0, delta: {}, finish_reason: 'stop' }]).slice(0, 30),
    chatEvent([{ index: 0, delta: {}, finish_reason: 'stop' }]).slice(30),
    'data: [DONE]\n\n',
  ];
  const sent = Buffer.from(events.join(''));

  const pending = rawExchange(address, chatStreamRequest({ stream: true }));
  answerEvents(await upstream.nextRequest(), events);
  const { head, body } = await pending;

  assert.match(head, /^HTTP\/1\.1 200 /);
  assert.equal(body.toString('latin1'), sent.toString('latin1'));
});
