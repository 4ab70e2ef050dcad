// Property tests: random KServe messages encoded by protobufjs decode to the facts they were
// built from, and random or corrupted bytes either decode or throw ERR_MALFORMED_MESSAGE.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import fc from 'fast-check';

import type { InferParameterValue, TextSpan } from '../../src/codecs/kserve-infer-facts';
import { decodeInferRequest } from '../../src/codecs/kserve-request-codec';
import {
  decodeInferResponse,
  decodeStreamInferResponse,
} from '../../src/codecs/kserve-response-codec';
import { KSERVE_RPCS, readModelTarget, type RpcSpec } from '../../src/codecs/kserve-rpc';
import { assertWellFormed } from '../../src/codecs/protobuf-wire-reader';
import { isProxyError } from '../../src/errors/proxy-error';
import { encodeWith, kserveType, loadKserveRoot, toLongBits } from './kserve-fixtures';

const RUNS = { seed: 20240611, numRuns: 200 };

type ParamModel =
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'int64' | 'uint64'; readonly value: bigint }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'double'; readonly value: number }
  | { readonly kind: 'none' };

type Form = 'raw' | 'typed' | 'shm';

interface TensorModel {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly params: readonly (readonly [string, ParamModel])[];
  readonly form: Form;
  readonly elements: readonly Buffer[];
  readonly data: Buffer;
}

interface MessageModel {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly id: string;
  readonly params: readonly (readonly [string, ParamModel])[];
  readonly tensors: readonly TensorModel[];
  readonly requestedOutputs: readonly string[];
}

// --- generators ------------------------------------------------------------------------------

const textArb = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 10 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.constantFrom('', '__proto__', 'constructor', 'text_input'),
);

const paramArb: fc.Arbitrary<ParamModel> = fc.oneof(
  fc.boolean().map((value) => ({ kind: 'bool' as const, value })),
  fc
    .oneof(fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n), fc.bigInt(-1000n, 1000n))
    .map((value) => ({ kind: 'int64' as const, value })),
  fc
    .oneof(fc.bigInt(0n, 2n ** 64n - 1n), fc.bigInt(0n, 1000n))
    .map((value) => ({ kind: 'uint64' as const, value })),
  textArb.map((value) => ({ kind: 'string' as const, value })),
  fc.double().map((value) => ({ kind: 'double' as const, value })),
  fc.constant({ kind: 'none' as const }),
);

const paramsArb = fc.uniqueArray(
  fc.tuple(
    textArb.filter((key) => key !== 'shared_memory_region'),
    paramArb,
  ),
  { selector: ([key]) => key, maxLength: 3 },
);

const elementArb = fc.oneof(
  textArb.map((text) => Buffer.from(text, 'utf8')),
  fc.uint8Array({ maxLength: 8 }).map((bytes) => Buffer.from(bytes)),
);

function tensorArb(forms: readonly Form[]): fc.Arbitrary<TensorModel> {
  return fc.record({
    name: textArb,
    datatype: fc.constantFrom('BYTES', 'BYTES', 'FP32', 'BOOL'),
    shape: fc.array(fc.oneof(fc.integer({ min: -1, max: 8 }), fc.maxSafeInteger()), {
      maxLength: 3,
    }),
    params: paramsArb,
    form: fc.constantFrom(...forms),
    elements: fc.array(elementArb, { maxLength: 4 }),
    data: fc.uint8Array({ maxLength: 12 }).map((bytes) => Buffer.from(bytes)),
  });
}

function messageArb(tensors: fc.Arbitrary<TensorModel[]>): fc.Arbitrary<MessageModel> {
  return fc.record({
    modelName: textArb,
    modelVersion: textArb,
    id: textArb,
    params: paramsArb,
    tensors,
    requestedOutputs: fc.array(textArb, { maxLength: 2 }),
  });
}

const requestArb = messageArb(fc.array(tensorArb(['raw', 'typed', 'shm']), { maxLength: 4 }));

const responseArb = fc
  .constantFrom<Form>('raw', 'typed')
  .chain((form) => messageArb(fc.array(tensorArb([form]), { maxLength: 3 })));

// --- building reference messages -------------------------------------------------------------

function paramToProto(param: ParamModel): Record<string, unknown> {
  switch (param.kind) {
    case 'bool':
      return { bool_param: param.value };
    case 'int64':
      return { int64_param: toLongBits(param.value) };
    case 'uint64':
      return { uint64_param: toLongBits(param.value) };
    case 'string':
      return { string_param: param.value };
    case 'double':
      return { double_param: param.value };
    case 'none':
      return {};
  }
}

