// Unit tests for the protobuf wire writer and the in-stream error reply it builds.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { decodeStreamInferResponse } from '../../src/codecs/kserve-response-codec';
import { encodeMessage, encodeStreamInferError } from '../../src/codecs/protobuf-wire-writer';
import { encodeWith, kserveType, loadKserveRoot } from './kserve-fixtures';

describe('encodeMessage', () => {
  test('writes strings, bytes, varints, bools and nested messages', () => {
    const buf = encodeMessage([
      [1, 'hi'],
      [2, Buffer.from([0xff])],
      [3, 300],
      [4, true],
      [5, [[1, false]]],
    ]);
    const expected = [
      0x0a, 2, 0x68, 0x69, 0x12, 1, 0xff, 0x18, 0xac, 0x02, 0x20, 1, 0x2a, 2, 0x08, 0,
    ];
    assert.deepEqual([...buf], expected);
  });

  test('writes negative numbers and bigints as 64-bit two complement varints', () => {
    assert.deepEqual([...encodeMessage([[1, -1]])], [0x08, ...new Array(9).fill(0xff), 0x01]);
    assert.deepEqual([...encodeMessage([[1, 2n ** 64n - 1n]])], [...encodeMessage([[1, -1]])]);
  });

  test('writes multi-byte tags and long length prefixes', () => {
    const buf = encodeMessage([[1000, 'x'.repeat(200)]]);
    assert.deepEqual([...buf.subarray(0, 4)], [0xc2, 0x3e, 0xc8, 0x01]);
    assert.equal(buf.length, 204);
  });

  test('writes UTF-8 byte lengths for non-ASCII strings', () => {
    const buf = encodeMessage([[1, 'é😀']]);
    assert.equal(buf[1], 6);
    assert.equal(buf.subarray(2).toString('utf8'), 'é😀');
  });

  test('rejects field numbers outside 1..2^29-1 and non-integers', () => {
    assert.throws(() => encodeMessage([[0, 1]]), RangeError);
    assert.throws(() => encodeMessage([[2 ** 29, 1]]), RangeError);
    assert.throws(() => encodeMessage([[1, 1.5]]), RangeError);
  });
});

describe('encodeStreamInferError', () => {
  const root = loadKserveRoot();
  const streamType = kserveType(root, 'ModelStreamInferResponse');

  test('encodes what protobufjs encodes for the same message', () => {
    const facts = { modelName: 'llama', modelVersion: '3', id: 'req-1' };
    const reference = encodeWith(streamType, {
      error_message: 'model not allowed',
      infer_response: { model_name: 'llama', model_version: '3', id: 'req-1' },
    });
    assert.deepEqual(encodeStreamInferError('model not allowed', facts), reference);
  });

  test('is read back by protobufjs and by the stream decoder', () => {
    const buf = encodeStreamInferError('denied ✗', { modelName: 'm', modelVersion: '', id: 'é' });
    const decoded = streamType.toObject(streamType.decode(buf));
    assert.deepEqual(decoded, {
      error_message: 'denied ✗',
      infer_response: { model_name: 'm', id: 'é' },
    });
    const facts = decodeStreamInferResponse(buf);
    assert.equal(facts.errorMessage, 'denied ✗');
    assert.equal(facts.response?.id, 'é');
    assert.equal(facts.response?.modelVersion, '');
  });

  test('keeps infer_response present when every fact is empty', () => {
    const buf = encodeStreamInferError('', { modelName: '', modelVersion: '', id: '' });
    assert.deepEqual([...buf], [0x12, 0x00]);
    assert.notEqual(decodeStreamInferResponse(buf).response, undefined);
  });
});
