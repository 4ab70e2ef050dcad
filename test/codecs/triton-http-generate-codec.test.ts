// Decoding the Triton generate extension (Triton generate extension) through real bytes: request
// bodies, `/generate` responses and `/generate_stream` events delivered by the SSE decoder.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { JsonTextSpan } from '../../src/codecs/json-path';
import { decodeJsonString } from '../../src/codecs/json-scalar-decoder';
import { SseDecoder, type SseEventBytes } from '../../src/codecs/sse-decoder';
import {
  decodeTritonGenerateEvent,
  decodeTritonGenerateRequest,
  decodeTritonGenerateResponse,
} from '../../src/codecs/triton-http-generate-codec';
import { ProxyError } from '../../src/errors/proxy-error';
import { assertProxyError, proxyErrorOf } from '../fixtures/proxy-errors';
import { jsonBody, maskDigits } from './triton-http-fixtures';

/** Each span as [path, decoded text], read from `bytes`. */
function texts(bytes: Buffer, spans: readonly JsonTextSpan[]): [string, string][] {
  return spans.map((span) => [span.path, decodeJsonString(bytes, span.start, span.end)]);
}

/** Decodes `stream` delivered in chunks of `chunkSize` bytes, as a socket would. */
function eventsOf(stream: string, chunkSize = 5): SseEventBytes[] {
  const bytes = Buffer.from(stream);
  const decoder = new SseDecoder();
  const events: SseEventBytes[] = [];
  for (let at = 0; at < bytes.length; at += chunkSize) {
    decoder.push(bytes.subarray(at, at + chunkSize), (event) => events.push(event));
  }
  assert.equal(decoder.end(), undefined);
  return events;
}

describe('decodeTritonGenerateRequest', () => {
  test('reads id and parameters, and reports every other string as text', () => {
    const body = jsonBody({
      id: 'gen-1',
      text_input: 'Card 4111 1111 1111 1111, expiry 12/29',
      parameters: { stream: false, temperature: 0, stop: 'END 5500' },
      max_tokens: 64,
      bad_words: ['4111', 'visa'],
      image: { url: 'https://example.com/4111.png' },
    });
    const facts = decodeTritonGenerateRequest(body);

    assert.equal(facts.id, 'gen-1');
    assert.deepEqual({ ...facts.parameters }, { stream: false, temperature: 0, stop: 'END 5500' });
    assert.deepEqual(texts(body, facts.texts), [
      ['text_input', 'Card 4111 1111 1111 1111, expiry 12/29'],
      ['parameters.stop', 'END 5500'],
      ['bad_words.0', '4111'],
      ['bad_words.1', 'visa'],
      ['image.url', 'https://example.com/4111.png'],
    ]);
  });

  test('reports byte offsets of escaped and non-ASCII prompts, and masks in place', () => {
    const prompt = 'Zahlung: \u00fc\u20ac 4111\t1111 "1111" 1111 \ud83d\udcb3';
    const body = jsonBody({ text_input: prompt });
    const facts = decodeTritonGenerateRequest(body);
    const span = facts.texts[0]!;

    assert.equal(span.escaped, true);
    assert.equal(span.start, Buffer.byteLength('{"text_input":"'));
    assert.equal(span.end, body.length - 2);
    maskDigits(body, facts.texts);
    assert.equal(JSON.parse(body.toString()).text_input, prompt.replace(/\d/g, '*'));
  });

  test('reads a request without id or parameters', () => {
    const facts = decodeTritonGenerateRequest(jsonBody({ text_input: '' }));

    assert.equal(facts.id, undefined);
    assert.deepEqual(Object.keys(facts.parameters), []);
    assert.equal(facts.texts.length, 1);
  });

  const invalid: readonly [string, string, RegExp][] = [
    ['a root array', '["hi"]', /^Triton generate body is not a JSON object$/],
    ['a numeric id', '{"id":1}', /^Triton body field "id" must be a string, not a number$/],
    ['array parameters', '{"parameters":[]}', /"parameters" must be an object, not an array$/],
    ['string parameters', '{"parameters":"t"}', /^Triton body field "parameters" must be an obj/],
    ['a null parameter', '{"parameters":{"t":null}}', /parameter "parameters.t" must be a string/],
    ['a nested parameter', '{"parameters":{"t":[1]}}', /"parameters.t" must be a string, number/],
    ['a repeated text_input', '{"text_input":"a","text_input":"b"}', /"text_input" appears twice/],
    ['a repeated parameter', '{"parameters":{"t":1,"t":2}}', /"parameters.t" appears twice$/],
  ];
  for (const [what, body, message] of invalid) {
    test(`refuses ${what} with ERR_TRITON_BODY_INVALID`, () => {
      assertProxyError(
        () => decodeTritonGenerateRequest(Buffer.from(body)),
        'ERR_TRITON_BODY_INVALID',
        message,
      );
    });
  }

  test('refuses a body that is not JSON with ERR_JSON_MALFORMED', () => {
    assertProxyError(
      () => decodeTritonGenerateRequest(Buffer.from('{"text_input":"4111')),
      'ERR_JSON_MALFORMED',
      /^JSON body is malformed at byte 19: expected a closing quote, found the end$/,
    );
  });
});

