// A minimal protobuf encoder for the few messages infergate writes itself (local replies).

/**
 * A value the writer encodes: a string or bytes (wire type 2), an integer or bool (varint), or
 * a nested message (wire type 2).
 */
export type WireValue = string | Buffer | number | bigint | boolean | readonly WireField[];

/** One field to encode: its number and its value. */
export type WireField = readonly [fieldNumber: number, value: WireValue];

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const MAX_FIELD_NUMBER = 536870911;

/**
 * Encodes `fields` in the given order into a new Buffer. Numbers must be integers; negative
 * ones and bigints are written as 64-bit two's complement, as protobuf writes int64. Default
 * values are written as given: leave a field out to omit it, as proto3 encoders do.
 * Throws `RangeError` on a field number outside 1..2^29-1 or a non-integer number (caller bugs).
 */
export function encodeMessage(fields: readonly WireField[]): Buffer {
  const out = Buffer.alloc(messageSize(fields));
  writeFields(out, 0, fields);
  return out;
}

function messageSize(fields: readonly WireField[]): number {
  let size = 0;
  for (const [fieldNumber, value] of fields) {
    size += varintSize(tagOf(fieldNumber, value));
    const bodySize = valueSize(value);
    size += isDelimited(value) ? varintSize(BigInt(bodySize)) + bodySize : bodySize;
  }
  return size;
}

function valueSize(value: WireValue): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (Buffer.isBuffer(value)) return value.length;
  if (isNested(value)) return messageSize(value);
  return varintSize(toUint64(value));
}

function writeFields(out: Buffer, start: number, fields: readonly WireField[]): number {
  let pos = start;
  for (const [fieldNumber, value] of fields) {
    pos = writeVarint(out, pos, tagOf(fieldNumber, value));
    pos = writeValue(out, pos, value);
  }
  return pos;
}

function writeValue(out: Buffer, start: number, value: WireValue): number {
  if (!isDelimited(value)) return writeVarint(out, start, toUint64(value));
  const pos = writeVarint(out, start, BigInt(valueSize(value)));
  if (typeof value === 'string') return pos + out.write(value, pos, 'utf8');
  if (Buffer.isBuffer(value)) return pos + value.copy(out, pos);
  return writeFields(out, pos, value);
}

function isNested(value: WireValue): value is readonly WireField[] {
  return Array.isArray(value);
}

function isDelimited(value: WireValue): value is string | Buffer | readonly WireField[] {
  return typeof value === 'string' || Buffer.isBuffer(value) || isNested(value);
}

function tagOf(fieldNumber: number, value: WireValue): bigint {
  if (!Number.isInteger(fieldNumber) || fieldNumber < 1 || fieldNumber > MAX_FIELD_NUMBER) {
    throw new RangeError(`field number ${fieldNumber} is outside 1..${MAX_FIELD_NUMBER}`);
  }
  return BigInt(fieldNumber * 8 + (isDelimited(value) ? WIRE_LEN : WIRE_VARINT));
}

function toUint64(value: number | bigint | boolean): bigint {
  if (typeof value === 'boolean') return value ? 1n : 0n;
  return BigInt.asUintN(64, BigInt(value));
}

function varintSize(value: bigint): number {
  let size = 1;
  for (let rest = value >> 7n; rest > 0n; rest >>= 7n) size++;
  return size;
}

function writeVarint(out: Buffer, start: number, value: bigint): number {
  let pos = start;
  let rest = value;
  while (rest >= 0x80n) {
    out[pos++] = Number(rest & 0x7fn) | 0x80;
    rest >>= 7n;
  }
  out[pos++] = Number(rest);
  return pos;
}

/** The identity of the request an in-stream error answers, echoed so the client can correlate. */
export interface StreamErrorFacts {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly id: string;
}

/**
 * Encodes a `ModelStreamInferResponse` carrying an in-stream error (Triton decoupled models):
 * `error_message = 1` and `infer_response = 2` holding `ModelInferResponse { model_name = 1,
 * model_version = 2, id = 3 }`. Empty strings are omitted as proto3 omits defaults;
 * `infer_response` is always present so clients that read its `id` find one.
 */
export function encodeStreamInferError(message: string, facts: StreamErrorFacts): Buffer {
  const inferResponse: WireField[] = [];
  if (facts.modelName !== '') inferResponse.push([1, facts.modelName]);
  if (facts.modelVersion !== '') inferResponse.push([2, facts.modelVersion]);
  if (facts.id !== '') inferResponse.push([3, facts.id]);

  const fields: WireField[] = message === '' ? [] : [[1, message]];
  fields.push([2, inferResponse]);
  return encodeMessage(fields);
}
