// Decoding Triton HTTP infer bodies in JSON form: request and response facts, and the BYTES text
// spans to mask, checked against the real bytes.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  decodeTritonInferRequest,
  decodeTritonInferResponse,
} from '../../src/codecs/triton-http-infer-codec';
import { jsonBody, maskDigits, spanTexts } from './triton-http-fixtures';

/** A vLLM-backend request: a BYTES prompt, a BOOL stream flag and JSON sampling parameters. */
const VLLM_REQUEST = {
  id: 'req-42',
  parameters: { priority: 2, sequence_id: 'seq-7', sequence_start: true },
  inputs: [
    { name: 'text_input', datatype: 'BYTES', shape: [1], data: ['My card is 4111 1111 1111 1111'] },
    { name: 'stream', datatype: 'BOOL', shape: [1], data: [false] },
    {
      name: 'sampling_parameters',
      datatype: 'BYTES',
      shape: [1],
      data: ['{"max_tokens": 64}'],
    },
  ],
  outputs: [{ name: 'text_output', parameters: { binary_data: false } }, { name: 'finish_reason' }],
};

describe('decodeTritonInferRequest in JSON form', () => {
  test('reads the id, parameters, inputs, requested outputs and batch size', () => {
    const facts = decodeTritonInferRequest(jsonBody(VLLM_REQUEST), undefined);

    assert.equal(facts.form, 'json');
    assert.equal(facts.id, 'req-42');
    assert.deepEqual({ ...facts.parameters }, VLLM_REQUEST.parameters);
    assert.deepEqual(
      facts.inputs.map((input) => [input.name, input.datatype, input.shape, input.elementCount]),
      [
        ['text_input', 'BYTES', [1], 1],
        ['stream', 'BOOL', [1], 1],
        ['sampling_parameters', 'BYTES', [1], 1],
      ],
    );
    assert.equal(facts.inputs[0]!.binaryDataSize, undefined);
    assert.deepEqual(
      facts.outputs.map((output) => [output.name, output.binaryData]),
      [
        ['text_output', false],
        ['finish_reason', undefined],
      ],
    );
    assert.equal(facts.batchSize, 1);
  });

  test('reports the strings of every BYTES input and nothing of the others', () => {
    const body = jsonBody(VLLM_REQUEST);
    const facts = decodeTritonInferRequest(body, undefined);

    assert.deepEqual(spanTexts(body, facts.texts), [
      ['inputs.0.data.0', 'My card is 4111 1111 1111 1111'],
      ['inputs.2.data.0', '{"max_tokens": 64}'],
    ]);
    assert.deepEqual(
      facts.texts.map((span) => [span.form, span.form === 'json' && span.escaped]),
      [
        ['json', false],
        ['json', true],
      ],
    );
  });

  test('reads nested data row-major and counts every element', () => {
    const body = jsonBody({
      inputs: [
        {
          name: 'n',
          datatype: 'INT32',
          shape: [2, 2],
          data: [
            [1, 2],
            [3, 4],
          ],
        },
        {
          name: 'q',
          datatype: 'BYTES',
          shape: [2, 2],
          data: [
            ['a', 'b'],
            ['c', 'd'],
          ],
        },
      ],
    });
    const facts = decodeTritonInferRequest(body, undefined);

    assert.deepEqual(spanTexts(body, facts.texts), [
      ['inputs.1.data.0.0', 'a'],
      ['inputs.1.data.0.1', 'b'],
      ['inputs.1.data.1.0', 'c'],
      ['inputs.1.data.1.1', 'd'],
    ]);
    assert.deepEqual(
      facts.inputs.map((input) => input.elementCount),
      [4, 4],
    );
    assert.equal(facts.batchSize, 2);
  });

  test('accepts fields in any order and a scalar data value', () => {
    const body = Buffer.from(
      '{"inputs":[{"data":"hello 4111","shape":[1],"datatype":"BYTES","name":"p"}]}',
    );
    const facts = decodeTritonInferRequest(body, undefined);

    assert.deepEqual(spanTexts(body, facts.texts), [['inputs.0.data', 'hello 4111']]);
    assert.equal(facts.inputs[0]!.elementCount, 1);
  });

  test('reports byte offsets of escaped and non-ASCII text, and masks in place', () => {
    const text = 'Ünïcödé 💳 "4111"\n1111\\';
    const body = jsonBody({ inputs: [{ name: 'p', datatype: 'BYTES', shape: [1], data: [text] }] });
    const facts = decodeTritonInferRequest(body, undefined);
    const span = facts.texts[0]!;

    assert.equal(span.form, 'json');
    assert.equal(span.form === 'json' && span.escaped, true);
    assert.deepEqual(spanTexts(body, facts.texts), [['inputs.0.data.0', text]]);
    const quoted = Buffer.from(JSON.stringify(text));
    assert.equal(span.start, body.indexOf(quoted) + 1);
    assert.equal(span.end - span.start, quoted.length - 2);

    const length = body.length;
    maskDigits(body, facts.texts);
    assert.equal(body.length, length);
    assert.equal(JSON.parse(body.toString()).inputs[0].data[0], 'Ünïcödé 💳 "****"\n****\\');
  });

  test('keeps parameter keys such as __proto__ ordinary keys', () => {
    const body = Buffer.from('{"parameters":{"__proto__":"x","constructor":1},"inputs":[]}');
    const facts = decodeTritonInferRequest(body, undefined);

    assert.equal(Object.getPrototypeOf(facts.parameters), null);
    assert.deepEqual(Object.entries(facts.parameters), [
      ['__proto__', 'x'],
      ['constructor', 1],
    ]);
  });

  test('reads a body without inputs, id or outputs', () => {
    const facts = decodeTritonInferRequest(jsonBody({}), undefined);

    assert.deepEqual(
      [facts.id, facts.inputs, facts.outputs, facts.batchSize, facts.texts],
      [undefined, [], [], undefined, []],
    );
  });
});

