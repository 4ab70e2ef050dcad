// Decoding the SSE events of OpenAI-protocol response streams (chat, completions, Responses
// API) through real wire bytes; whole bodies are in openai-response-codec-bodies.test.ts.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { decodeJsonString } from '../../src/codecs/json-scalar-decoder';
import {
  decodeOpenAIEvent,
  type OpenAIEventFacts,
  type OpenAIResponseFacts,
} from '../../src/codecs/openai-response-codec';
import type { OpenAIStreamOperation } from '../../src/codecs/openai-routes';
import { SseDecoder, type SseEventBytes } from '../../src/codecs/sse-decoder';
import { proxyErrorOf } from '../fixtures/proxy-errors';

/** An SSE stream of `data:` events as vLLM writes it, each followed by a blank line. */
function sseStream(events: readonly (object | string)[], eventTypes = false): Buffer {
  const frames = events.map((event) => {
    const data = typeof event === 'string' ? event : JSON.stringify(event);
    const type =
      eventTypes && typeof event === 'object' && 'type' in event
        ? `event: ${String(event.type)}\n`
        : '';
    return `${type}data: ${data}\n\n`;
  });
  return Buffer.from(frames.join(''));
}

/** Decodes `stream` delivered in chunks of `chunkSize` bytes, as a socket would. */
function eventsOf(stream: Buffer, chunkSize = 7): SseEventBytes[] {
  const decoder = new SseDecoder();
  const events: SseEventBytes[] = [];
  for (let at = 0; at < stream.length; at += chunkSize) {
    decoder.push(stream.subarray(at, at + chunkSize), (event) => events.push(event));
  }
  assert.equal(decoder.end(), undefined);
  return events;
}

/** Each span of `facts` as [path, decoded text], read from `bytes`. */
function spanTexts(bytes: Buffer, facts: OpenAIResponseFacts): [string, string][] {
  return facts.texts.map((span) => [span.path, decodeJsonString(bytes, span.start, span.end)]);
}

function decodeStream(
  events: readonly (object | string)[],
  operation: OpenAIStreamOperation,
  eventTypes = false,
) {
  return eventsOf(sseStream(events, eventTypes)).map((event) => ({
    event,
    facts: decodeOpenAIEvent(event, operation),
  }));
}

/** A vLLM chat completion chunk around `choices`. */
function chatChunk(choices: object[], extra: object = {}) {
  return {
    id: 'chatcmpl-9f1c',
    object: 'chat.completion.chunk',
    created: 1718000000,
    model: 'meta-llama/Llama-3.1-8B-Instruct',
    choices,
    ...extra,
  };
}

function delta(content: object, finish: string | null = null, index = 0) {
  return { index, delta: content, logprobs: null, finish_reason: finish };
}

