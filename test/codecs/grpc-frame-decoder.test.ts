// Reassembling gRPC length-prefixed messages from DATA chunks split anywhere.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeGrpcFrame, GrpcFrameDecoder } from '../../src/codecs/grpc-frame-decoder';
import { proxyErrorOf } from '../fixtures/proxy-errors';

/** One decoded message as the sink saw it. */
interface Decoded {
  readonly frame: Buffer;
  readonly compressed: boolean;
}

/** A decoder with a recording sink; `push` feeds it chunks in order. */
function makeDecoder(maxMessageBytes = 1024) {
  const decoder = new GrpcFrameDecoder(maxMessageBytes);
  const out: Decoded[] = [];
  const push = (...chunks: Buffer[]) => {
    for (const chunk of chunks)
      decoder.push(chunk, (frame, compressed) => out.push({ frame, compressed }));
  };
  return { decoder, out, push };
}

/** A payload of `length` bytes whose values depend on `seed`, so messages differ. */
function payload(length: number, seed: number): Buffer {
  return Buffer.from(Array.from({ length }, (_, i) => (i * 31 + seed) % 256));
}

/** A stream of messages with awkward shapes: empty, compressed, and one over 255 bytes. */
function sampleStream() {
  const frames = [
    encodeGrpcFrame(payload(7, 1)),
    encodeGrpcFrame(Buffer.alloc(0)),
    encodeGrpcFrame(payload(300, 2), true),
    encodeGrpcFrame(payload(1, 3)),
  ];
  const expected = frames.map((frame) => ({ frame, compressed: frame[0] === 1 }));
  return { stream: Buffer.concat(frames), expected };
}

test('hands on several messages of one chunk as views of that chunk', () => {
  const { push, out } = makeDecoder();
  const first = encodeGrpcFrame(payload(3, 1));
  const second = encodeGrpcFrame(payload(10, 2), true);
  const bytes = Buffer.concat([first, second, encodeGrpcFrame(Buffer.alloc(0))]);
  const chunk = Buffer.alloc(bytes.length);
  bytes.copy(chunk);

  push(chunk);

  assert.equal(out.length, 3);
  assert.deepEqual(out[0], { frame: first, compressed: false });
  assert.deepEqual(out[1], { frame: second, compressed: true });
  assert.deepEqual(out[2], { frame: Buffer.from([0, 0, 0, 0, 0]), compressed: false });
  for (const { frame } of out) assert.equal(frame.buffer, chunk.buffer);
  assert.deepEqual(
    out.map(({ frame }) => frame.byteOffset - chunk.byteOffset),
    [0, 8, 23],
  );
  chunk[7] = 0xee;
  assert.equal(out[0]!.frame[7], 0xee);
});

test('decodes a stream split in two at every byte position', () => {
  const { stream, expected } = sampleStream();

  for (let at = 0; at <= stream.length; at++) {
    const { push, out, decoder } = makeDecoder();
    push(Buffer.from(stream.subarray(0, at)), Buffer.from(stream.subarray(at)));

    assert.deepEqual(out, expected, `split at ${at}`);
    assert.equal(decoder.midMessage, false, `split at ${at}`);
  }
});

test('decodes a stream split in three at every pair of byte positions', () => {
  const { stream, expected } = sampleStream();

  for (let first = 0; first <= stream.length; first++) {
    for (let second = first; second <= stream.length; second++) {
      const { push, out } = makeDecoder();
      push(
        Buffer.from(stream.subarray(0, first)),
        Buffer.from(stream.subarray(first, second)),
        Buffer.from(stream.subarray(second)),
      );

      assert.deepEqual(out, expected, `split at ${first} and ${second}`);
    }
  }
});

test('decodes a stream fed one byte at a time', () => {
  const { stream, expected } = sampleStream();
  const { push, out } = makeDecoder();

  for (const byte of stream) push(Buffer.from([byte]));

  assert.deepEqual(out, expected);
});

test('hands on empty messages as bare 5-byte frames', () => {
  const { push, out } = makeDecoder();

  push(Buffer.from([0, 0, 0, 0, 0, 1, 0, 0, 0, 0]));

  assert.deepEqual(out, [
    { frame: Buffer.from([0, 0, 0, 0, 0]), compressed: false },
    { frame: Buffer.from([1, 0, 0, 0, 0]), compressed: true },
  ]);
});

