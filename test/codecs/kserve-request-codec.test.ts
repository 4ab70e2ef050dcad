// Unit tests for the ModelInferRequest decoder: facts, BYTES spans in both forms, faults.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { InferRequestFacts, TextSpan } from '../../src/codecs/kserve-infer-facts';
import { decodeInferRequest } from '../../src/codecs/kserve-request-codec';
import { encodeMessage, type WireField } from '../../src/codecs/protobuf-wire-writer';
import { encodeWith, kserveType, loadKserveRoot, toLongBits } from './kserve-fixtures';
import { assertProxyError } from '../fixtures/proxy-errors';

/** Raw BYTES layout: 4-byte little-endian length, then the bytes, per element. */
function rawBytes(elements: readonly string[]): Buffer {
  return Buffer.concat(
    elements.flatMap((text) => {
      const body = Buffer.from(text, 'utf8');
      const prefix = Buffer.alloc(4);
      prefix.writeUInt32LE(body.length);
      return [prefix, body];
    }),
  );
}

function spanTexts(payload: Buffer, facts: InferRequestFacts): [string, number, string][] {
  return facts.texts.map((span: TextSpan) => [
    span.tensor,
    span.element,
    payload.subarray(span.start, span.end).toString('utf8'),
  ]);
}

function params(entries: Record<string, unknown>): Record<string, unknown> {
  return Object.assign(Object.create(null) as Record<string, unknown>, entries);
}

function assertMalformed(fn: () => unknown, pattern: RegExp): void {
  assertProxyError(fn, 'ERR_MALFORMED_MESSAGE', pattern);
}