describe('decodeTritonGenerateResponse', () => {
  test('reads the model and reports text_output and every other output string', () => {
    const body = jsonBody({
      id: 'gen-1',
      model_name: 'ensemble',
      model_version: '1',
      text_output: 'Charged 4111 1111 1111 1111',
      finish_reason: 'stop',
      cum_log_probs: -1.5,
    });
    const facts = decodeTritonGenerateResponse(body);

    assert.deepEqual(
      [facts.id, facts.modelName, facts.modelVersion, facts.error],
      ['gen-1', 'ensemble', '1', false],
    );
    assert.deepEqual(texts(body, facts.texts), [
      ['text_output', 'Charged 4111 1111 1111 1111'],
      ['finish_reason', 'stop'],
    ]);
  });

  test('flags an error body and reports its message as text', () => {
    const body = jsonBody({ error: 'prompt "4111 1111 1111 1111" is too long' });
    const facts = decodeTritonGenerateResponse(body);

    assert.equal(facts.error, true);
    assert.deepEqual(texts(body, facts.texts), [
      ['error', 'prompt "4111 1111 1111 1111" is too long'],
    ]);
  });

  test('answers a broken body with ERR_UPSTREAM_PROTOCOL, the cause kept', () => {
    for (const [body, cause] of [
      ['{"text_output":', 'ERR_JSON_MALFORMED'],
      ['{"model_name":7}', 'ERR_TRITON_BODY_INVALID'],
      ['"text"', 'ERR_TRITON_BODY_INVALID'],
    ] as const) {
      const err = proxyErrorOf(() => decodeTritonGenerateResponse(Buffer.from(body)));
      assert.equal(err.code, 'ERR_UPSTREAM_PROTOCOL');
      assert.equal((err.cause as ProxyError).code, cause);
    }
  });
});

describe('decodeTritonGenerateEvent', () => {
  const stream =
    ': keep-alive\n\n' +
    'data: {"model_name":"vllm","model_version":"1","text_output":"Your card 4111"}\n\n' +
    'data:{"text_output":" 1111 \\u00fc 1111 1111"}\r\n\r\n' +
    'event: message\ndata: {"error":"decoder failed on 5500 0000 0000 0004"}\n\n' +
    'data: \n\n';

  test('reports spans relative to each event, through the SSE decoder', () => {
    const events = eventsOf(stream);
    const facts = events.map((event) => decodeTritonGenerateEvent(event));

    assert.deepEqual(
      facts.map((item) => [item.empty, item.error, item.modelName]),
      [
        [true, false, undefined],
        [false, false, 'vllm'],
        [false, false, undefined],
        [false, true, undefined],
        [true, false, undefined],
      ],
    );
    assert.deepEqual(
      facts.map((item, i) => texts(events[i]!.bytes, item.texts)),
      [
        [],
        [['text_output', 'Your card 4111']],
        [['text_output', ' 1111 \u00fc 1111 1111']],
        [['error', 'decoder failed on 5500 0000 0000 0004']],
        [],
      ],
    );
  });

  test('lets a masker rewrite the event bytes in place', () => {
    const event = eventsOf(stream)[1]!;
    const before = event.bytes.length;
    maskDigits(event.bytes, decodeTritonGenerateEvent(event).texts);

    assert.equal(event.bytes.length, before);
    assert.match(event.bytes.toString(), /"text_output":"Your card \*\*\*\*"\}\n\n$/);
  });

  test('refuses an event of several data lines', () => {
    const [event] = eventsOf('data: {"text_output":\ndata: "x"}\n\n');
    assertProxyError(
      () => decodeTritonGenerateEvent(event!),
      'ERR_UPSTREAM_PROTOCOL',
      /^upstream sent a generate_stream event of 2 data lines, not one$/,
    );
  });

  test('refuses data that is not a JSON object', () => {
    for (const data of ['[DONE]', '"text"', '{"text_output":']) {
      const [event] = eventsOf(`data: ${data}\n\n`);
      assertProxyError(
        () => decodeTritonGenerateEvent(event!),
        'ERR_UPSTREAM_PROTOCOL',
        /^upstream sent a Triton response the gateway cannot read: /,
      );
    }
  });
});