function tensorParams(tensor: TensorModel): (readonly [string, ParamModel])[] {
  const region: ParamModel = { kind: 'string', value: 'region0' };
  return tensor.form === 'shm'
    ? [...tensor.params, ['shared_memory_region', region]]
    : [...tensor.params];
}

function paramsToProto(
  params: readonly (readonly [string, ParamModel])[],
): Record<string, unknown> {
  const map = Object.create(null) as Record<string, unknown>;
  for (const [key, param] of params) map[key] = paramToProto(param);
  return map;
}

/** Raw BYTES layout: 4-byte little-endian length, then the bytes, per element. */
function rawBytes(elements: readonly Buffer[]): Buffer {
  return Buffer.concat(
    elements.flatMap((element) => {
      const prefix = Buffer.alloc(4);
      prefix.writeUInt32LE(element.length);
      return [prefix, element];
    }),
  );
}

function rawEntry(tensor: TensorModel): Buffer {
  return tensor.datatype === 'BYTES' ? rawBytes(tensor.elements) : tensor.data;
}

function contentsOf(tensor: TensorModel): Record<string, unknown> | undefined {
  if (tensor.form !== 'typed') return undefined;
  if (tensor.datatype === 'BYTES') return { bytes_contents: tensor.elements };
  return { uint_contents: [...tensor.data] };
}

function messageToProto(model: MessageModel, request: boolean): Record<string, unknown> {
  const tensors = model.tensors.map((tensor) => ({
    name: tensor.name,
    datatype: tensor.datatype,
    shape: tensor.shape,
    parameters: paramsToProto(tensorParams(tensor)),
    contents: contentsOf(tensor),
  }));
  const raw = model.tensors.filter((tensor) => tensor.form === 'raw').map(rawEntry);
  const common = {
    model_name: model.modelName,
    model_version: model.modelVersion,
    id: model.id,
    parameters: paramsToProto(model.params),
  };
  if (!request) return { ...common, outputs: tensors, raw_output_contents: raw };
  const outputs = model.requestedOutputs.map((name) => ({ name }));
  return { ...common, inputs: tensors, outputs, raw_input_contents: raw };
}

// --- expected facts --------------------------------------------------------------------------

function expectedValue(param: ParamModel): InferParameterValue {
  if (param.kind === 'none') return null;
  if (param.kind !== 'int64' && param.kind !== 'uint64') return param.value;
  const asNumber = Number(param.value);
  return Number.isSafeInteger(asNumber) && BigInt(asNumber) === param.value
    ? asNumber
    : param.value;
}

function expectedParams(
  params: readonly (readonly [string, ParamModel])[],
): Record<string, InferParameterValue> {
  const map = Object.create(null) as Record<string, InferParameterValue>;
  for (const [key, param] of params) map[key] = expectedValue(param);
  return map;
}

function expectedTensors(model: MessageModel): unknown[] {
  return model.tensors.map((tensor) => ({
    name: tensor.name,
    datatype: tensor.datatype,
    shape: [...tensor.shape],
    parameters: expectedParams(tensorParams(tensor)),
  }));
}

type SpanView = [tensor: string, element: number, hex: string];

function expectedSpans(model: MessageModel): SpanView[] {
  const bytesIn = (form: Form): TensorModel[] =>
    model.tensors.filter((tensor) => tensor.form === form && tensor.datatype === 'BYTES');
  const typed = bytesIn('typed');
  const raw = bytesIn('raw');
  return [...typed, ...raw].flatMap((tensor) =>
    tensor.elements.map((element, index): SpanView => [
      tensor.name,
      index,
      element.toString('hex'),
    ]),
  );
}

function spanViews(buf: Buffer, texts: readonly TextSpan[]): SpanView[] {
  return texts.map((span) => [
    span.tensor,
    span.element,
    buf.subarray(span.start, span.end).toString('hex'),
  ]);
}

function rpcSpec(name: string): RpcSpec {
  const spec = KSERVE_RPCS.get(name);
  if (spec === undefined) throw new Error(`no spec for ${name}`);
  return spec;
}

// --- properties ------------------------------------------------------------------------------

