// Unit tests for the protobuf wire reader: wire types, varint edges, bounds and framing faults.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  assertWellFormed,
  isUtf8Range,
  ProtobufWireReader,
  WireType,
} from '../../src/codecs/protobuf-wire-reader';
import { encodeMessage } from '../../src/codecs/protobuf-wire-writer';
import { assertProxyError } from '../fixtures/proxy-errors';

function readerOf(bytes: readonly number[]): ProtobufWireReader {
  return new ProtobufWireReader(Buffer.from(bytes));
}

function assertMalformed(fn: () => unknown, pattern: RegExp): void {
  assertProxyError(fn, 'ERR_MALFORMED_MESSAGE', pattern);
}

describe('tags', () => {
  test('reads field number and wire type of every accepted wire type', () => {
    for (const wireType of [0, 1, 2, 5]) {
      const reader = readerOf([(7 << 3) | wireType]);
      assert.equal(reader.readTag(), 7);
      assert.equal(reader.wireType, wireType);
    }
  });

  test('reads the largest field number', () => {
    const reader = readerOf([0xf8, 0xff, 0xff, 0xff, 0x0f]);
    assert.equal(reader.readTag(), 536870911);
    assert.equal(reader.wireType, WireType.VARINT);
  });

  test('rejects field number 0', () => {
    assertMalformed(() => readerOf([0x02]).readTag(), /field number 0/);
  });

  test('rejects group and undefined wire types', () => {
    for (const wireType of [3, 4, 6, 7]) {
      assertMalformed(() => readerOf([(1 << 3) | wireType]).readTag(), /unsupported wire type/);
    }
  });

  test('rejects a truncated tag and a tag past 32 bits', () => {
    assertMalformed(() => readerOf([0x88]).readTag(), /truncated varint/);
    assertMalformed(() => readerOf([0x88, 0x80, 0x80, 0x80, 0x10]).readTag(), /overflows 32/);
    assertMalformed(() => readerOf([0x88, 0x80, 0x80, 0x80, 0x80, 0x00]).readTag(), /5 bytes/);
  });
});

describe('varints', () => {
  test('reads small and multi-byte values', () => {
    assert.equal(readerOf([0x00]).readUint64(), 0);
    assert.equal(readerOf([0x7f]).readUint64(), 127);
    assert.equal(readerOf([0x80, 0x01]).readUint64(), 128);
    assert.equal(readerOf([0xac, 0x02]).readUint64(), 300);
    assert.equal(readerOf([0xff, 0xff, 0xff, 0xff, 0x0f]).readUint64(), 0xffffffff);
  });

  test('accepts a non-canonical encoding with redundant continuation bytes', () => {
    assert.equal(readerOf([0x81, 0x80, 0x80, 0x00]).readUint64(), 1);
  });

  test('returns a number up to 2^53 - 1 and a bigint past it', () => {
    const safe = encodeMessage([[1, BigInt(Number.MAX_SAFE_INTEGER)]]).subarray(1);
    const unsafe = encodeMessage([[1, 2n ** 53n]]).subarray(1);
    assert.equal(new ProtobufWireReader(safe).readInt64(), Number.MAX_SAFE_INTEGER);
    assert.equal(new ProtobufWireReader(unsafe).readInt64(), 2n ** 53n);
    assert.equal(new ProtobufWireReader(unsafe).readUint64(), 2n ** 53n);
  });

  test('reads a 10-byte negative int64 as a number and its uint64 reading as a bigint', () => {
    const minusOne = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
    assert.equal(readerOf(minusOne).readInt64(), -1);
    assert.equal(readerOf(minusOne).readUint64(), 2n ** 64n - 1n);
    assert.equal(readerOf(minusOne).readInt32(), -1);
    assert.equal(readerOf(minusOne).readUint32(), 0xffffffff);
  });

  test('reads the int64 extremes as bigints', () => {
    const min = encodeMessage([[1, -(2n ** 63n)]]).subarray(1);
    const max = encodeMessage([[1, 2n ** 63n - 1n]]).subarray(1);
    assert.equal(new ProtobufWireReader(min).readInt64(), -(2n ** 63n));
    assert.equal(new ProtobufWireReader(max).readInt64(), 2n ** 63n - 1n);
    assert.equal(
      new ProtobufWireReader(encodeMessage([[1, -(2 ** 53 - 1)]]).subarray(1)).readInt64(),
      -(2 ** 53 - 1),
    );
  });

  test('drops bits past 64 in the tenth byte, as protobuf does', () => {
    const reader = readerOf([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7e]);
    assert.equal(reader.readUint64(), 0);
  });

  test('rejects a varint longer than 10 bytes and a truncated one', () => {
    assertMalformed(
      () => readerOf(new Array<number>(10).fill(0x80).concat(0)).readUint64(),
      /10 bytes/,
    );
    assertMalformed(() => readerOf([0x80, 0x80]).readInt64(), /truncated varint at byte 0/);
    assertMalformed(() => readerOf([]).readBool(), /truncated varint/);
  });

  test('readSafeInt64 throws on a value past 2^53', () => {
    const unsafe = encodeMessage([[1, 2n ** 60n]]).subarray(1);
    assertMalformed(() => new ProtobufWireReader(unsafe).readSafeInt64('dim'), /dim at byte 0/);
  });

  test('reads bools: any non-zero value is true', () => {
    assert.equal(readerOf([0x00]).readBool(), false);
    assert.equal(readerOf([0x02]).readBool(), true);
    assert.equal(readerOf([0x80, 0x80, 0x80, 0x80, 0x10]).readBool(), true);
  });
});

