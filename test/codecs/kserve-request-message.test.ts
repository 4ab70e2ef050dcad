// A request message read once for every filter that asks: plain and compressed.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';

import { encodeGrpcFrame } from '../../src/codecs/grpc-frame-decoder';
import type { GrpcMessage } from '../../src/codecs/grpc-message';
import { readInferRequest, requestEncoding } from '../../src/codecs/kserve-request-message';
import { encodeWith, kserveType, loadKserveRoot } from './kserve-fixtures';

const requestType = kserveType(loadKserveRoot(), 'ModelInferRequest');
const PAYLOAD = encodeWith(requestType, {
  model_name: 'echo',
  inputs: [
    {
      name: 'text_input',
      datatype: 'BYTES',
      shape: [1],
      contents: { bytes_contents: [Buffer.from('hello')] },
    },
  ],
});

function message(frame: Buffer, compressed = false): GrpcMessage {
  return { frame, compressed, model: 'echo', upstream: 'u' };
}

test('reads a frame once: a second reader gets the same payload and facts', () => {
  const frame = encodeGrpcFrame(PAYLOAD);

  const first = readInferRequest(message(frame), undefined, 1 << 20);
  const second = readInferRequest(message(frame), undefined, 1 << 20);

  assert.equal(second, first);
  assert.equal(first.facts.modelName, 'echo');
  const [span] = first.facts.texts;
  assert.equal(first.payload.toString('utf8', span!.start, span!.end), 'hello');
});

test('a compressed frame is read from one decompressed copy, which masking may write', () => {
  const frame = encodeGrpcFrame(gzipSync(PAYLOAD), true);

  const first = readInferRequest(message(frame, true), 'gzip', 1 << 20);
  first.payload.fill(0x2a, first.facts.texts[0]!.start, first.facts.texts[0]!.end);
  const second = readInferRequest(message(frame, true), 'gzip', 1 << 20);

  assert.ok(second.payload.includes('*****'));
});

test('another frame with the same bytes is read on its own', () => {
  const first = readInferRequest(message(encodeGrpcFrame(PAYLOAD)), undefined, 1 << 20);
  const other = readInferRequest(message(encodeGrpcFrame(PAYLOAD)), undefined, 1 << 20);

  assert.notEqual(other, first);
  assert.deepEqual(other.facts, first.facts);
});

test("takes the call's grpc-encoding header", () => {
  assert.equal(requestEncoding({ 'grpc-encoding': 'gzip' }), 'gzip');
  assert.equal(requestEncoding({}), undefined);
});
