// Decoding whole (non-streamed) OpenAI-protocol response bodies: output text spans, usage,
// finish reasons and error shapes (OpenAI error object).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { decodeJsonString } from '../../src/codecs/json-scalar-decoder';
import {
  decodeOpenAIResponse,
  type OpenAIResponseFacts,
} from '../../src/codecs/openai-response-codec';
import { proxyErrorOf } from '../fixtures/proxy-errors';

/** Each span of `facts` as [path, decoded text], read from `body`. */
function spanTexts(body: Buffer, facts: OpenAIResponseFacts): [string, string][] {
  return facts.texts.map((span) => [span.path, decodeJsonString(body, span.start, span.end)]);
}

describe('whole response bodies', () => {
  test('chat completion: content, reasoning, tool call arguments, usage and finish reason', () => {
    const body = Buffer.from(
      JSON.stringify({
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 1,
        model: 'm',
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: 'Charged 4111',
              reasoning_content: 'r',
              tool_calls: [
                { id: 'c', type: 'function', function: { name: 'f', arguments: '{"n":1}' } },
              ],
            },
            logprobs: null,
            finish_reason: 'tool_calls',
          },
        ],
        usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
      }),
    );
    const facts = decodeOpenAIResponse(body, 'chat.completions');

    assert.deepEqual(spanTexts(body, facts), [
      ['choices.0.message.content', 'Charged 4111'],
      ['choices.0.message.reasoning_content', 'r'],
      ['choices.0.message.tool_calls.0.function.arguments', '{"n":1}'],
    ]);
    assert.deepEqual(facts.finishReasons, [{ choice: 0, reason: 'tool_calls' }]);
    assert.deepEqual(facts.usage, { promptTokens: 5, completionTokens: 3, totalTokens: 8 });
    assert.equal(facts.error, false);
  });

  test('completions, responses, tokenize and detokenize bodies', () => {
    const cases: [Parameters<typeof decodeOpenAIResponse>[1], object, [string, string][]][] = [
      [
        'completions',
        { choices: [{ index: 0, text: 'abc', finish_reason: 'stop' }] },
        [['choices.0.text', 'abc']],
      ],
      [
        'responses',
        {
          object: 'response',
          instructions: 'i',
          output: [
            { type: 'reasoning', summary: [{ type: 'summary_text', text: 's' }] },
            { type: 'message', content: [{ type: 'output_text', text: 't' }] },
            { type: 'function_call', arguments: '{}' },
          ],
          usage: { input_tokens: 1, output_tokens: 2, total_tokens: 3 },
        },
        [
          ['instructions', 'i'],
          ['output.0.summary.0.text', 's'],
          ['output.1.content.0.text', 't'],
          ['output.2.arguments', '{}'],
        ],
      ],
      [
        'tokenize',
        { count: 2, max_model_len: 8192, tokens: [1, 2], token_strs: ['41', '11'] },
        [
          ['token_strs.0', '41'],
          ['token_strs.1', '11'],
        ],
      ],
      ['detokenize', { prompt: '4111 1111' }, [['prompt', '4111 1111']]],
      [
        'embeddings',
        { object: 'list', data: [{ index: 0, object: 'embedding', embedding: [0.1, -0.2] }] },
        [],
      ],
    ];
    for (const [operation, value, expected] of cases) {
      const body = Buffer.from(JSON.stringify(value));
      assert.deepEqual(spanTexts(body, decodeOpenAIResponse(body, operation)), expected, operation);
    }
  });

  test('flags OpenAI, vLLM and flat older vLLM error bodies and reads their messages', () => {
    const bodies = [
      { error: { message: 'bad 4111', type: 'invalid_request_error', param: null, code: null } },
      { error: { message: 'bad 4111', type: 'NotFoundError', param: null, code: 404 } },
      { object: 'error', message: 'bad 4111', type: 'BadRequestError', param: null, code: 400 },
    ];
    for (const value of bodies) {
      const body = Buffer.from(JSON.stringify(value));
      const facts = decodeOpenAIResponse(body, 'chat.completions');
      assert.equal(facts.error, true);
      assert.deepEqual(
        spanTexts(body, facts).map(([, text]) => text),
        ['bad 4111'],
      );
    }
  });

  test('gives no facts for an empty body, and refuses a body that is not JSON', () => {
    assert.deepEqual(decodeOpenAIResponse(Buffer.alloc(0), 'health').texts, []);
    const err = proxyErrorOf(() => decodeOpenAIResponse(Buffer.from('<html>502</html>'), 'models'));
    assert.equal(err.code, 'ERR_UPSTREAM_PROTOCOL');
  });
});

test('reads only known usage fields, whatever other keys the usage object holds', () => {
  const body = Buffer.from(
    '{"usage":{"__proto__":1,"constructor":2,"toString":3,"prompt_tokens":4,"total_tokens":4}}',
  );

  assert.deepEqual(decodeOpenAIResponse(body, 'embeddings').usage, {
    promptTokens: 4,
    completionTokens: undefined,
    totalTokens: 4,
  });
});
