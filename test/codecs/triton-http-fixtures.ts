// Builders of Triton HTTP infer bodies as clients and servers write them (KServe v2 REST API,
// §2.3), and readers of the spans the codecs report.

import { decodeJsonString } from '../../src/codecs/json-scalar-decoder';
import type { TritonTextSpan } from '../../src/codecs/triton-http-facts';

/** The wire bytes of a JSON body, as `JSON.stringify` writes it. */
export function jsonBody(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** BYTES elements in binary form (§1.3): each a 4-byte little-endian length, then its bytes. */
export function bytesElements(elements: readonly (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [];
  for (const element of elements) {
    const bytes = typeof element === 'string' ? Buffer.from(element) : element;
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32LE(bytes.length, 0);
    parts.push(prefix, bytes);
  }
  return Buffer.concat(parts);
}

/** FP32 values in binary form: little-endian, no padding. */
export function fp32Elements(values: readonly number[]): Buffer {
  const buf = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => buf.writeFloatLE(value, i * 4));
  return buf;
}

/** A body of the binary extension: the JSON header, then `chunks` back to back (§2.3). */
export interface BinaryBody {
  readonly body: Buffer;
  /** The `Inference-Header-Content-Length` value. */
  readonly headerLength: number;
}

/** Builds a binary-extension body from its JSON header and the tensors' chunks, in order. */
export function binaryBody(header: unknown, chunks: readonly Buffer[]): BinaryBody {
  const json = jsonBody(header);
  return { body: Buffer.concat([json, ...chunks]), headerLength: json.length };
}

/** A BYTES input sent as binary: its JSON description and its chunk. */
export function binaryBytesInput(name: string, elements: readonly (string | Buffer)[]) {
  const chunk = bytesElements(elements);
  const input = {
    name,
    datatype: 'BYTES',
    shape: [elements.length],
    parameters: { binary_data_size: chunk.length },
  };
  return { input, chunk };
}

/** The text a span covers: JSON spans decoded (escapes resolved), binary spans as UTF-8. */
export function spanText(body: Buffer, span: TritonTextSpan): string {
  if (span.form === 'json') return decodeJsonString(body, span.start, span.end);
  return body.toString('utf8', span.start, span.end);
}

/** Each span as [where, text]: a JSON path, or `tensor#element` for binary spans. */
export function spanTexts(body: Buffer, spans: readonly TritonTextSpan[]): [string, string][] {
  return spans.map((span) => [
    span.form === 'json' ? span.path : `${span.tensor}#${span.element}`,
    spanText(body, span),
  ]);
}

/** Overwrites every digit inside `spans` with `*`, in place, as a length-preserving masker does. */
export function maskDigits(body: Buffer, spans: readonly { start: number; end: number }[]): void {
  for (const { start, end } of spans) {
    for (let i = start; i < end; i++) if (body[i]! >= 0x30 && body[i]! <= 0x39) body[i] = 0x2a;
  }
}