describe('decodeTritonInferResponse in JSON form', () => {
  test('reads the model, id, parameters and outputs, and the text of BYTES outputs', () => {
    const body = jsonBody({
      model_name: 'vllm_model',
      model_version: '1',
      id: 'req-42',
      parameters: { triton_final_response: true },
      outputs: [
        { name: 'text_output', datatype: 'BYTES', shape: [2], data: ['Charged 4111', 'ok'] },
        { name: 'num_output_tokens', datatype: 'UINT32', shape: [1], data: [12] },
      ],
    });
    const facts = decodeTritonInferResponse(body, undefined);

    assert.deepEqual(
      [facts.form, facts.modelName, facts.modelVersion, facts.id, facts.error],
      ['json', 'vllm_model', '1', 'req-42', false],
    );
    assert.deepEqual({ ...facts.parameters }, { triton_final_response: true });
    assert.deepEqual(
      facts.outputs.map((output) => [output.name, output.datatype, output.elementCount]),
      [
        ['text_output', 'BYTES', 2],
        ['num_output_tokens', 'UINT32', 1],
      ],
    );
    assert.deepEqual(spanTexts(body, facts.texts), [
      ['outputs.0.data.0', 'Charged 4111'],
      ['outputs.0.data.1', 'ok'],
    ]);
  });

  test('flags an error body and reports its message as text', () => {
    const body = jsonBody({ error: 'input "text_input" was 4111 1111 1111 1111: too long' });
    const facts = decodeTritonInferResponse(body, undefined);

    assert.equal(facts.error, true);
    assert.deepEqual(spanTexts(body, facts.texts), [
      ['error', 'input "text_input" was 4111 1111 1111 1111: too long'],
    ]);
    assert.deepEqual(facts.outputs, []);
  });

  test('reports the strings of an error object too', () => {
    const body = jsonBody({ error: { message: 'bad 4111', code: 400 } });
    const facts = decodeTritonInferResponse(body, undefined);

    assert.equal(facts.error, true);
    assert.deepEqual(spanTexts(body, facts.texts), [['error.message', 'bad 4111']]);
  });

  test('does not treat a top-level error field of a request as text', () => {
    const body = jsonBody({ error: 'x', inputs: [] });

    assert.deepEqual(decodeTritonInferRequest(body, undefined).texts, []);
  });
});
