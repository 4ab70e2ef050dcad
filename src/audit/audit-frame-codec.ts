// Encodes and decodes audit frames (`protos/audit.proto`) and their length-delimited form.

import path from 'node:path';
import protobuf from 'protobufjs';
import { PROTOS_DIR } from '../protos-dir';
import type { AuditEventBodies, AuditEventKind, AuditFrame, FrameHeader } from './audit-events';

const root = protobuf.loadSync(path.join(PROTOS_DIR, 'audit.proto'));

/** The message types of `infergate.audit.v1`. */
export const AUDIT_TYPES = Object.freeze({
  Frame: root.lookupType('infergate.audit.v1.Frame'),
  CheckpointStatement: root.lookupType('infergate.audit.v1.CheckpointStatement'),
  KeyRotationStatement: root.lookupType('infergate.audit.v1.KeyRotationStatement'),
});

const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, oneofs: true, arrays: false };

/** A frame read back: its header, which event it holds, and that event. */
export type DecodedFrame = {
  [K in AuditEventKind]: FrameHeader & { readonly kind: K; readonly body: AuditEventBodies[K] };
}[AuditEventKind];

/** Encodes a frame; its bytes are what the chain hashes and what a segment stores. */
export function encodeFrame(frame: AuditFrame): Buffer {
  return asBuffer(AUDIT_TYPES.Frame.encode(frame as object).finish());
}

/**
 * Decodes one frame's bytes. Throws on bytes that are not a frame (truncated fields, a wrong
 * wire type) or a frame with no event; unknown fields are ignored, as protobuf readers do.
 */
export function decodeFrame(bytes: Uint8Array): DecodedFrame {
  const message = AUDIT_TYPES.Frame.decode(bytes);
  const object = AUDIT_TYPES.Frame.toObject(message, TO_OBJECT) as Record<string, unknown>;
  const kind = object.event as AuditEventKind | undefined;
  if (kind === undefined) throw new Error('audit frame carries no event');
  return {
    logId: (object.logId as string | undefined) ?? '',
    sequence: (object.sequence as number | undefined) ?? 0,
    timeUnixMicros: (object.timeUnixMicros as number | undefined) ?? 0,
    previousHash: asBuffer((object.previousHash as Uint8Array | undefined) ?? new Uint8Array()),
    kind,
    body: object[kind],
  } as DecodedFrame;
}

/** Encodes a message of one of the statement types; signatures cover these bytes. */
export function encodeStatement(type: protobuf.Type, statement: object): Buffer {
  return asBuffer(type.encode(statement).finish());
}

/** Prefixes `frame` with its length as a varint: the record format of a segment file. */
export function delimit(frame: Buffer): Buffer {
  const prefix = varint(frame.length);
  return Buffer.concat([prefix, frame], prefix.length + frame.length);
}

/** The result of reading one delimited record at an offset. */
export type DelimitedRead =
  | { readonly kind: 'frame'; readonly bytes: Buffer; readonly next: number }
  /** The bytes end inside the length prefix or inside the frame it announces. */
  | { readonly kind: 'torn' }
  /** The length prefix is not a varint, or announces more than `maxFrameBytes`. */
  | { readonly kind: 'corrupt'; readonly reason: string };

/** Reads the delimited record at `offset` of `data`, without copying the frame. */
export function readDelimited(data: Buffer, offset: number, maxFrameBytes: number): DelimitedRead {
  let length = 0;
  let shift = 0;
  let pos = offset;
  for (;;) {
    if (pos >= data.length) return { kind: 'torn' };
    const byte = data[pos++]!;
    length += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) break;
    shift += 7;
    if (shift > 35) return { kind: 'corrupt', reason: 'length prefix longer than 5 bytes' };
  }
  if (length > maxFrameBytes) {
    return { kind: 'corrupt', reason: `length prefix announces ${length} bytes` };
  }
  if (pos + length > data.length) return { kind: 'torn' };
  return { kind: 'frame', bytes: data.subarray(pos, pos + length), next: pos + length };
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}
