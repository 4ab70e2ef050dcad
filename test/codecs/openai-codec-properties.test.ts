// Property tests: the OpenAI request, response and event codecs take any bytes and any JSON
// shape without failing in any way but a ProxyError, and every text span they report lies
// inside the bytes they were given.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import fc from 'fast-check';

import type { JsonTextSpan } from '../../src/codecs/json-path';
import { decodeOpenAIRequest } from '../../src/codecs/openai-request-codec';
import { decodeOpenAIEvent, decodeOpenAIResponse } from '../../src/codecs/openai-response-codec';
import { OPENAI_ROUTES, type OpenAIStreamOperation } from '../../src/codecs/openai-routes';
import { parseSseBlock } from '../../src/codecs/sse-event';
import { isProxyError } from '../../src/errors/proxy-error';

const RUNS = { seed: 20261204, numRuns: 300 };

const BODY_PATHS = OPENAI_ROUTES.filter((route) => route.method === 'POST').map((r) => r.path);
const OPERATIONS = OPENAI_ROUTES.map((route) => route.operation);
const STREAM_OPERATIONS: readonly OpenAIStreamOperation[] = [
  'chat.completions',
  'completions',
  'responses',
];

/** Texts that exercise escapes, non-ASCII, card digits and separators. */
const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 16 }),
  fc.constantFrom('', '4111 1111 1111 1111', '"\\\n\u0000', 'ü€💳', '[DONE]'),
);

/** JSON documents shaped like OpenAI bodies, with fields of every type in every place. */
const openAIShaped: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    text,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    tie('object'),
  ),
  object: fc.dictionary(
    fc.constantFrom(
      'model',
      'messages',
      'content',
      'role',
      'text',
      'choices',
      'delta',
      'message',
      'tool_calls',
      'function',
      'arguments',
      'index',
      'finish_reason',
      'usage',
      'prompt_tokens',
      'stream',
      'n',
      'max_tokens',
      'max_completion_tokens',
      'input',
      'prompt',
      'tools',
      'type',
      'output_index',
      'error',
      '__proto__',
    ),
    tie('value'),
    { maxKeys: 6 },
  ),
})).object;

/** Any bytes: what a broken or hostile peer may send. */
const anyBytes = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  openAIShaped.map((value) => Buffer.from(JSON.stringify(value))),
  openAIShaped.map((value) => Buffer.from(JSON.stringify(value)).subarray(0, 7)),
);

/** Calls `decode`; a ProxyError is an allowed outcome, anything else thrown fails the property. */
function decodeOrRefuse<T>(decode: () => T): T | undefined {
  try {
    return decode();
  } catch (err) {
    assert.ok(isProxyError(err), `threw a ${(err as Error)?.constructor?.name}: ${String(err)}`);
    return undefined;
  }
}

function assertInside(spans: readonly JsonTextSpan[], length: number): void {
  for (const span of spans) {
    assert.ok(0 <= span.start && span.start <= span.end && span.end <= length, span.path);
  }
}

describe('OpenAI codecs on hostile input', () => {
  test('a request body decodes or is refused with a ProxyError, its spans inside the body', () => {
    fc.assert(
      fc.property(fc.constantFrom(...BODY_PATHS), anyBytes, (path, body) => {
        const facts = decodeOrRefuse(() => decodeOpenAIRequest(path, body));
        if (facts !== undefined) assertInside(facts.texts, body.length);
      }),
      RUNS,
    );
  });

  test('a response body decodes or is refused with a ProxyError, its spans inside the body', () => {
    fc.assert(
      fc.property(fc.constantFrom(...OPERATIONS), anyBytes, (operation, body) => {
        const facts = decodeOrRefuse(() => decodeOpenAIResponse(body, operation));
        if (facts !== undefined) assertInside(facts.texts, body.length);
      }),
      RUNS,
    );
  });

  test('a stream event decodes or is refused with a ProxyError, its spans inside the event', () => {
    fc.assert(
      fc.property(fc.constantFrom(...STREAM_OPERATIONS), anyBytes, (operation, data) => {
        const block = Buffer.concat([Buffer.from('data: '), data, Buffer.from('\n\n')]);
        const event = decodeOrRefuse(() => parseSseBlock(block, false));
        if (event === undefined) return;
        const facts = decodeOrRefuse(() => decodeOpenAIEvent(event, operation));
        if (facts !== undefined) assertInside(facts.texts, block.length);
      }),
      RUNS,
    );
  });
});
