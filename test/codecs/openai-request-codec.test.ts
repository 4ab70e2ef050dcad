// Decoding OpenAI-protocol request bodies: facts for policy and the prompt text spans to mask.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { JsonTextSpan } from '../../src/codecs/json-path';
import { decodeJsonString } from '../../src/codecs/json-scalar-decoder';
import {
  decodeOpenAIRequest,
  type OpenAIRequestFacts,
} from '../../src/codecs/openai-request-codec';
import { assertProxyError } from '../fixtures/proxy-errors';

/** The wire bytes of a request body, as a client writes them. */
function body(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** Each span as [path, decoded text, escaped]. */
function texts(buf: Buffer, facts: OpenAIRequestFacts): [string, string, boolean][] {
  return facts.texts.map((span) => [
    span.path,
    decodeJsonString(buf, span.start, span.end),
    span.escaped,
  ]);
}

/** Overwrites every digit inside `spans` with `*`, in place, as a length-preserving masker does. */
function maskDigits(buf: Buffer, spans: readonly JsonTextSpan[]): void {
  for (const { start, end } of spans) {
    for (let i = start; i < end; i++) if (buf[i]! >= 0x30 && buf[i]! <= 0x39) buf[i] = 0x2a;
  }
}

const CHAT = {
  model: 'meta-llama/Llama-3.1-8B-Instruct',
  messages: [
    { role: 'system', content: 'You are a billing assistant.' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'My card is 4111 1111 1111 1111, charge it.' },
        { type: 'image_url', image_url: { url: 'https://example.com/receipt.png' } },
      ],
    },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        {
          id: 'call_1',
          type: 'function',
          function: { name: 'charge', arguments: '{"pan":"4111111111111111"}' },
        },
      ],
    },
    { role: 'tool', tool_call_id: 'call_1', content: 'charged card ending 1111' },
  ],
  tools: [
    {
      type: 'function',
      function: { name: 'charge', description: 'Charge card 4000 0000 0000 0002', parameters: {} },
    },
  ],
  stream: true,
  stream_options: { include_usage: true },
  max_completion_tokens: 256,
  temperature: 0.2,
};

describe('chat completions', () => {
  test('reads the facts and every prompt text of a vLLM chat request', () => {
    const buf = body(CHAT);
    const facts = decodeOpenAIRequest('/v1/chat/completions', buf);

    assert.deepEqual(
      { ...facts, texts: undefined },
      {
        operation: 'chat.completions',
        model: 'meta-llama/Llama-3.1-8B-Instruct',
        stream: true,
        includeUsage: true,
        n: undefined,
        maxTokens: 256,
        maxTokensField: 'max_completion_tokens',
        inputCount: undefined,
        toolCount: 1,
        texts: undefined,
      },
    );
    assert.deepEqual(texts(buf, facts), [
      ['messages.0.content', 'You are a billing assistant.', false],
      ['messages.1.content.0.text', 'My card is 4111 1111 1111 1111, charge it.', false],
      ['messages.2.tool_calls.0.function.arguments', '{"pan":"4111111111111111"}', true],
      ['messages.3.content', 'charged card ending 1111', false],
    ]);
  });

  test('gives spans a masker can rewrite in place without breaking the JSON', () => {
    const buf = body(CHAT);
    const facts = decodeOpenAIRequest('/v1/chat/completions', buf);

    maskDigits(buf, facts.texts);
    const masked = JSON.parse(buf.toString());

    assert.equal(buf.length, body(CHAT).length);
    assert.equal(masked.messages[1].content[0].text, 'My card is **** **** **** ****, charge it.');
    assert.equal(masked.messages[2].tool_calls[0].function.arguments, '{"pan":"****************"}');
    assert.equal(masked.tools[0].function.description, 'Charge card 4000 0000 0000 0002');
    assert.equal(masked.max_completion_tokens, 256);
  });

  test('gives byte offsets for non-ASCII text and marks escapes', () => {
    const buf = Buffer.from(
      '{"messages":[{"role":"user","content":"Zahlung: 4111 € 😀"},' +
        '{"role":"user","content":"line\\nbreak \\u0034\\u0031"}]}',
    );
    const [plain, escaped] = decodeOpenAIRequest('/v1/chat/completions', buf).texts;

    assert.deepEqual(plain, { path: 'messages.0.content', start: 39, end: 61, escaped: false });
    assert.equal(buf.toString('utf8', plain!.start, plain!.end), 'Zahlung: 4111 € 😀');
    assert.equal(escaped!.escaped, true);
    assert.equal(decodeJsonString(buf, escaped!.start, escaped!.end), 'line\nbreak 41');
  });

  test('reads echoed assistant output, legacy function calls and vLLM documents', () => {
    const buf = body({
      messages: [
        { role: 'assistant', content: 'a', reasoning_content: 'b', refusal: 'c' },
        { role: 'assistant', function_call: { name: 'f', arguments: '{}' } },
      ],
      documents: [{ title: 't', text: 'doc' }],
      functions: [{ name: 'f' }, { name: 'g' }],
    });
    const facts = decodeOpenAIRequest('/v1/chat/completions', buf);

    assert.deepEqual(
      facts.texts.map((span) => span.path),
      [
        'messages.0.content',
        'messages.0.reasoning_content',
        'messages.0.refusal',
        'messages.1.function_call.arguments',
        'documents.0.title',
        'documents.0.text',
      ],
    );
    assert.equal(facts.toolCount, 2);
    assert.equal(facts.model, undefined);
    assert.equal(facts.stream, false);
  });

  test('treats null as absent and takes the largest token limit', () => {
    const buf = body({
      model: null,
      stream: null,
      n: 3,
      max_tokens: 500,
      max_completion_tokens: 100,
    });
    const facts = decodeOpenAIRequest('/v1/chat/completions?trace=1', buf);

    assert.equal(facts.model, undefined);
    assert.equal(facts.stream, false);
    assert.equal(facts.n, 3);
    assert.equal(facts.maxTokens, 500);
    assert.equal(facts.maxTokensField, 'max_tokens');
  });
});

