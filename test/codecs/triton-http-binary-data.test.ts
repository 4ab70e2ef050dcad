// The binary tensor data extension (Triton binary tensor data extension) in both directions, raw
// binary requests, and every way a binary part can fail to match its JSON header.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  decodeTritonInferRequest,
  decodeTritonInferResponse,
} from '../../src/codecs/triton-http-infer-codec';
import { ProxyError } from '../../src/errors/proxy-error';
import { assertProxyError, proxyErrorOf } from '../fixtures/proxy-errors';
import {
  binaryBody,
  binaryBytesInput,
  bytesElements,
  fp32Elements,
  jsonBody,
  maskDigits,
  spanTexts,
} from './triton-http-fixtures';

const PROMPT = 'Pay with 4111 1111 1111 1111 — €5';

/** A request mixing a binary BYTES input, a binary FP32 input and a JSON BYTES input. */
function mixedRequest() {
  const prompt = binaryBytesInput('text_input', [PROMPT, '', 'zweite Zeile 5500']);
  const weights = fp32Elements([0.5, 1.5]);
  const header = {
    id: 'bin-1',
    inputs: [
      prompt.input,
      { name: 'w', datatype: 'FP32', shape: [2], parameters: { binary_data_size: weights.length } },
      { name: 'note', datatype: 'BYTES', shape: [1], data: ['json 4111'] },
    ],
    outputs: [{ name: 'text_output', parameters: { binary_data: true } }],
  };
  return binaryBody(header, [prompt.chunk, weights]);
}

describe('decodeTritonInferRequest with binary tensor data', () => {
  test('slices the binary part by binary_data_size and reports each BYTES element', () => {
    const { body, headerLength } = mixedRequest();
    const facts = decodeTritonInferRequest(body, headerLength);

    assert.equal(facts.form, 'binary');
    assert.deepEqual(
      facts.inputs.map((input) => [input.name, input.binaryDataSize, input.elementCount]),
      [
        ['text_input', bytesElements([PROMPT, '', 'zweite Zeile 5500']).length, undefined],
        ['w', 8, undefined],
        ['note', undefined, 1],
      ],
    );
    assert.deepEqual(spanTexts(body, facts.texts), [
      ['inputs.2.data.0', 'json 4111'],
      ['text_input#0', PROMPT],
      ['text_input#1', ''],
      ['text_input#2', 'zweite Zeile 5500'],
    ]);
    assert.deepEqual(facts.outputs[0], {
      name: 'text_output',
      parameters: Object.assign(Object.create(null), { binary_data: true }),
      binaryData: true,
    });
  });

  test('places binary spans right after each 4-byte length prefix', () => {
    const { body, headerLength } = mixedRequest();
    const facts = decodeTritonInferRequest(body, headerLength);
    const binary = facts.texts.filter((span) => span.form === 'binary');

    assert.equal(binary[0]!.start, headerLength + 4);
    assert.equal(body.readUInt32LE(headerLength), Buffer.byteLength(PROMPT));
    for (const span of binary)
      assert.equal(body.readUInt32LE(span.start - 4), span.end - span.start);
  });

  test('masks binary elements in place without touching the lengths or the FP32 tensor', () => {
    const { body, headerLength } = mixedRequest();
    const facts = decodeTritonInferRequest(body, headerLength);

    maskDigits(body, facts.texts);
    const again = decodeTritonInferRequest(body, headerLength);
    assert.deepEqual(spanTexts(body, again.texts), [
      ['inputs.2.data.0', 'json ****'],
      ['text_input#0', 'Pay with **** **** **** **** — €*'],
      ['text_input#1', ''],
      ['text_input#2', 'zweite Zeile ****'],
    ]);
    assert.deepEqual(body.subarray(body.length - 8), fp32Elements([0.5, 1.5]));
  });

  test('reports elements that are not UTF-8 as plain byte ranges', () => {
    const element = Buffer.from([0xff, 0x34, 0x31, 0x00, 0xc3]);
    const prompt = binaryBytesInput('blob', [element]);
    const { body, headerLength } = binaryBody({ inputs: [prompt.input] }, [prompt.chunk]);
    const [span] = decodeTritonInferRequest(body, headerLength).texts;

    assert.deepEqual(body.subarray(span!.start, span!.end), element);
  });

  test('accepts an empty BYTES tensor and a header length covering the whole body', () => {
    const empty = binaryBytesInput('none', []);
    const { body, headerLength } = binaryBody({ inputs: [empty.input] }, [empty.chunk]);

    assert.equal(headerLength, body.length);
    assert.deepEqual(decodeTritonInferRequest(body, headerLength).texts, []);
  });
});

