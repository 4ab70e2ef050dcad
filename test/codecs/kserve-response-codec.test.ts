// Unit tests for the ModelInferResponse and ModelStreamInferResponse decoders.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { InferResponseFacts } from '../../src/codecs/kserve-infer-facts';
import {
  decodeInferResponse,
  decodeStreamInferResponse,
} from '../../src/codecs/kserve-response-codec';
import { encodeMessage } from '../../src/codecs/protobuf-wire-writer';
import { isProxyError } from '../../src/errors/proxy-error';
import { encodeWith, kserveType, loadKserveRoot } from './kserve-fixtures';

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

function spanTexts(buf: Buffer, facts: InferResponseFacts | undefined): [string, number, string][] {
  assert.ok(facts);
  return facts.texts.map((span) => [
    span.tensor,
    span.element,
    buf.subarray(span.start, span.end).toString('utf8'),
  ]);
}

describe('decodeInferResponse', () => {
  const root = loadKserveRoot();
  const responseType = kserveType(root, 'ModelInferResponse');

  const streamed = {
    model_name: 'vllm_model',
    model_version: '1',
    id: 'req-7',
    parameters: { triton_final_response: { bool_param: true } },
    outputs: [
      { name: 'text_output', datatype: 'BYTES', shape: [1] },
      { name: 'num_output_tokens', datatype: 'UINT32', shape: [1] },
    ],
    raw_output_contents: [rawBytes(['Paris is the capital.']), Buffer.from([5, 0, 0, 0])],
  };

  test('reads the facts and raw BYTES spans of a response', () => {
    const payload = encodeWith(responseType, streamed);
    const facts = decodeInferResponse(payload);
    assert.deepEqual(
      [facts.modelName, facts.modelVersion, facts.id, facts.finalResponse],
      ['vllm_model', '1', 'req-7', true],
    );
    assert.deepEqual(
      facts.outputs.map((output) => [output.name, output.datatype, output.shape]),
      [
        ['text_output', 'BYTES', [1]],
        ['num_output_tokens', 'UINT32', [1]],
      ],
    );
    assert.deepEqual(spanTexts(payload, facts), [['text_output', 0, 'Paris is the capital.']]);
  });

  test('reads typed bytes_contents of outputs', () => {
    const payload = encodeWith(responseType, {
      outputs: [
        {
          name: 'text_output',
          datatype: 'BYTES',
          shape: [2],
          contents: { bytes_contents: [Buffer.from('a'), Buffer.from('ß')] },
        },
      ],
    });
    const facts = decodeInferResponse(payload);
    assert.equal(facts.finalResponse, false);
    assert.deepEqual(spanTexts(payload, facts), [
      ['text_output', 0, 'a'],
      ['text_output', 1, 'ß'],
    ]);
  });

  test('shifts spans by base so they index the enclosing buffer', () => {
    const payload = encodeWith(responseType, streamed);
    const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, payload.length]), payload]);
    const facts = decodeInferResponse(frame.subarray(5), 5);
    assert.deepEqual(spanTexts(frame, facts), [['text_output', 0, 'Paris is the capital.']]);
  });

  test('gives raw entries to outputs in lockstep, whatever their parameters', () => {
    const payload = encodeWith(responseType, {
      outputs: [
        {
          name: 'image',
          datatype: 'UINT8',
          parameters: { shared_memory_region: { string_param: 'r' } },
        },
        { name: 'text_output', datatype: 'BYTES' },
      ],
      raw_output_contents: [Buffer.alloc(0), rawBytes(['second'])],
    });
    assert.deepEqual(spanTexts(payload, decodeInferResponse(payload)), [
      ['text_output', 0, 'second'],
    ]);
  });

  test('rejects a raw BYTES element whose length leaves its entry', () => {
    const payload = encodeWith(responseType, {
      outputs: [{ name: 'text_output', datatype: 'BYTES' }],
      raw_output_contents: [Buffer.from([200, 0, 0, 0, 0x61])],
    });
    assert.throws(
      () => decodeInferResponse(payload),
      (err: unknown) => isProxyError(err) && err.code === 'ERR_MALFORMED_MESSAGE',
    );
  });
});

describe('decodeStreamInferResponse', () => {
  const root = loadKserveRoot();
  const streamType = kserveType(root, 'ModelStreamInferResponse');
  const response = {
    model_name: 'm',
    id: 'r1',
    outputs: [{ name: 'text_output', datatype: 'BYTES', shape: [2] }],
    raw_output_contents: [rawBytes(['tok', 'ens'])],
  };

  test('reads the inner response with spans into the outer payload', () => {
    const payload = encodeWith(streamType, { infer_response: response });
    const facts = decodeStreamInferResponse(payload);
    assert.equal(facts.errorMessage, '');
    assert.equal(facts.response?.id, 'r1');
    assert.deepEqual(spanTexts(payload, facts.response), [
      ['text_output', 0, 'tok'],
      ['text_output', 1, 'ens'],
    ]);
  });

  test('reads each parameter name as written, across many responses with names alike', () => {
    // More names of one length than the decoder remembers, each seen twice, in turn.
    const names = Array.from({ length: 20 }, (_, i) => `name_${String(i).padStart(2, '0')}`);
    for (const name of [...names, ...names]) {
      const payload = encodeWith(streamType, {
        infer_response: { ...response, parameters: { [name]: { int64_param: 7 } } },
      });
      assert.deepEqual(Object.keys(decodeStreamInferResponse(payload).response!.parameters), [
        name,
      ]);
    }
  });

  test('reads an error message with no response', () => {
    const payload = encodeWith(streamType, { error_message: 'model crashed' });
    assert.deepEqual(decodeStreamInferResponse(payload), {
      errorMessage: 'model crashed',
      response: undefined,
    });
  });

  test('merges repeated infer_response occurrences, as protobuf does', () => {
    const first = encodeWith(streamType, { infer_response: response });
    const second = encodeMessage([
      [
        2,
        [
          [3, 'r2'],
          [6, rawBytes(['late'])],
          [
            5,
            [
              [1, 'extra'],
              [2, 'BYTES'],
            ],
          ],
        ],
      ],
    ]);
    const payload = Buffer.concat([first, second]);
    const facts = decodeStreamInferResponse(payload);
    assert.equal(facts.response?.id, 'r2');
    assert.equal(facts.response?.modelName, 'm');
    assert.deepEqual(spanTexts(payload, facts.response), [
      ['text_output', 0, 'tok'],
      ['text_output', 1, 'ens'],
      ['extra', 0, 'late'],
    ]);
  });

  test('rejects an error message that is not UTF-8 and a truncated inner response', () => {
    const isMalformed = (err: unknown): boolean =>
      isProxyError(err) && err.code === 'ERR_MALFORMED_MESSAGE';
    const badText = encodeMessage([[1, Buffer.from([0xfe])]]);
    assert.throws(() => decodeStreamInferResponse(badText), isMalformed);
    const payload = encodeWith(streamType, { infer_response: response });
    assert.throws(() => decodeStreamInferResponse(payload.subarray(0, 10)), isMalformed);
  });
});
