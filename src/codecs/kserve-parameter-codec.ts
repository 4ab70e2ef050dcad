// Reads KServe `map<string, InferParameter>` entries straight from the wire.

import type { InferParameterValue } from './kserve-infer-facts';
import { type ProtobufWireReader, WireType } from './protobuf-wire-reader';

/** A parameter map under construction; see `InferParameters` for why it has no prototype. */
export type ParameterMap = Record<string, InferParameterValue>;

/** Creates an empty, null-prototype parameter map. */
export function createParameterMap(): ParameterMap {
  return Object.create(null) as ParameterMap;
}

/**
 * Reads one map entry (key = 1, value = 2: protobuf's map encoding) at the cursor into `into`
 * and returns its key. A later entry with the same key replaces the earlier one, as protobuf
 * parsers do. Throws `ProxyError` `ERR_MALFORMED_MESSAGE` on broken framing or a non-UTF-8 key.
 */
export function readParameterEntry(reader: ProtobufWireReader, into: ParameterMap): string {
  const outer = reader.enterMessage();
  let key = '';
  let value: InferParameterValue = null;
  while (reader.hasMore()) {
    const fieldNumber = reader.readTag();
    const delimited = reader.wireType === WireType.LEN;
    if (delimited && fieldNumber === 1) key = readKey(reader);
    else if (delimited && fieldNumber === 2) value = readParameterValue(reader, value);
    else reader.skipField();
  }
  reader.exitMessage(outer);

  into[key] = value;
  return key;
}

/**
 * Reads an `InferParameter` submessage, merged over `current` (a repeated submessage field is
 * merged by protobuf): the last oneof member on the wire wins.
 */
function readParameterValue(
  reader: ProtobufWireReader,
  current: InferParameterValue,
): InferParameterValue {
  const outer = reader.enterMessage();
  let value = current;
  while (reader.hasMore()) {
    reader.readTag();
    value = readParameterChoice(reader, value);
  }
  reader.exitMessage(outer);
  return value;
}

// InferParameter oneof (protos/kserve/grpc_service.proto): bool 1, int64 2, string 3, double 4,
// uint64 5. A member with an unexpected wire type is unknown to protobuf and leaves the value
// unchanged.
function readParameterChoice(
  reader: ProtobufWireReader,
  current: InferParameterValue,
): InferParameterValue {
  const { fieldNumber, wireType } = reader;
  if (fieldNumber === 1 && wireType === WireType.VARINT) return reader.readBool();
  if (fieldNumber === 2 && wireType === WireType.VARINT) return reader.readInt64();
  if (fieldNumber === 3 && wireType === WireType.LEN) return reader.readString();
  if (fieldNumber === 4 && wireType === WireType.FIXED64) return reader.readDouble();
  if (fieldNumber === 5 && wireType === WireType.VARINT) return reader.readUint64();
  reader.skipField();
  return current;
}

/**
 * Parameter names seen lately, as wire bytes and the string read from them. A decoded string
 * is new to V8 each time, and storing a new string as a key of a null-prototype map costs
 * about 0.7 µs (V8 must look it up in its string table) against 0.03 µs for a string it has
 * seen as a key; a stream repeats the same few names (`triton_final_response`) in every
 * response, so reusing the string keeps that cost off the stream's hot path.
 */
const KNOWN_KEYS: { bytes: Buffer; key: string }[] = [];
const MAX_KNOWN_KEYS = 16;
let nextKnownKey = 0;

/** Reads a map key at the cursor, reusing a string read before from the same bytes. */
function readKey(reader: ProtobufWireReader): string {
  const start = reader.pos;
  reader.readDelimited();
  const { buf, valueStart, valueEnd } = reader;
  const length = valueEnd - valueStart;
  for (const known of KNOWN_KEYS) {
    if (known.bytes.length !== length) continue;
    if (buf.compare(known.bytes, 0, length, valueStart, valueEnd) === 0) return known.key;
  }
  reader.pos = start;
  const key = reader.readString();
  KNOWN_KEYS[nextKnownKey] = { bytes: Buffer.from(buf.subarray(valueStart, valueEnd)), key };
  nextKnownKey = (nextKnownKey + 1) % MAX_KNOWN_KEYS;
  return key;
}
