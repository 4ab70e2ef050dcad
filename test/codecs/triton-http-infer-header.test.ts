// Every way the JSON part of a Triton infer body can break the rules the codec checks, with the
// error code a request and a response answer it with.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  decodeTritonInferRequest,
  decodeTritonInferResponse,
} from '../../src/codecs/triton-http-infer-codec';
import { ProxyError } from '../../src/errors/proxy-error';
import { assertProxyError, proxyErrorOf } from '../fixtures/proxy-errors';

const TENSOR = '"name":"p","datatype":"BYTES","shape":[1]';

/** A request body holding one input with TENSOR's fields and `extra`. */
function withInput(extra: string): string {
  return `{"inputs":[{${TENSOR}${extra}}]}`;
}

/** [what is wrong, request body, expected message] — all ERR_TRITON_BODY_INVALID. */
const INVALID_REQUESTS: readonly [string, string, RegExp][] = [
  ['a root array', '[]', /^Triton infer body is not a JSON object$/],
  ['a root string', '"infer"', /^Triton infer body is not a JSON object$/],
  ['a numeric id', '{"id":7}', /^Triton body field "id" must be a string, not a number$/],
  ['a null id', '{"id":null}', /field "id" must be a string, not a null$/],
  ['an object id', '{"id":{}}', /field "id" must be a string, not an object$/],
  ['array parameters', '{"parameters":[]}', /field "parameters" must be an object, not an array$/],
  ['string parameters', '{"parameters":"x"}', /field "parameters" must be an object$/],
  ['a null parameter', '{"parameters":{"a":null}}', /parameter "parameters.a" must be a string/],
  ['an object parameter', '{"parameters":{"a":{}}}', /"parameters.a" must be a string, number/],
  ['object inputs', '{"inputs":{}}', /field "inputs" must be an array, not an object$/],
  ['scalar inputs', '{"inputs":1}', /field "inputs" must be an array$/],
  ['a scalar input', '{"inputs":["p"]}', /field "inputs.0" must be an object$/],
  ['an array input', '{"inputs":[[]]}', /field "inputs.0" must be an object, not an array$/],
  ['no name', '{"inputs":[{"datatype":"BYTES","shape":[1]}]}', /"inputs.0.name" is missing$/],
  ['no datatype', '{"inputs":[{"name":"p","shape":[1]}]}', /"inputs.0.datatype" is missing$/],
  ['no shape', '{"inputs":[{"name":"p","datatype":"BYTES"}]}', /"inputs.0.shape" is missing$/],
  ['an empty input', '{"inputs":[{}]}', /"inputs.0.name" is missing$/],
  ['a numeric name', '{"inputs":[{"name":1}]}', /"inputs.0.name" must be a string, not a number/],
  ['an array datatype', '{"inputs":[{"datatype":[]}]}', /"inputs.0.datatype" must be a string/],
  ['a scalar shape', '{"inputs":[{"shape":1}]}', /"inputs.0.shape" must be an array$/],
  ['an object shape', '{"inputs":[{"shape":{}}]}', /"inputs.0.shape" must be an array of numbers/],
  ['a nested shape', '{"inputs":[{"shape":[[1]]}]}', /"inputs.0.shape.0" must be an array of/],
  ['a negative dimension', '{"inputs":[{"shape":[-1]}]}', /"inputs.0.shape.0" must be a non-neg/],
  ['a fractional dimension', '{"inputs":[{"shape":[1.5]}]}', /must be a non-negative integer$/],
  ['a string dimension', '{"inputs":[{"shape":["1"]}]}', /"inputs.0.shape.0" must be a number/],
  ['scalar tensor parameters', withInput(',"parameters":3'), /"inputs.0.parameters" must be an/],
  [
    'a number in BYTES data',
    withInput(',"data":["a",4111]'),
    /is BYTES but its data holds a number/,
  ],
  [
    'a null in BYTES data',
    withInput(',"data":[null]'),
    /"inputs.0" is BYTES but its data holds a null$/,
  ],
  [
    'a string in INT32 data',
    '{"inputs":[{"name":"n","datatype":"INT32","shape":[1],"data":["4111"]}]}',
    /^Triton tensor "inputs.0" holds a string in data but is not BYTES$/,
  ],
  [
    'an object in data',
    withInput(',"data":[{"a":"b"}]'),
    /"inputs.0.data.0" must be an array or a/,
  ],
  ['a repeated id', '{"id":"a","id":"b"}', /^Triton body field "id" appears twice$/],
  ['a repeated parameter', '{"parameters":{"a":1,"a":2}}', /field "parameters.a" appears twice$/],
  ['repeated inputs', '{"inputs":[],"inputs":[]}', /field "inputs" appears twice$/],
  ['a repeated datatype', withInput(',"datatype":"INT32"'), /"inputs.0.datatype" appears twice$/],
  [
    'a repeated binary_data_size',
    withInput(',"parameters":{"binary_data_size":0,"binary_data_size":5}'),
    /"inputs.0.parameters.binary_data_size" appears twice$/,
  ],
  ['a scalar requested output', '{"outputs":["x"]}', /field "outputs.0" must be an object$/],
  ['an unnamed requested output', '{"outputs":[{}]}', /"outputs.0.name" is missing$/],
  [
    'a string binary_data',
    '{"outputs":[{"name":"o","parameters":{"binary_data":"true"}}]}',
    /^Triton parameter "outputs.0.parameters.binary_data" must be a boolean$/,
  ],
];