describe('decodeTritonInferResponse with binary tensor data', () => {
  test('reads binary BYTES outputs after the JSON header, beside JSON outputs', () => {
    const text = bytesElements(['Your card 4111 1111 1111 1111 was charged', 'done']);
    const { body, headerLength } = binaryBody(
      {
        model_name: 'ensemble',
        model_version: '1',
        outputs: [
          { name: 'finish_reason', datatype: 'BYTES', shape: [1], data: ['stop'] },
          {
            name: 'text_output',
            datatype: 'BYTES',
            shape: [2],
            parameters: { binary_data_size: text.length },
          },
        ],
      },
      [text],
    );
    const facts = decodeTritonInferResponse(body, headerLength);

    assert.deepEqual([facts.form, facts.modelName, facts.error], ['binary', 'ensemble', false]);
    assert.deepEqual(spanTexts(body, facts.texts), [
      ['outputs.0.data.0', 'stop'],
      ['text_output#0', 'Your card 4111 1111 1111 1111 was charged'],
      ['text_output#1', 'done'],
    ]);
  });
});

describe('decodeTritonInferRequest with a raw binary body (header length 0)', () => {
  test('reports the whole body as the one element of the only input', () => {
    const body = Buffer.from('raw prompt 4111 1111 1111 1111');
    const facts = decodeTritonInferRequest(body, 0);

    assert.deepEqual(
      [facts.form, facts.id, facts.inputs, facts.outputs, facts.batchSize],
      ['raw', undefined, [], [], 1],
    );
    assert.deepEqual(facts.texts, [
      { form: 'binary', tensor: '', element: 0, start: 0, end: body.length },
    ]);
  });

  test('reports an empty raw body as one empty span', () => {
    assert.deepEqual(decodeTritonInferRequest(Buffer.alloc(0), 0).texts, [
      { form: 'binary', tensor: '', element: 0, start: 0, end: 0 },
    ]);
  });
});