describe('codec properties', () => {
  const root = loadKserveRoot();
  const requestType = kserveType(root, 'ModelInferRequest');
  const responseType = kserveType(root, 'ModelInferResponse');
  const streamType = kserveType(root, 'ModelStreamInferResponse');
  const modelInfer = rpcSpec('ModelInfer');

  test('random ModelInferRequests decode to the facts they were built from', () => {
    fc.assert(
      fc.property(requestArb, (model) => {
        const payload = encodeWith(requestType, messageToProto(model, true));
        const { texts, ...facts } = decodeInferRequest(payload);
        assert.deepStrictEqual(facts, {
          modelName: model.modelName,
          modelVersion: model.modelVersion,
          id: model.id,
          parameters: expectedParams(model.params),
          inputs: expectedTensors(model),
          requestedOutputs: [...model.requestedOutputs],
          batchSize: model.tensors[0]?.shape[0],
        });
        assert.deepStrictEqual(spanViews(payload, texts), expectedSpans(model));
        const target = readModelTarget(modelInfer, payload);
        assert.deepStrictEqual(target, { model: model.modelName, version: model.modelVersion });
      }),
      RUNS,
    );
  });

  test('random ModelInferResponses decode alone and inside a stream message', () => {
    fc.assert(
      fc.property(responseArb, textArb, (model, errorMessage) => {
        const response = messageToProto(model, false);
        const payload = encodeWith(responseType, response);
        const outer = encodeWith(streamType, {
          error_message: errorMessage,
          infer_response: response,
        });
        const facts = decodeInferResponse(payload);
        const stream = decodeStreamInferResponse(outer);
        assert.deepStrictEqual(stream.response, { ...facts, texts: stream.response?.texts });
        assert.equal(stream.errorMessage, errorMessage);
        assert.deepStrictEqual(facts.outputs, expectedTensors(model));
        assert.deepStrictEqual(facts.parameters, expectedParams(model.params));
        assert.deepStrictEqual(spanViews(payload, facts.texts), expectedSpans(model));
        assert.deepStrictEqual(
          spanViews(outer, stream.response?.texts ?? []),
          expectedSpans(model),
        );
      }),
      RUNS,
    );
  });

  test('random bytes decode or throw ERR_MALFORMED_MESSAGE, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        assertDecodesOrMalformed(Buffer.from(bytes));
      }),
      RUNS,
    );
  });

  test('truncated and corrupted messages decode or throw ERR_MALFORMED_MESSAGE', () => {
    fc.assert(
      fc.property(
        requestArb,
        responseArb,
        fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
        (request, response, mutations) => {
          const payloads = [
            encodeWith(requestType, messageToProto(request, true)),
            encodeWith(streamType, { infer_response: messageToProto(response, false) }),
          ];
          for (const payload of payloads) assertDecodesOrMalformed(mutate(payload, mutations));
        },
      ),
      RUNS,
    );
  });

  function assertDecodesOrMalformed(payload: Buffer): void {
    const decoders: ((buf: Buffer) => { texts: readonly TextSpan[] } | undefined)[] = [
      decodeInferRequest,
      decodeInferResponse,
      (buf) => decodeStreamInferResponse(buf).response,
      (buf) => (readModelTarget(modelInfer, buf), undefined),
      (buf) => (assertWellFormed(buf), undefined),
    ];
    for (const decode of decoders) {
      try {
        const facts = decode(payload);
        for (const span of facts?.texts ?? []) {
          assert.ok(span.start >= 0 && span.start <= span.end && span.end <= payload.length);
        }
      } catch (err) {
        assert.ok(isProxyError(err), `unexpected ${String(err)}`);
        assert.equal(err.code, 'ERR_MALFORMED_MESSAGE');
      }
    }
  }
});

// --- corruption ------------------------------------------------------------------------------

type Mutation =
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'set'; readonly at: number; readonly value: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.nat().map((at) => ({ kind: 'truncate' as const, at })),
  fc.record({
    kind: fc.constant('set' as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 6 }),
  }),
);

function mutate(payload: Buffer, mutations: readonly Mutation[]): Buffer {
  let buf = Buffer.from(payload);
  for (const mutation of mutations) {
    const at = buf.length === 0 ? 0 : mutation.at % buf.length;
    if (mutation.kind === 'truncate') buf = buf.subarray(0, at);
    else if (mutation.kind === 'set' && buf.length > 0) buf[at] = mutation.value;
    else if (mutation.kind === 'insert')
      buf = Buffer.concat([buf.subarray(0, at), mutation.bytes, buf.subarray(at)]);
  }
  return buf;
}