test('reports the compressed flag of each message', () => {
  const { push, out } = makeDecoder();

  push(Buffer.concat([encodeGrpcFrame(payload(2, 1), true), encodeGrpcFrame(payload(2, 2))]));

  assert.deepEqual(
    out.map(({ compressed }) => compressed),
    [true, false],
  );
});

test('rejects a flag byte of 2 as a malformed message', () => {
  const { push, out } = makeDecoder();
  const frame = encodeGrpcFrame(payload(4, 1));
  frame[0] = 2;

  const error = proxyErrorOf(() => push(frame));

  assert.equal(error.code, 'ERR_MALFORMED_MESSAGE');
  assert.equal(error.message, 'gRPC message flag 2 is neither 0 nor 1');
  assert.deepEqual(out, []);
});

test('rejects a flag byte of 2 that completes a prefix split across chunks', () => {
  const { push } = makeDecoder();
  push(encodeGrpcFrame(payload(2, 1)));
  push(Buffer.from([2, 0]));

  const error = proxyErrorOf(() => push(Buffer.from([0, 0, 1, 9])));

  assert.equal(error.code, 'ERR_MALFORMED_MESSAGE');
});

test('rejects a length over the limit from the prefix alone', () => {
  const { push, out } = makeDecoder(100);
  const prefix = Buffer.from([0, 0, 0, 0, 101]);

  const error = proxyErrorOf(() => push(prefix));

  assert.equal(error.code, 'ERR_MESSAGE_TOO_LARGE');
  assert.equal(error.message, 'message of 101 bytes exceeds the limit of 100 bytes');
  assert.deepEqual(out, []);
});

test('rejects a length over the limit once a split prefix is complete', () => {
  const { push } = makeDecoder(100);
  push(Buffer.from([0, 0xff]));

  const error = proxyErrorOf(() => push(Buffer.from([0xff, 0xff, 0xff])));

  assert.equal(error.code, 'ERR_MESSAGE_TOO_LARGE');
  assert.equal(error.message, 'message of 4294967295 bytes exceeds the limit of 100 bytes');
});

test('accepts a message of exactly the limit', () => {
  const { push, out } = makeDecoder(100);
  const frame = encodeGrpcFrame(payload(100, 5));

  push(frame.subarray(0, 50), frame.subarray(50));

  assert.deepEqual(out, [{ frame, compressed: false }]);
});

test('reports midMessage between the chunks of a split message', () => {
  const { push, decoder, out } = makeDecoder();
  const frame = encodeGrpcFrame(payload(20, 1));
  assert.equal(decoder.midMessage, false);

  push(frame.subarray(0, 3));
  assert.equal(decoder.midMessage, true);
  push(frame.subarray(3, 12));
  assert.equal(decoder.midMessage, true);
  push(frame.subarray(12));

  assert.equal(decoder.midMessage, false);
  assert.deepEqual(out, [{ frame, compressed: false }]);
});

test('is not mid-message after whole messages and an empty chunk', () => {
  const { push, decoder } = makeDecoder();

  push(encodeGrpcFrame(payload(3, 1)), Buffer.alloc(0));

  assert.equal(decoder.midMessage, false);
});

test('copies a split message once into a buffer of its exact size', () => {
  const { push, out } = makeDecoder();
  const frame = encodeGrpcFrame(payload(40, 9));
  const first = Buffer.from(frame.subarray(0, 20));
  const second = Buffer.from(frame.subarray(20));

  push(first, second);

  assert.equal(out[0]!.frame.length, 45);
  first.fill(0);
  second.fill(0);
  assert.deepEqual(out[0]!.frame, frame);
});

test('frames a payload with the flag and a big-endian length', () => {
  assert.deepEqual(
    encodeGrpcFrame(Buffer.from('hi'), true),
    Buffer.from([1, 0, 0, 0, 2, 0x68, 0x69]),
  );
  assert.deepEqual(encodeGrpcFrame(Buffer.alloc(0)), Buffer.from([0, 0, 0, 0, 0]));
  assert.deepEqual(encodeGrpcFrame(Buffer.alloc(258)).subarray(0, 5), Buffer.from([0, 0, 0, 1, 2]));
});
