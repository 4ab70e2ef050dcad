// Property tests: random infer bodies whose BYTES tensors are encoded as JSON (flat or nested) or
// as binary tensor data yield spans that slice exactly the element texts, and cut or corrupted
// bodies either decode or throw a ProxyError.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import fc from 'fast-check';

import { decodeJsonString } from '../../src/codecs/json-scalar-decoder';
import type { TritonTextSpan } from '../../src/codecs/triton-http-facts';
import {
  decodeTritonInferRequest,
  decodeTritonInferResponse,
} from '../../src/codecs/triton-http-infer-codec';
import { isProxyError } from '../../src/errors/proxy-error';
import { bytesElements } from './triton-http-fixtures';

const RUNS = { seed: 20240611, numRuns: 200 };

type Encoding = 'flat' | 'nested' | 'binary';

interface TensorModel {
  readonly name: string;
  readonly bytes: boolean;
  readonly encoding: Encoding;
  /** BYTES elements as text (JSON) or bytes (binary); numbers for other datatypes. */
  readonly elements: readonly (string | Buffer | number)[];
}

interface BodyModel {
  readonly direction: 'request' | 'response';
  readonly indent: number;
  readonly tensors: readonly TensorModel[];
}

const textArb = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.constantFrom('', '4111 1111 1111 1111', '"\\\n\u0000', 'ü€💳'),
);

const bytesTensorArb = fc.record({
  name: fc.string({ maxLength: 6 }),
  bytes: fc.constant(true),
  encoding: fc.constantFrom<Encoding>('flat', 'nested', 'binary'),
  elements: fc.array(textArb, { maxLength: 5 }),
});

const numericTensorArb = fc.record({
  name: fc.string({ maxLength: 6 }),
  bytes: fc.constant(false),
  encoding: fc.constantFrom<Encoding>('flat', 'binary'),
  elements: fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 4 }),
});

const bodyArb: fc.Arbitrary<BodyModel> = fc.record({
  direction: fc.constantFrom<'request' | 'response'>('request', 'response'),
  indent: fc.constantFrom(0, 2),
  tensors: fc.array(fc.oneof(bytesTensorArb, numericTensorArb), { minLength: 1, maxLength: 4 }),
});

/** The tensor's JSON description and, when binary, its chunk. */
function encodeTensor(tensor: TensorModel): { json: object; chunk: Buffer | undefined } {
  const { name, bytes, encoding, elements } = tensor;
  const datatype = bytes ? 'BYTES' : 'INT32';
  const head = { name, datatype, shape: [elements.length] };
  if (encoding !== 'binary') {
    const data = encoding === 'nested' ? pairs(elements) : elements;
    return { json: { ...head, data }, chunk: undefined };
  }
  const chunk = bytes ? bytesElements(elements as string[]) : int32Elements(elements as number[]);
  return { json: { ...head, parameters: { binary_data_size: chunk.length } }, chunk };
}

function pairs<T>(items: readonly T[]): T[][] {
  const rows: T[][] = [];
  for (let i = 0; i < items.length; i += 2) rows.push(items.slice(i, i + 2));
  return rows;
}

function int32Elements(values: readonly number[]): Buffer {
  const buf = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => buf.writeInt32LE(value, i * 4));
  return buf;
}

/** The body's bytes and the header length a sender would put in its headers. */
function encodeBody(model: BodyModel): { body: Buffer; headerLength: number | undefined } {
  const encoded = model.tensors.map(encodeTensor);
  const list = model.direction === 'request' ? 'inputs' : 'outputs';
  const header = { [list]: encoded.map((tensor) => tensor.json) };
  const chunks = encoded.flatMap((tensor) => (tensor.chunk === undefined ? [] : [tensor.chunk]));
  const json = Buffer.from(JSON.stringify(header, null, model.indent));
  if (chunks.length === 0) return { body: json, headerLength: undefined };

  return { body: Buffer.concat([json, ...chunks]), headerLength: json.length };
}

function decode(model: BodyModel, body: Buffer, headerLength: number | undefined) {
  return model.direction === 'request'
    ? decodeTritonInferRequest(body, headerLength).texts
    : decodeTritonInferResponse(body, headerLength).texts;
}

/** What each span should hold: JSON elements in tensor order, then binary ones. */
function expectedTexts(model: BodyModel): (string | Buffer)[] {
  const textOf = (tensor: TensorModel) =>
    tensor.bytes ? (tensor.elements as readonly (string | Buffer)[]) : [];
  const json = model.tensors.filter((tensor) => tensor.encoding !== 'binary').flatMap(textOf);
  const binary = model.tensors.filter((tensor) => tensor.encoding === 'binary').flatMap(textOf);
  return [...json, ...binary.map((text) => Buffer.from(text as string))];
}

function sliceOf(body: Buffer, span: TritonTextSpan): string | Buffer {
  return span.form === 'json'
    ? decodeJsonString(body, span.start, span.end)
    : body.subarray(span.start, span.end);
}

describe('Triton infer codec properties', () => {
  test('spans slice exactly the BYTES elements, in JSON or binary form', () => {
    fc.assert(
      fc.property(bodyArb, (model) => {
        const { body, headerLength } = encodeBody(model);
        const texts = decode(model, body, headerLength);

        assert.deepEqual(
          texts.map((span) => sliceOf(body, span)),
          expectedTexts(model),
        );
        const starts = texts.map((span) => span.start);
        assert.deepEqual(
          starts,
          [...starts].sort((a, b) => a - b),
        );
      }),
      RUNS,
    );
  });

  test('a cut or corrupted body decodes or throws a ProxyError, never anything else', () => {
    const cutArb = fc.record({ model: bodyArb, at: fc.nat(), byte: fc.nat({ max: 255 }) });
    fc.assert(
      fc.property(cutArb, ({ model, at, byte }) => {
        const { body, headerLength } = encodeBody(model);
        const corrupted = Buffer.from(body);
        if (corrupted.length > 0) corrupted[at % corrupted.length] = byte;
        for (const candidate of [corrupted, body.subarray(0, at % (body.length + 1))]) {
          try {
            decode(model, candidate, headerLength);
          } catch (err) {
            assert.ok(isProxyError(err), String(err));
          }
        }
      }),
      RUNS,
    );
  });
});