describe('other operations', () => {
  test('completions: prompt string, arrays of strings, token arrays, and suffix', () => {
    const cases: [unknown, number, string[]][] = [
      ['Once upon', 1, ['prompt']],
      [['a', 'b', 'c'], 3, ['prompt.0', 'prompt.1', 'prompt.2']],
      [[1, 2, 3], 1, []],
      [[[1, 2], [3]], 2, []],
      [[], 0, []],
    ];
    for (const [prompt, inputCount, paths] of cases) {
      const facts = decodeOpenAIRequest(
        '/v1/completions',
        body({ model: 'm', prompt, max_tokens: 16 }),
      );
      assert.equal(facts.inputCount, inputCount, JSON.stringify(prompt));
      assert.deepEqual(
        facts.texts.map((span) => span.path),
        paths,
      );
      assert.equal(facts.maxTokens, 16);
    }
    const withSuffix = decodeOpenAIRequest('/v1/completions', body({ prompt: 'a', suffix: 'z' }));
    assert.deepEqual(
      withSuffix.texts.map((span) => span.path),
      ['prompt', 'suffix'],
    );
  });

  test('embeddings: counts inputs and reads each string input', () => {
    const one = decodeOpenAIRequest('/v1/embeddings', body({ model: 'e5', input: 'card 4111' }));
    const many = decodeOpenAIRequest('/v1/embeddings', body({ input: ['a', 'b'] }));
    const tokens = decodeOpenAIRequest('/v1/embeddings', body({ input: [[1], [2], [3]] }));

    assert.deepEqual([one.inputCount, many.inputCount, tokens.inputCount], [1, 2, 3]);
    assert.deepEqual(
      one.texts.map((span) => span.path),
      ['input'],
    );
    assert.deepEqual(
      many.texts.map((span) => span.path),
      ['input.0', 'input.1'],
    );
    assert.deepEqual(tokens.texts, []);
  });

  test('responses: input string or items, instructions, tool outputs, max_output_tokens', () => {
    const buf = body({
      model: 'gpt-oss',
      instructions: 'Be brief.',
      input: [
        { role: 'user', content: 'hello' },
        { role: 'user', content: [{ type: 'input_text', text: 'card 4111' }] },
        { type: 'function_call', call_id: 'c', name: 'f', arguments: '{"a":1}' },
        { type: 'function_call_output', call_id: 'c', output: 'result 42' },
      ],
      tools: [{ type: 'function', name: 'f', description: 'not prompt text' }],
      max_output_tokens: 64,
      stream: true,
    });
    const facts = decodeOpenAIRequest('/v1/responses', buf);

    assert.deepEqual(texts(buf, facts), [
      ['instructions', 'Be brief.', false],
      ['input.0.content', 'hello', false],
      ['input.1.content.0.text', 'card 4111', false],
      ['input.2.arguments', '{"a":1}', true],
      ['input.3.output', 'result 42', false],
    ]);
    assert.deepEqual([facts.maxTokens, facts.maxTokensField], [64, 'max_output_tokens']);
    assert.equal(facts.toolCount, 1);
    assert.equal(facts.inputCount, undefined);
    const plain = decodeOpenAIRequest('/v1/responses', body({ input: 'just text' }));
    assert.deepEqual(
      plain.texts.map((span) => span.path),
      ['input'],
    );
  });

  test('tokenize reads prompt or messages; detokenize carries no text', () => {
    const prompt = decodeOpenAIRequest('/tokenize', body({ model: 'm', prompt: 'p' }));
    const chat = decodeOpenAIRequest(
      '/tokenize',
      body({ messages: [{ role: 'user', content: 'q' }] }),
    );
    const detok = decodeOpenAIRequest('/detokenize', body({ model: 'm', tokens: [1, 2] }));

    assert.deepEqual(
      prompt.texts.map((span) => span.path),
      ['prompt'],
    );
    assert.deepEqual(
      chat.texts.map((span) => span.path),
      ['messages.0.content'],
    );
    assert.deepEqual(detok.texts, []);
    assert.equal(detok.operation, 'detokenize');
  });
});