describe('decodeTritonInferRequest refusing a malformed JSON part', () => {
  for (const [what, body, message] of INVALID_REQUESTS) {
    test(`refuses ${what} with ERR_TRITON_BODY_INVALID`, () => {
      assertProxyError(
        () => decodeTritonInferRequest(Buffer.from(body), undefined),
        'ERR_TRITON_BODY_INVALID',
        message,
      );
    });
  }

  test('refuses a body that is not JSON with ERR_JSON_MALFORMED', () => {
    for (const body of ['', '{"inputs":[', '{"id":"a",}', '\xef\xbb\xbf{}']) {
      assertProxyError(
        () => decodeTritonInferRequest(Buffer.from(body, 'latin1'), undefined),
        'ERR_JSON_MALFORMED',
        /^JSON body /,
      );
    }
  });

  test('never quotes prompt text in a message', () => {
    const err = proxyErrorOf(() =>
      decodeTritonInferRequest(
        Buffer.from(withInput(',"data":["4111 1111 1111 1111",1]')),
        undefined,
      ),
    );
    assert.doesNotMatch(err.message, /4111/);
  });
});

describe('decodeTritonInferResponse refusing a malformed JSON part', () => {
  test('answers every field error with ERR_UPSTREAM_PROTOCOL, the specific error as cause', () => {
    const bodies = [
      '{"model_name":1}',
      '{"model_version":["1"]}',
      '{"outputs":[{"name":"o","datatype":"BYTES","shape":[1],"data":[1]}]}',
      '{"outputs":[{"name":"o","shape":[1]}]}',
      '{"outputs":[],"outputs":[]}',
    ];
    for (const body of bodies) {
      const err = proxyErrorOf(() => decodeTritonInferResponse(Buffer.from(body), undefined));
      assert.equal(err.code, 'ERR_UPSTREAM_PROTOCOL', body);
      assert.ok(err.cause instanceof ProxyError);
      assert.equal(err.cause.code, 'ERR_TRITON_BODY_INVALID');
    }
  });

  test('answers a body that is not JSON with ERR_UPSTREAM_PROTOCOL', () => {
    const err = proxyErrorOf(() => decodeTritonInferResponse(Buffer.from('<html>'), undefined));

    assert.equal(err.code, 'ERR_UPSTREAM_PROTOCOL');
    assert.equal((err.cause as ProxyError).code, 'ERR_JSON_MALFORMED');
  });
});
