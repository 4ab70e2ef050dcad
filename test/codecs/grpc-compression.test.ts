// Reading compressed gRPC messages: gzip, deflate, bounds on expansion, unknown encodings.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deflateSync, gzipSync } from 'node:zlib';
import { checkEncoding, readPayload } from '../../src/codecs/grpc-compression';
import { encodeGrpcFrame } from '../../src/codecs/grpc-frame-decoder';
import { proxyErrorOf } from '../fixtures/proxy-errors';

const MIB = 1024 * 1024;

/** A plain payload with some structure, as a model request would have. */
function plainPayload(): Buffer {
  return Buffer.from('{"inputs":[{"name":"text_input","data":["hello, model"]}]}'.repeat(20));
}

test('reads a gzip-compressed message', () => {
  const plain = plainPayload();
  const frame = encodeGrpcFrame(gzipSync(plain), true);

  assert.deepEqual(readPayload(frame, true, 'gzip', MIB), plain);
});

test('reads a deflate-compressed message', () => {
  const plain = plainPayload();
  const frame = encodeGrpcFrame(deflateSync(plain), true);

  assert.deepEqual(readPayload(frame, true, 'deflate', MIB), plain);
});

test('returns an uncompressed payload as a view of the frame, whatever the encoding', () => {
  const plain = plainPayload();
  const frame = encodeGrpcFrame(plain);

  const identity = readPayload(frame, false, undefined, MIB);
  const underGzip = readPayload(frame, false, 'gzip', MIB);

  assert.deepEqual(identity, plain);
  assert.deepEqual(underGzip, plain);
  assert.equal(identity.buffer, frame.buffer);
  assert.equal(identity.byteOffset, frame.byteOffset + 5);
});

test('rejects the compressed flag without a grpc-encoding as malformed', () => {
  const frame = encodeGrpcFrame(gzipSync(plainPayload()), true);

  const missing = proxyErrorOf(() => readPayload(frame, true, undefined, MIB));
  const identity = proxyErrorOf(() => readPayload(frame, true, 'identity', MIB));

  assert.equal(missing.code, 'ERR_MALFORMED_MESSAGE');
  assert.equal(missing.message, 'compressed message without a grpc-encoding');
  assert.equal(identity.code, 'ERR_MALFORMED_MESSAGE');
});

test('rejects a gzip bomb that expands past the limit', () => {
  const bomb = gzipSync(Buffer.alloc(10 * MIB));
  assert.ok(bomb.length < 20_000, `bomb is ${bomb.length} bytes`);

  const error = proxyErrorOf(() => readPayload(encodeGrpcFrame(bomb, true), true, 'gzip', MIB));

  assert.equal(error.code, 'ERR_MESSAGE_TOO_LARGE');
  assert.equal(error.message, `decompressed message exceeds ${MIB} bytes`);
  assert.equal(error.grpcStatus, 8);
});

test('rejects a deflate bomb that expands past the limit', () => {
  const bomb = deflateSync(Buffer.alloc(10 * MIB));

  const error = proxyErrorOf(() => readPayload(encodeGrpcFrame(bomb, true), true, 'deflate', MIB));

  assert.equal(error.code, 'ERR_MESSAGE_TOO_LARGE');
});

test('accepts a message that decompresses to exactly the limit', () => {
  const plain = Buffer.alloc(4096, 7);
  const frame = encodeGrpcFrame(gzipSync(plain), true);

  assert.deepEqual(readPayload(frame, true, 'gzip', 4096), plain);
});

test('rejects bytes that are not valid data of the encoding as malformed', () => {
  const frame = encodeGrpcFrame(Buffer.from('definitely not gzip'), true);

  const error = proxyErrorOf(() => readPayload(frame, true, 'gzip', MIB));

  assert.equal(error.code, 'ERR_MALFORMED_MESSAGE');
  assert.equal(error.message, 'message is not valid gzip data');
  assert.ok(error.cause instanceof Error);
});

test('rejects an encoding it cannot read', () => {
  const error = proxyErrorOf(() => checkEncoding('snappy'));

  assert.equal(error.code, 'ERR_UNSUPPORTED_ENCODING');
  assert.equal(error.message, 'grpc-encoding "snappy" is not supported');
  assert.equal(error.grpcStatus, 12);
});

test('accepts no encoding, identity, gzip and deflate', () => {
  for (const encoding of [undefined, 'identity', 'gzip', 'deflate']) {
    assert.equal(checkEncoding(encoding), undefined, String(encoding));
  }
});
