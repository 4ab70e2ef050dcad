// A zero-copy cursor over the protobuf wire format, reading straight from a Buffer range.

import { isUtf8 } from 'node:buffer';

import { ProxyError } from '../errors/proxy-error';

/** Protobuf wire types (protobuf encoding guide, "Message Structure"). */
export const WireType = {
  VARINT: 0,
  FIXED64: 1,
  LEN: 2,
  START_GROUP: 3,
  END_GROUP: 4,
  FIXED32: 5,
} as const;

/** A wire type the reader accepts; groups (3, 4) are deprecated and rejected. */
export type ScalarWireType = 0 | 1 | 2 | 5;

const TWO_POW_32 = 4294967296;
const MAX_UINT32 = 0xffffffff;
const MAX_VARINT_BYTES = 10;
const MAX_VARINT32_BYTES = 5;

/** Builds the one error every framing fault raises; messages name offsets, never payload bytes. */
export function malformed(message: string): ProxyError {
  return new ProxyError('ERR_MALFORMED_MESSAGE', message);
}

/**
 * A cursor over `buf[start, end)`. Every read checks bounds against the current limit and
 * throws `ProxyError` `ERR_MALFORMED_MESSAGE` on truncation, a length past the limit, field
 * number 0, or a wire type other than 0, 1, 2 and 5. Nothing is sliced or copied: values that
 * are byte ranges come back as offsets in `valueStart` / `valueEnd`.
 *
 * int64 handling: `readInt64` / `readUint64` return a `number` when the value is a safe integer
 * and a `bigint` otherwise, so no value is ever rounded; `readSafeInt64` throws instead, for
 * fields (tensor shapes) where a value past 2^53 can only be hostile.
 *
 * A known field read with an unexpected wire type is skipped as unknown, as protobuf's C++
 * parser does (the upstream parses with it, so the gateway must see what the upstream sees).
 */
export class ProtobufWireReader {
  /** Offset of the next byte to read. */
  pos: number;
  /** Exclusive limit of the message being walked (moved by `enterMessage`). */
  end: number;
  /** Field number of the last tag read. */
  fieldNumber = 0;
  /** Wire type of the last tag read. */
  wireType: ScalarWireType = 0;
  /** Start of the last length-delimited value read by `readDelimited`. */
  valueStart = 0;
  /** Exclusive end of the last length-delimited value read by `readDelimited`. */
  valueEnd = 0;
  private lo = 0;
  private hi = 0;

  constructor(
    readonly buf: Buffer,
    start = 0,
    end = buf.length,
  ) {
    if (!(start >= 0 && start <= end && end <= buf.length)) {
      throw new RangeError(
        `reader range [${start}, ${end}) is outside a ${buf.length}-byte buffer`,
      );
    }
    this.pos = start;
    this.end = end;
  }

  /** True while bytes remain before the current limit. */
  hasMore(): boolean {
    return this.pos < this.end;
  }

  /** Reads a tag into `fieldNumber` / `wireType` and returns the field number. */
  readTag(): number {
    const at = this.pos;
    const tag = this.readVarint32();
    const fieldNumber = tag >>> 3;
    const wireType = tag & 7;
    if (fieldNumber === 0) throw malformed(`field number 0 in the tag at byte ${at}`);
    if (wireType > 5 || wireType === 3 || wireType === 4) {
      throw malformed(`unsupported wire type ${wireType} in the tag at byte ${at}`);
    }
    this.fieldNumber = fieldNumber;
    this.wireType = wireType as ScalarWireType;
    return fieldNumber;
  }

  /** Reads a varint that must fit 32 bits unsigned in at most 5 bytes (tags, lengths). */
  readVarint32(): number {
    const pos = this.pos;
    if (pos < this.end && this.buf[pos] < 0x80) {
      this.pos = pos + 1;
      return this.buf[pos];
    }
    return this.readVarint32Slow();
  }