describe('fixed-width values', () => {
  test('reads doubles, floats, fixed32 and fixed64', () => {
    const buf = Buffer.alloc(24);
    buf.writeDoubleLE(-1.5, 0);
    buf.writeFloatLE(0.25, 8);
    buf.writeUInt32LE(0xdeadbeef, 12);
    buf.writeBigUInt64LE(2n ** 64n - 2n, 16);
    const reader = new ProtobufWireReader(buf);
    assert.equal(reader.readDouble(), -1.5);
    assert.equal(reader.readFloat(), 0.25);
    assert.equal(reader.readFixed32(), 0xdeadbeef);
    assert.equal(reader.readFixed64(), 2n ** 64n - 2n);
    assert.equal(reader.hasMore(), false);
  });

  test('rejects truncated fixed-width values', () => {
    assertMalformed(() => readerOf([1, 2, 3, 4, 5, 6, 7]).readDouble(), /truncated 64-bit/);
    assertMalformed(() => readerOf([1, 2, 3]).readFixed32(), /truncated 32-bit/);
  });
});

describe('length-delimited values', () => {
  test('returns the value range as offsets without slicing', () => {
    const reader = readerOf([0x0a, 0x03, 0x61, 0x62, 0x63, 0x10, 0x01]);
    reader.readTag();
    reader.readDelimited();
    assert.deepEqual([reader.valueStart, reader.valueEnd, reader.pos], [2, 5, 5]);
  });

  test('rejects a length past the end of the message', () => {
    assertMalformed(() => readerOf([0x04, 0x61, 0x62]).readDelimited(), /length 4 at byte 0/);
  });

  test('bounds reads by the range it was given, not by the buffer', () => {
    const buf = Buffer.from([0x0a, 0x05, 0x61, 0x62, 0x63, 0x64, 0x65]);
    const reader = new ProtobufWireReader(buf, 0, 4);
    reader.readTag();
    assertMalformed(() => reader.readDelimited(), /runs past the end/);
  });

  test('rejects a range outside the buffer', () => {
    assert.throws(() => new ProtobufWireReader(Buffer.alloc(2), 1, 3), RangeError);
    assert.throws(() => new ProtobufWireReader(Buffer.alloc(2), 2, 1), RangeError);
  });

  test('enters and leaves submessages, limiting reads to them', () => {
    const buf = encodeMessage([
      [1, [[2, 'in']]],
      [3, 7],
    ]);
    const reader = new ProtobufWireReader(buf);
    reader.readTag();
    const outer = reader.enterMessage();
    assert.equal(reader.readTag(), 2);
    assert.equal(reader.readString(), 'in');
    assert.equal(reader.hasMore(), false);
    reader.exitMessage(outer);
    assert.equal(reader.readTag(), 3);
    assert.equal(reader.readUint32(), 7);
  });

  test('leaving a submessage early skips the rest of it', () => {
    const buf = encodeMessage([
      [
        1,
        [
          [2, 'a'],
          [3, 'b'],
        ],
      ],
      [4, true],
    ]);
    const reader = new ProtobufWireReader(buf);
    reader.readTag();
    reader.exitMessage(reader.enterMessage());
    assert.equal(reader.readTag(), 4);
  });

  test('reads valid UTF-8 strings, ASCII or not', () => {
    const buf = encodeMessage([[1, 'modèle-✓-😀']]);
    const reader = new ProtobufWireReader(buf);
    reader.readTag();
    assert.equal(reader.readString(), 'modèle-✓-😀');
  });

  test('rejects strings that are not UTF-8', () => {
    for (const bytes of [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0x61, 0xe2, 0x82]]) {
      const buf = encodeMessage([[1, Buffer.from(bytes)]]);
      const reader = new ProtobufWireReader(buf);
      reader.readTag();
      assertMalformed(() => reader.readString(), /string field 1 at byte 2 is not valid UTF-8/);
    }
  });

  test('isUtf8Range checks only the given range', () => {
    const buf = Buffer.from([0x61, 0xff, 0x62]);
    assert.equal(isUtf8Range(buf, 0, 1), true);
    assert.equal(isUtf8Range(buf, 0, 3), false);
    assert.equal(isUtf8Range(buf, 2, 3), true);
  });
});