describe('rejections', () => {
  test('refuses a path that is not a POST endpoint', () => {
    for (const path of ['/v1/models', '/v1/audio/speech', '/v1/chat/completions/']) {
      assertProxyError(
        () => decodeOpenAIRequest(path, body({})),
        'ERR_UNKNOWN_OPERATION',
        /^POST \/.* is not an OpenAI endpoint the gateway decodes$/,
      );
    }
  });

  test('refuses decision fields of the wrong type instead of coercing them', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ stream: 'true' }, /"stream" must be a boolean or null, not a string/],
      [{ model: 7 }, /"model" must be a string or null, not a number/],
      [{ n: '2' }, /"n" must be a number or null, not a string/],
      [{ max_tokens: '100' }, /"max_tokens" must be a number/],
      [
        { stream_options: { include_usage: 1 } },
        /"stream_options.include_usage" must be a boolean/,
      ],
    ];
    for (const [value, pattern] of cases) {
      assertProxyError(
        () => decodeOpenAIRequest('/v1/chat/completions', body(value)),
        'ERR_OPENAI_FIELD_INVALID',
        pattern,
      );
    }
  });

  test('refuses a decision field given twice, even when spelt with an escape', () => {
    const twice = Buffer.from('{"model":"allowed","messages":[],"mod\\u0065l":"denied"}');
    assertProxyError(
      () => decodeOpenAIRequest('/v1/chat/completions', twice),
      'ERR_OPENAI_FIELD_INVALID',
      /^request field "model" appears twice$/,
    );
    const input = Buffer.from('{"input":"a","input":["b","c"]}');
    assertProxyError(
      () => decodeOpenAIRequest('/v1/embeddings', input),
      'ERR_OPENAI_FIELD_INVALID',
      /"input"/,
    );
  });

  test('refuses a body that is not a JSON object', () => {
    for (const json of ['[]', '"text"', 'null', '[{"model":"m"}]']) {
      assertProxyError(
        () => decodeOpenAIRequest('/v1/completions', Buffer.from(json)),
        'ERR_OPENAI_FIELD_INVALID',
        /^request body is not a JSON object$/,
      );
    }
  });

  test('refuses malformed JSON and excessive nesting with the scanner codes', () => {
    assertProxyError(
      () => decodeOpenAIRequest('/v1/chat/completions', Buffer.from('{"model":"m",}')),
      'ERR_JSON_MALFORMED',
      /byte 13/,
    );
    assertProxyError(
      () => decodeOpenAIRequest('/v1/embeddings', Buffer.alloc(0)),
      'ERR_JSON_MALFORMED',
      /the end/,
    );
    const deep = Buffer.from(`{"input":${'['.repeat(10)}${']'.repeat(10)}}`);
    assertProxyError(
      () => decodeOpenAIRequest('/v1/embeddings', deep, { maxDepth: 8 }),
      'ERR_JSON_TOO_DEEP',
      /8 levels/,
    );
  });
});