describe('decodeInferRequest', () => {
  const root = loadKserveRoot();
  const requestType = kserveType(root, 'ModelInferRequest');

  test('reads a vLLM-style request with raw contents', () => {
    const payload = encodeWith(requestType, {
      model_name: 'vllm_model',
      model_version: '1',
      id: 'req-42',
      parameters: { triton_enable_empty_final_response: { bool_param: true } },
      inputs: [
        { name: 'text_input', datatype: 'BYTES', shape: [1] },
        { name: 'stream', datatype: 'BOOL', shape: [1] },
        { name: 'sampling_parameters', datatype: 'BYTES', shape: [1] },
      ],
      outputs: [{ name: 'text_output' }],
      raw_input_contents: [
        rawBytes(['Summarise: the card is 4111 1111 1111 1111']),
        Buffer.from([1]),
        rawBytes(['{"max_tokens":16}']),
      ],
    });

    const facts = decodeInferRequest(payload);
    assert.equal(facts.modelName, 'vllm_model');
    assert.equal(facts.modelVersion, '1');
    assert.equal(facts.id, 'req-42');
    assert.deepEqual(facts.parameters, params({ triton_enable_empty_final_response: true }));
    assert.deepEqual(
      facts.inputs.map((input) => [input.name, input.datatype, input.shape]),
      [
        ['text_input', 'BYTES', [1]],
        ['stream', 'BOOL', [1]],
        ['sampling_parameters', 'BYTES', [1]],
      ],
    );
    assert.deepEqual(facts.requestedOutputs, ['text_output']);
    assert.equal(facts.batchSize, 1);
    assert.deepEqual(spanTexts(payload, facts), [
      ['text_input', 0, 'Summarise: the card is 4111 1111 1111 1111'],
      ['sampling_parameters', 0, '{"max_tokens":16}'],
    ]);
  });

  test('reads several raw elements, empty and non-ASCII ones included', () => {
    const elements = ['', 'héllo', '日本語', '\u0000', 'x'.repeat(300)];
    const payload = encodeWith(requestType, {
      inputs: [{ name: 'prompts', datatype: 'BYTES', shape: [5] }],
      raw_input_contents: [rawBytes(elements)],
    });
    const facts = decodeInferRequest(payload);
    assert.deepEqual(
      spanTexts(payload, facts),
      elements.map((text, element) => ['prompts', element, text]),
    );
  });

  test('reads typed bytes_contents, one span per element', () => {
    const payload = encodeWith(requestType, {
      inputs: [
        { name: 'ids', datatype: 'INT64', shape: [2], contents: { int64_contents: [1, 2] } },
        {
          name: 'text_input',
          datatype: 'BYTES',
          shape: [2, 1],
          contents: { bytes_contents: [Buffer.from('first'), Buffer.from('')] },
        },
      ],
    });
    const facts = decodeInferRequest(payload);
    assert.deepEqual(spanTexts(payload, facts), [
      ['text_input', 0, 'first'],
      ['text_input', 1, ''],
    ]);
    assert.equal(facts.batchSize, 2);
  });

  test('reads contents that come before the tensor name, and merges repeated contents', () => {
    const input: WireField[] = [
      [5, [[8, Buffer.from('one')]]],
      [1, 'late_name'],
      [2, 'BYTES'],
      [
        5,
        [
          [8, Buffer.from('two')],
          [6, Buffer.alloc(4)],
          [8, Buffer.from('three')],
        ],
      ],
    ];
    const payload = encodeMessage([[5, input]]);
    assert.deepEqual(spanTexts(payload, decodeInferRequest(payload)), [
      ['late_name', 0, 'one'],
      ['late_name', 1, 'two'],
      ['late_name', 2, 'three'],
    ]);
  });

  test('reads raw contents that come before the inputs on the wire', () => {
    const payload = encodeMessage([
      [7, rawBytes(['early'])],
      [
        5,
        [
          [1, 'text_input'],
          [2, 'BYTES'],
        ],
      ],
    ]);
    assert.deepEqual(spanTexts(payload, decodeInferRequest(payload)), [['text_input', 0, 'early']]);
  });

  test('gives raw entries to inputs without shared memory or contents, as Triton does', () => {
    const payload = encodeWith(requestType, {
      inputs: [
        {
          name: 'image',
          datatype: 'UINT8',
          shape: [4],
          parameters: { shared_memory_region: { string_param: 'region0' } },
        },
        { name: 'text_input', datatype: 'BYTES', shape: [1] },
      ],
      raw_input_contents: [rawBytes(['the prompt'])],
    });
    assert.deepEqual(spanTexts(payload, decodeInferRequest(payload)), [
      ['text_input', 0, 'the prompt'],
    ]);
  });

  test('ignores raw entries past the last input that takes one', () => {
    const payload = encodeWith(requestType, {
      inputs: [{ name: 'flag', datatype: 'BOOL', shape: [1] }],
      raw_input_contents: [Buffer.from([1]), Buffer.from([0xff, 0xff])],
    });
    assert.deepEqual(decodeInferRequest(payload).texts, []);
  });

  test('does not parse raw entries of inputs that are not BYTES', () => {
    const payload = encodeWith(requestType, {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }],
      raw_input_contents: [Buffer.from([0xff, 0xff, 0xff, 0x7f])],
    });
    assert.deepEqual(decodeInferRequest(payload).texts, []);
  });

  test('reads shapes packed and unpacked, with -1 and large safe dimensions', () => {
    const packed = encodeWith(requestType, {
      inputs: [{ name: 'a', shape: [-1, 0, 2 ** 40, Number.MAX_SAFE_INTEGER] }],
    });
    const unpacked = encodeMessage([
      [
        5,
        [
          [3, -1],
          [1, 'a'],
          [3, 7],
        ],
      ],
    ]);
    assert.deepEqual(decodeInferRequest(packed).inputs[0].shape, [
      -1,
      0,
      2 ** 40,
      Number.MAX_SAFE_INTEGER,
    ]);
    assert.deepEqual(decodeInferRequest(unpacked).inputs[0].shape, [-1, 7]);
    assert.equal(decodeInferRequest(unpacked).batchSize, -1);
  });

  test('rejects a shape dimension past the safe integer range', () => {
    const payload = encodeWith(requestType, {
      inputs: [{ name: 'a', shape: [toLongBits(2n ** 53n)] }],
    });
    assertMalformed(() => decodeInferRequest(payload), /shape dimension/);
  });

  test('reads every parameter kind, keeping int64 values past 2^53 exact', () => {
    const payload = encodeWith(requestType, {
      parameters: {
        b: { bool_param: false },
        i: { int64_param: -5 },
        big: { int64_param: toLongBits(-(2n ** 62n)) },
        s: { string_param: 'ünïcode' },
        d: { double_param: 0.5 },
        u: { uint64_param: toLongBits(2n ** 64n - 1n) },
        none: {},
      },
      inputs: [{ name: 'in', parameters: { binary_data_size: { int64_param: 12 } } }],
    });
    const facts = decodeInferRequest(payload);
    assert.deepEqual(
      facts.parameters,
      params({
        b: false,
        i: -5,
        big: -(2n ** 62n),
        s: 'ünïcode',
        d: 0.5,
        u: 2n ** 64n - 1n,
        none: null,
      }),
    );
    assert.deepEqual(facts.inputs[0].parameters, params({ binary_data_size: 12 }));
  });

  test('lets a later map entry with the same key win, and the last oneof member', () => {
    const entry = (key: string, value: WireField[]): WireField => [
      4,
      [
        [1, key],
        [2, value],
      ],
    ];
    const payload = encodeMessage([
      entry('priority', [[2, 1]]),
      entry('priority', [
        [3, 'high'],
        [1, true],
      ]),
    ]);
    assert.deepEqual(decodeInferRequest(payload).parameters, params({ priority: true }));
  });

  test('keeps a __proto__ key an ordinary key', () => {
    const payload = encodeMessage([
      [
        4,
        [
          [1, '__proto__'],
          [2, [[3, 'polluted']]],
        ],
      ],
    ]);
    const facts = decodeInferRequest(payload);
    assert.equal(Object.getPrototypeOf(facts.parameters), null);
    assert.equal(Object.getOwnPropertyDescriptor(facts.parameters, '__proto__')?.value, 'polluted');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('returns empty facts for an empty message', () => {
    const facts = decodeInferRequest(Buffer.alloc(0));
    assert.deepEqual(
      [facts.modelName, facts.id, facts.inputs, facts.texts, facts.batchSize],
      ['', '', [], [], undefined],
    );
  });

  test('rejects a raw BYTES element whose length leaves its entry', () => {
    const entry = Buffer.concat([rawBytes(['ok']), Buffer.from([9, 0, 0, 0, 0x61])]);
    const payload = encodeWith(requestType, {
      inputs: [{ name: 't', datatype: 'BYTES' }],
      raw_input_contents: [entry],
    });
    assertMalformed(() => decodeInferRequest(payload), /raw BYTES element 1 .* runs past/);
  });

  test('rejects a raw BYTES entry ending inside a length prefix', () => {
    const payload = encodeWith(requestType, {
      inputs: [{ name: 't', datatype: 'BYTES' }],
      raw_input_contents: [Buffer.concat([rawBytes(['ok']), Buffer.from([1, 0])])],
    });
    assertMalformed(() => decodeInferRequest(payload), /truncated length prefix/);
  });

  test('rejects strings that are not UTF-8 anywhere it reads one', () => {
    const bad = Buffer.from([0xc3, 0x28]);
    const payloads = [
      encodeMessage([[3, bad]]),
      encodeMessage([[5, [[2, bad]]]]),
      encodeMessage([[6, [[1, bad]]]]),
      encodeMessage([[4, [[1, bad]]]]),
      encodeMessage([[4, [[2, [[3, bad]]]]]]),
    ];
    for (const payload of payloads) {
      assertMalformed(() => decodeInferRequest(payload), /not valid UTF-8/);
    }
  });

  test('rejects broken framing inside the submessages it reads', () => {
    const payloads = [
      encodeMessage([[5, Buffer.from([0x0a, 0x09])]]),
      encodeMessage([[5, [[5, Buffer.from([0x42, 0x05, 0x61])]]]]),
      encodeMessage([[4, Buffer.from([0x12, 0x02, 0x08])]]),
    ];
    for (const payload of payloads) {
      assertMalformed(() => decodeInferRequest(payload), /./);
    }
  });
});