describe('skipping fields', () => {
  test('skips a value of every wire type', () => {
    const buf = Buffer.concat([
      Buffer.from([0x08, 0x96, 0x01]),
      Buffer.from([0x11, 1, 2, 3, 4, 5, 6, 7, 8]),
      Buffer.from([0x1a, 0x02, 0x68, 0x69]),
      Buffer.from([0x25, 1, 2, 3, 4]),
      Buffer.from([0x28, 0x01]),
    ]);
    const reader = new ProtobufWireReader(buf);
    for (let i = 0; i < 4; i++) {
      reader.readTag();
      reader.skipField();
    }
    assert.equal(reader.readTag(), 5);
    assert.equal(reader.readBool(), true);
  });

  test('rejects a skipped value that is truncated', () => {
    for (const bytes of [
      [0x08, 0x80],
      [0x11, 1, 2],
      [0x1a, 0x05, 0x68],
      [0x25, 1],
    ]) {
      const reader = readerOf(bytes);
      reader.readTag();
      assertMalformed(() => reader.skipField(), /truncated|runs past/);
    }
  });
});

describe('repeated scalars', () => {
  const readDim = (reader: ProtobufWireReader): number => reader.readSafeInt64('dim');

  test('accepts packed and unpacked encodings, mixed in one field', () => {
    const packed = encodeMessage([[3, Buffer.from([0x01, 0xac, 0x02])]]);
    const unpacked = encodeMessage([
      [3, -1],
      [3, 4],
    ]);
    const reader = new ProtobufWireReader(Buffer.concat([packed, unpacked]));
    const dims: number[] = [];
    while (reader.hasMore()) {
      reader.readTag();
      reader.readRepeated(dims, WireType.VARINT, readDim);
    }
    assert.deepEqual(dims, [1, 300, -1, 4]);
  });

  test('reads packed fixed-width values', () => {
    const body = Buffer.alloc(8);
    body.writeFloatLE(1.5, 0);
    body.writeFloatLE(-2, 4);
    const reader = new ProtobufWireReader(encodeMessage([[6, body]]));
    const values: number[] = [];
    reader.readTag();
    reader.readRepeated(values, WireType.FIXED32, (r) => r.readFloat());
    assert.deepEqual(values, [1.5, -2]);
  });

  test('skips an occurrence with another wire type as unknown', () => {
    const reader = readerOf([0x1d, 1, 2, 3, 4]);
    const dims: number[] = [];
    reader.readTag();
    reader.readRepeated(dims, WireType.VARINT, readDim);
    assert.deepEqual(dims, []);
    assert.equal(reader.hasMore(), false);
  });

  test('rejects a packed run whose last value is truncated', () => {
    const reader = new ProtobufWireReader(encodeMessage([[3, Buffer.from([0x01, 0x80])]]));
    reader.readTag();
    assertMalformed(() => reader.readRepeated([], WireType.VARINT, readDim), /truncated varint/);
  });
});

describe('assertWellFormed', () => {
  test('accepts a message with every wire type and an empty one', () => {
    const buf = Buffer.concat([
      encodeMessage([
        [1, 'a'],
        [2, 5],
        [3, [[1, true]]],
      ]),
      Buffer.from([0x21, 1, 2, 3, 4, 5, 6, 7, 8, 0x2d, 1, 2, 3, 4]),
    ]);
    assert.doesNotThrow(() => assertWellFormed(buf));
    assert.doesNotThrow(() => assertWellFormed(Buffer.alloc(0)));
  });

  test('rejects truncations at every byte of a valid message', () => {
    const buf = encodeMessage([
      [1, 'model'],
      [2, 300],
      [7, Buffer.alloc(3)],
    ]);
    for (let end = 1; end < buf.length; end++) {
      if (end === 7 || end === 10) continue; // field boundaries: a shorter message is valid
      assertMalformed(() => assertWellFormed(buf.subarray(0, end)), /./);
    }
  });

  test('rejects groups', () => {
    assertMalformed(() => assertWellFormed(Buffer.from([0x0b, 0x0c])), /wire type 3/);
  });

  test('does not descend into length-delimited values', () => {
    assert.doesNotThrow(() => assertWellFormed(encodeMessage([[1, Buffer.from([0xff, 0xff])]])));
  });
});