describe('chat completion streams', () => {
  const stream = [
    chatChunk([delta({ role: 'assistant', content: '' })]),
    chatChunk([delta({ content: 'Your card 4111 1111 1111 1111 ' })]),
    chatChunk([delta({ reasoning: 'the user wants ü' })]),
    chatChunk([delta({ reasoning_content: 'older vLLM' })]),
    chatChunk([
      delta({
        tool_calls: [
          {
            index: 0,
            id: 'call_1',
            type: 'function',
            function: { name: 'charge', arguments: '{"pan": "41' },
          },
        ],
      }),
    ]),
    chatChunk([delta({ refusal: 'I cannot' })]),
    chatChunk([{ ...delta({ content: '' }, 'stop'), stop_reason: null }]),
    chatChunk([], { usage: { prompt_tokens: 12, total_tokens: 20, completion_tokens: 8 } }),
    '[DONE]',
  ];

  test('reads delta texts, finish reasons, usage and the terminator from 7-byte chunks', () => {
    const decoded = decodeStream(stream, 'chat.completions');

    assert.deepEqual(
      decoded.map(({ event, facts }) => spanTexts(event.bytes, facts)),
      [
        [['choices.0.delta.content', '']],
        [['choices.0.delta.content', 'Your card 4111 1111 1111 1111 ']],
        [['choices.0.delta.reasoning', 'the user wants ü']],
        [['choices.0.delta.reasoning_content', 'older vLLM']],
        [['choices.0.delta.tool_calls.0.function.arguments', '{"pan": "41']],
        [['choices.0.delta.refusal', 'I cannot']],
        [['choices.0.delta.content', '']],
        [],
        [],
      ],
    );
    assert.deepEqual(decoded[6]!.facts.finishReasons, [{ choice: 0, reason: 'stop' }]);
    assert.deepEqual(decoded[7]!.facts.usage, {
      promptTokens: 12,
      completionTokens: 8,
      totalTokens: 20,
    });
    assert.deepEqual(
      decoded.map(({ facts }) => [facts.done, facts.terminal, facts.error]),
      [...Array(8).fill([false, false, false]), [true, true, false]],
    );
    assert.equal(decoded[1]!.facts.usage, undefined);
  });

  test('gives spans relative to the event bytes, so a masker rewrites the chunk in place', () => {
    const wire = sseStream(stream);
    const events = eventsOf(wire, wire.length);
    for (const event of events) {
      for (const { start, end, escaped } of decodeOpenAIEvent(event, 'chat.completions').texts) {
        if (!escaped) event.bytes.fill('#', start, end);
      }
    }

    const masked = eventsOf(wire, wire.length).map((event) =>
      event.bytes.toString('utf8', event.data[0]!.start, event.data[0]!.end),
    );
    assert.equal(JSON.parse(masked[1]!).choices[0].delta.content, '#'.repeat(30));
    assert.equal(JSON.parse(masked[7]!).usage.total_tokens, 20);
    assert.equal(masked[8], '[DONE]');
  });

  test('marks escaped deltas and keeps byte offsets for non-ASCII text', () => {
    const [{ event, facts }] = decodeStream(
      [chatChunk([delta({ content: 'Größe: "4111"\n€' })])],
      'chat.completions',
    );
    const span = facts.texts[0]!;

    assert.equal(span.escaped, true);
    assert.equal(event.bytes.toString('utf8', span.start, span.end), 'Größe: \\"4111\\"\\n€');
    assert.equal(decodeJsonString(event.bytes, span.start, span.end), 'Größe: "4111"\n€');
  });

  test('reports finish reasons of interleaved choices by their index', () => {
    const [{ facts }] = decodeStream(
      [
        chatChunk([
          delta({ content: 'a' }, 'length', 1),
          delta({ content: 'b' }, null, 0),
          { delta: {}, finish_reason: 'stop' },
        ]),
      ],
      'chat.completions',
    );

    assert.deepEqual(facts.finishReasons, [
      { choice: 1, reason: 'length' },
      { choice: 2, reason: 'stop' },
    ]);
    assert.deepEqual(
      facts.texts.map((span) => span.path),
      ['choices.0.delta.content', 'choices.1.delta.content'],
    );
  });

  test('flags a mid-stream error in current and older vLLM shapes and reads its message', () => {
    const decoded = decodeStream(
      [
        {
          error: {
            message: 'card 4111 was in the prompt',
            type: 'BadRequestError',
            param: null,
            code: 400,
          },
        },
        { error: { object: 'error', message: 'old', type: 'InternalServerError', code: 500 } },
        chatChunk([delta({ content: 'x' })], { error: null }),
        '[DONE]',
      ],
      'chat.completions',
    );

    assert.deepEqual(
      decoded.map(({ facts }) => facts.error),
      [true, true, false, false],
    );
    assert.deepEqual(spanTexts(decoded[0]!.event.bytes, decoded[0]!.facts), [
      ['error.message', 'card 4111 was in the prompt'],
    ]);
  });
});

test('completions streams carry text in choices[].text', () => {
  const decoded = decodeStream(
    [
      {
        id: 'cmpl-1',
        object: 'text_completion',
        created: 1,
        model: 'm',
        choices: [{ index: 0, text: ' upon a', logprobs: null, finish_reason: null }],
      },
      {
        id: 'cmpl-1',
        object: 'text_completion',
        created: 1,
        model: 'm',
        choices: [
          { index: 0, text: '', logprobs: null, finish_reason: 'length', stop_reason: null },
        ],
      },
      '[DONE]',
    ],
    'completions',
  );

  assert.deepEqual(spanTexts(decoded[0]!.event.bytes, decoded[0]!.facts), [
    ['choices.0.text', ' upon a'],
  ]);
  assert.deepEqual(decoded[1]!.facts.finishReasons, [{ choice: 0, reason: 'length' }]);
  assert.equal(decoded[2]!.facts.done, true);
});

/** A Responses API stream event (§3.5); `sequence_number` is left out as the codec ignores it. */
function responsesEvent(type: string, fields: object = {}) {
  return { type, ...fields };
}