describe('binary data that does not match its header', () => {
  const prompt = binaryBytesInput('p', ['hello']);
  const good = binaryBody({ inputs: [prompt.input] }, [prompt.chunk]);

  test('refuses a header length outside the body', () => {
    for (const length of [good.body.length + 1, -1, 1.5, Number.NaN]) {
      assertProxyError(
        () => decodeTritonInferRequest(good.body, length),
        'ERR_MALFORMED_HEADER',
        /^Inference-Header-Content-Length .* is not a length within the body of \d+ bytes$/,
      );
    }
  });

  test('refuses a header length that cuts the JSON short', () => {
    assertProxyError(
      () => decodeTritonInferRequest(good.body, good.headerLength - 1),
      'ERR_JSON_MALFORMED',
      /JSON body is malformed/,
    );
  });

  test('refuses bytes after the tensors that no binary_data_size claims', () => {
    const body = Buffer.concat([good.body, Buffer.from('smuggled 4111')]);
    assertProxyError(
      () => decodeTritonInferRequest(body, good.headerLength),
      'ERR_TRITON_BODY_INVALID',
      /^Triton binary data sizes add up to 9 bytes, but 22 bytes follow the JSON part$/,
    );
  });

  test('refuses sizes larger than the binary part', () => {
    assertProxyError(
      () =>
        decodeTritonInferRequest(good.body.subarray(0, good.body.length - 1), good.headerLength),
      'ERR_TRITON_BODY_INVALID',
      /^Triton binary data sizes add up to 9 bytes, but 8 bytes follow/,
    );
  });

  test('refuses binary_data_size in a body without a binary part', () => {
    assertProxyError(
      () => decodeTritonInferRequest(jsonBody({ inputs: [prompt.input] }), undefined),
      'ERR_TRITON_BODY_INVALID',
      /but 0 bytes follow the JSON part$/,
    );
  });

  test('refuses a BYTES element longer than its tensor, even when later bytes would fit', () => {
    const chunk = bytesElements(['abcd']);
    chunk.writeUInt32LE(6, 0);
    const other = binaryBytesInput('q', ['xy']);
    const { body, headerLength } = binaryBody(
      { inputs: [{ ...prompt.input, parameters: { binary_data_size: 8 } }, other.input] },
      [chunk, other.chunk],
    );
    assertProxyError(
      () => decodeTritonInferRequest(body, headerLength),
      'ERR_TRITON_BODY_INVALID',
      /^Triton BYTES tensor "inputs.0" element 0 of 6 bytes runs past the end of its 8-byte chunk$/,
    );
  });

  test('refuses a BYTES tensor that ends inside a length prefix', () => {
    const chunk = Buffer.concat([bytesElements(['ab']), Buffer.from([1, 0])]);
    const { body, headerLength } = binaryBody(
      { inputs: [{ ...prompt.input, parameters: { binary_data_size: chunk.length } }] },
      [chunk],
    );
    assertProxyError(
      () => decodeTritonInferRequest(body, headerLength),
      'ERR_TRITON_BODY_INVALID',
      /^Triton BYTES tensor "inputs.0" ends inside the length prefix of element 1$/,
    );
  });

  test('refuses a binary_data_size that is not a byte count', () => {
    for (const size of [-1, 1.5, '9', true, 2 ** 53]) {
      const input = { ...prompt.input, parameters: { binary_data_size: size } };
      const { body, headerLength } = binaryBody({ inputs: [input] }, [prompt.chunk]);
      assertProxyError(
        () => decodeTritonInferRequest(body, headerLength),
        'ERR_TRITON_BODY_INVALID',
        /^Triton parameter "inputs.0.parameters.binary_data_size" must be a byte count$/,
      );
    }
  });

  test('refuses a tensor with both data and binary_data_size', () => {
    const input = { ...prompt.input, data: ['json'] };
    const { body, headerLength } = binaryBody({ inputs: [input] }, [prompt.chunk]);
    assertProxyError(
      () => decodeTritonInferRequest(body, headerLength),
      'ERR_TRITON_BODY_INVALID',
      /^Triton tensor "inputs.0" has both data and binary data$/,
    );
  });

  test('answers a broken upstream response with ERR_UPSTREAM_PROTOCOL, the cause kept', () => {
    const body = Buffer.concat([good.body, Buffer.from('x')]);
    const err = proxyErrorOf(() => decodeTritonInferResponse(body, good.headerLength));

    assert.equal(err.code, 'ERR_UPSTREAM_PROTOCOL');
    assert.match(err.message, /^upstream sent a Triton response the gateway cannot read: /);
    assert.ok(err.cause instanceof ProxyError);
    assert.equal(err.cause.code, 'ERR_TRITON_BODY_INVALID');
  });

  test('refuses a raw (header length 0) or out-of-range response', () => {
    for (const length of [0, good.body.length + 1]) {
      assertProxyError(
        () => decodeTritonInferResponse(good.body, length),
        'ERR_UPSTREAM_PROTOCOL',
        /Inference-Header-Content-Length/,
      );
    }
  });
});