  private readVarint32Slow(): number {
    const at = this.pos;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT32_BYTES; i++) {
      const byte = this.nextVarintByte(at);
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (result > MAX_UINT32) throw malformed(`varint at byte ${at} overflows 32 bits`);
        return result;
      }
      scale *= 128;
    }
    throw malformed(`varint at byte ${at} is longer than 5 bytes`);
  }

  private nextVarintByte(at: number): number {
    if (this.pos >= this.end) throw malformed(`truncated varint at byte ${at}`);
    return this.buf[this.pos++];
  }

  /**
   * Reads a varint of up to 10 bytes into the 32-bit halves `lo` / `hi`. Bits past 64 in the
   * tenth byte are dropped, as protobuf's C++ parser drops them.
   */
  private readVarint64(): void {
    const pos = this.pos;
    if (pos < this.end && this.buf[pos] < 0x80) {
      this.lo = this.buf[pos];
      this.hi = 0;
      this.pos = pos + 1;
      return;
    }
    this.readVarint64Slow();
  }

  private readVarint64Slow(): void {
    const at = this.pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const bits = this.nextVarintByte(at);
      if (i < 4) lo |= (bits & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (bits & 0x7f) << 28;
        hi = (bits & 0x7f) >>> 4;
      } else hi |= (bits & 0x7f) << (7 * i - 32);
      if (bits < 0x80) {
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
    }
    throw malformed(`varint at byte ${at} is longer than 10 bytes`);
  }

  /** Reads an int64 varint: a number when safe, else a bigint (never rounded). */
  readInt64(): number | bigint {
    this.readVarint64();
    const value = (this.hi | 0) * TWO_POW_32 + this.lo;
    if (Number.isSafeInteger(value)) return value;
    return BigInt.asIntN(64, (BigInt(this.hi) << 32n) | BigInt(this.lo));
  }

  /** Reads a uint64 varint: a number when safe, else a bigint (never rounded). */
  readUint64(): number | bigint {
    this.readVarint64();
    const value = this.hi * TWO_POW_32 + this.lo;
    if (Number.isSafeInteger(value)) return value;
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  /** Reads an int64 varint that must be a safe integer; `what` names the field in the error. */
  readSafeInt64(what: string): number {
    const at = this.pos;
    const value = this.readInt64();
    if (typeof value === 'bigint') {
      throw malformed(`${what} at byte ${at} is outside the safe integer range`);
    }
    return value;
  }

  /** Reads an int32 / enum varint, truncating to 32 bits as protobuf does. */
  readInt32(): number {
    this.readVarint64();
    return this.lo | 0;
  }

  /** Reads a uint32 varint, truncating to 32 bits as protobuf does. */
  readUint32(): number {
    this.readVarint64();
    return this.lo;
  }

  /** Reads a bool varint: any non-zero value is true. */
  readBool(): boolean {
    this.readVarint64();
    return (this.lo | this.hi) !== 0;
  }

  /** Reads a little-endian IEEE 754 double (wire type 1). */
  readDouble(): number {
    const at = this.takeFixed(8);
    return this.buf.readDoubleLE(at);
  }

  /** Reads a little-endian IEEE 754 float (wire type 5). */
  readFloat(): number {
    const at = this.takeFixed(4);
    return this.buf.readFloatLE(at);
  }

  /** Reads a fixed32 (wire type 5) as an unsigned number. */
  readFixed32(): number {
    const at = this.takeFixed(4);
    return this.buf.readUInt32LE(at);
  }

  /** Reads a fixed64 (wire type 1) as an unsigned number when safe, else a bigint. */
  readFixed64(): number | bigint {
    const at = this.takeFixed(8);
    const value = this.buf.readUInt32LE(at + 4) * TWO_POW_32 + this.buf.readUInt32LE(at);
    return Number.isSafeInteger(value) ? value : this.buf.readBigUInt64LE(at);
  }

  private takeFixed(size: number): number {
    const at = this.pos;
    if (this.end - at < size) throw malformed(`truncated ${size * 8}-bit value at byte ${at}`);
    this.pos = at + size;
    return at;
  }

  /** Reads a length prefix, sets `valueStart` / `valueEnd` to the value's range and skips it. */
  readDelimited(): void {
    const at = this.pos;
    const length = this.readVarint32();
    if (length > this.end - this.pos) {
      throw malformed(`length ${length} at byte ${at} runs past the end of its message`);
    }
    this.valueStart = this.pos;
    this.valueEnd = this.pos + length;
    this.pos = this.valueEnd;
  }

  /** Reads a length-delimited string; proto3 requires valid UTF-8, so anything else throws. */
  readString(): string {
    this.readDelimited();
    const { buf, valueStart, valueEnd } = this;
    if (!isUtf8Range(buf, valueStart, valueEnd)) {
      throw malformed(`string field ${this.fieldNumber} at byte ${valueStart} is not valid UTF-8`);
    }
    return buf.toString('utf8', valueStart, valueEnd);
  }

  /**
   * Enters the length-delimited submessage at the cursor: the limit becomes its end. Returns
   * the previous limit, which the caller hands to `exitMessage` after walking the submessage.
   */
  enterMessage(): number {
    this.readDelimited();
    const outer = this.end;
    this.pos = this.valueStart;
    this.end = this.valueEnd;
    return outer;
  }

  /** Leaves a submessage entered by `enterMessage`, skipping whatever was not read of it. */
  exitMessage(outerEnd: number): void {
    this.pos = this.end;
    this.end = outerEnd;
  }

  /** Skips the value of the last tag read, checking its framing. */
  skipField(): void {
    switch (this.wireType) {
      case WireType.VARINT:
        this.readVarint64();
        return;
      case WireType.FIXED64:
        this.takeFixed(8);
        return;
      case WireType.LEN:
        this.readDelimited();
        return;
      case WireType.FIXED32:
        this.takeFixed(4);
        return;
    }
  }

  /**
   * Reads one occurrence of a repeated scalar field into `into`, accepting both encodings
   * protobuf requires parsers to accept: one unpacked value (wire type `scalarWireType`) or a
   * packed run (wire type 2). Any other wire type is skipped as an unknown field.
   */
  readRepeated<T>(
    into: T[],
    scalarWireType: ScalarWireType,
    readOne: (reader: ProtobufWireReader) => T,
  ): void {
    if (this.wireType === scalarWireType) {
      into.push(readOne(this));
      return;
    }
    if (this.wireType !== WireType.LEN) {
      this.skipField();
      return;
    }
    const outer = this.enterMessage();
    while (this.pos < this.end) into.push(readOne(this));
    this.exitMessage(outer);
  }
}

/**
 * True when `buf[start, end)` is valid UTF-8. ASCII (every model name in practice) is checked
 * here without allocating; anything else goes to the native validator through a view.
 */
export function isUtf8Range(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    if (buf[i] >= 0x80) return isUtf8(buf.subarray(i, end));
  }
  return true;
}

/**
 * Walks every top-level field of `buf[start, end)` and checks its framing: tags, varint
 * lengths, fixed widths and length prefixes. Throws `ProxyError` `ERR_MALFORMED_MESSAGE` on the
 * first fault. Length-delimited values are not descended into: the wire does not say which of
 * them are submessages.
 */
export function assertWellFormed(buf: Buffer, start = 0, end = buf.length): void {
  const reader = new ProtobufWireReader(buf, start, end);
  while (reader.hasMore()) {
    reader.readTag();
    reader.skipField();
  }
}