describe('Responses API streams', () => {
  const message = {
    type: 'message',
    role: 'assistant',
    content: [{ type: 'output_text', text: 'Card 4111' }],
  };
  const usage = { input_tokens: 9, output_tokens: 4, total_tokens: 13 };
  const stream: [event: object, spans: [string, string][]][] = [
    [
      responsesEvent('response.created', { response: { instructions: 'Be brief', output: [] } }),
      [['response.instructions', 'Be brief']],
    ],
    [
      responsesEvent('response.output_text.delta', { item_id: 'msg_1', delta: 'Card 4111' }),
      [['delta', 'Card 4111']],
    ],
    [
      responsesEvent('response.output_text.done', { item_id: 'msg_1', text: 'Card 4111' }),
      [['text', 'Card 4111']],
    ],
    [
      responsesEvent('response.content_part.done', { part: message.content[0] }),
      [['part.text', 'Card 4111']],
    ],
    [
      responsesEvent('response.output_item.done', { item: message }),
      [['item.content.0.text', 'Card 4111']],
    ],
    [
      responsesEvent('response.function_call_arguments.delta', { delta: '{"pan":' }),
      [['delta', '{"pan":']],
    ],
    [
      responsesEvent('response.function_call_arguments.done', { arguments: '{}' }),
      [['arguments', '{}']],
    ],
    [responsesEvent('response.reasoning_summary_text.delta', { delta: 'hmm' }), [['delta', 'hmm']]],
    [responsesEvent('response.audio.delta', { delta: 'UklGRg==' }), []],
    [
      responsesEvent('response.audio.transcript.delta', { delta: 'said 4111' }),
      [['delta', 'said 4111']],
    ],
    [
      responsesEvent('response.completed', {
        response: { status: 'completed', output: [message], usage },
      }),
      [['response.output.0.content.0.text', 'Card 4111']],
    ],
  ];

  test('reads text deltas, done texts and nested output, decoding by the JSON type', () => {
    const decoded = decodeStream(
      stream.map(([event]) => event),
      'responses',
      true,
    );

    assert.deepEqual(
      decoded.map(({ event, facts }) => spanTexts(event.bytes, facts)),
      stream.map(([, spans]) => spans),
    );
    for (const { event, facts } of decoded) assert.equal(facts.eventType, event.type);
    assert.deepEqual(decoded[10]!.facts.usage, {
      promptTokens: 9,
      completionTokens: 4,
      totalTokens: 13,
    });
    assert.deepEqual(
      decoded.map(({ facts }) => facts.terminal),
      [...Array(10).fill(false), true],
    );
  });

  test('flags failed responses and error events as errors, and reads their messages', () => {
    const failure = { status: 'failed', error: { code: 'server_error', message: 'boom 4111' } };
    const decoded = decodeStream(
      [
        responsesEvent('response.failed', { response: failure }),
        responsesEvent('error', {
          code: 'invalid_prompt',
          message: 'prompt 4111 refused',
          param: null,
        }),
      ],
      'responses',
    );

    assert.deepEqual(
      decoded.map(({ event, facts }) => [
        facts.error,
        facts.terminal,
        spanTexts(event.bytes, facts),
      ]),
      [
        [true, true, [['response.error.message', 'boom 4111']]],
        [true, false, [['message', 'prompt 4111 refused']]],
      ],
    );
  });
});

describe('event framing', () => {
  test('maps spans of JSON spread over several data lines onto each line', () => {
    const wire = Buffer.from(
      'data: {"choices":[{"index":0,\n' +
        'data:  "delta":{"content":"a\\nb"}},\n' +
        'data: {"text":"ü","delta":{"content":"c"}}]}\n\n',
    );
    const [event] = eventsOf(wire);
    const facts = decodeOpenAIEvent(event!, 'chat.completions');

    assert.deepEqual(spanTexts(event!.bytes, facts), [
      ['choices.0.delta.content', 'a\nb'],
      ['choices.1.delta.content', 'c'],
    ]);
    assert.equal(
      event!.bytes.toString('utf8', facts.texts[0]!.start, facts.texts[0]!.end),
      'a\\nb',
    );
    assert.equal(event!.bytes.toString('utf8', facts.texts[1]!.start, facts.texts[1]!.end), 'c');
  });

  test('gives no facts for comments, empty data, and events without data', () => {
    const events = eventsOf(Buffer.from(': ping\n\ndata:\n\nid: 3\n\ndata:  \n\n'));

    for (const event of events) {
      const facts: OpenAIEventFacts = decodeOpenAIEvent(event, 'chat.completions');
      assert.deepEqual(facts, {
        error: false,
        texts: [],
        usage: undefined,
        finishReasons: [],
        eventType: undefined,
        done: false,
        terminal: false,
        endedStreams: [],
      });
    }
  });

  test('reads [DONE] by its prefix, as the OpenAI SDK does', () => {
    const events = eventsOf(Buffer.from('data: [DONE]\n\ndata:[DONE]\r\n\r\ndata: [DONE] bye\n\n'));
    assert.deepEqual(
      events.map((event) => decodeOpenAIEvent(event, 'completions').done),
      [true, true, true],
    );
  });

  test('refuses data that is not JSON as an upstream protocol error, keeping the cause', () => {
    const [event] = eventsOf(Buffer.from('data: {"choices":[{"delta":{"content":"4111\n\n'));
    const err = proxyErrorOf(() => decodeOpenAIEvent(event!, 'chat.completions'));

    assert.equal(err.code, 'ERR_UPSTREAM_PROTOCOL');
    assert.equal(err.httpStatus, 502);
    assert.match(
      err.message,
      /^upstream sent a response that is not JSON: JSON body is malformed at byte \d+/,
    );
    assert.doesNotMatch(err.message, /4111/);
    assert.equal((err.cause as { code?: string }).code, 'ERR_JSON_MALFORMED');
  });
});
