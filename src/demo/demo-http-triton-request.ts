// Turns Triton HTTP/REST infer and generate bodies into the KServe requests the demo models read.

import { status } from '@grpc/grpc-js';
import { decodeBytesElements } from './bytes-tensor';
import { isRecord } from './demo-http-request-fields';
import { TEXT_INPUT } from './demo-models';
import {
  fail,
  succeed,
  type DemoResult,
  type InferInputTensor,
  type InferTensorContents,
  type ModelInferRequest,
  type ParameterMap,
} from './kserve-messages';

/** The model (and optional version) a `/v2/models/{m}[/versions/{v}]/...` path names. */
export interface ModelPath {
  readonly model: string;
  /** '' when the path has no version segment. */
  readonly version: string;
}

/** Bytes of one INT32 / UINT32 element in binary form. */
const INT32_BYTES = 4;

/** Fails with INVALID_ARGUMENT (answered 400). */
function invalid<T>(message: string): DemoResult<T> {
  return fail(status.INVALID_ARGUMENT, message);
}

/**
 * JSON parameters (KServe v2 REST: string, number or boolean) as KServe InferParameters: integers
 * become
 * int64, other numbers double, so `demo_tokens` and `max_tokens` read as on the gRPC side.
 */
export function kserveParameters(value: unknown): ParameterMap {
  const parameters: ParameterMap = {};
  for (const [name, param] of Object.entries(isRecord(value) ? value : {})) {
    if (typeof param === 'boolean') {
      parameters[name] = { bool_param: param };
    } else if (typeof param === 'string') {
      parameters[name] = { string_param: param };
    } else if (Number.isInteger(param)) {
      parameters[name] = { int64_param: String(param) };
    } else if (typeof param === 'number') {
      parameters[name] = { double_param: param };
    }
  }
  return parameters;
}

/** An input's `binary_data_size` parameter (binary data extension), if it has one. */
function binaryDataSize(input: unknown): unknown {
  return isRecord(input) && isRecord(input.parameters)
    ? input.parameters.binary_data_size
    : undefined;
}

/** Each input's slice of the binary tail, in input order; undefined for JSON-data inputs. */
function binaryChunks(
  inputs: readonly unknown[],
  binary: Buffer,
): DemoResult<(Buffer | undefined)[]> {
  const chunks: (Buffer | undefined)[] = [];
  let offset = 0;
  for (const input of inputs) {
    const size = binaryDataSize(input);
    if (size === undefined) {
      chunks.push(undefined);
      continue;
    }
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) {
      return invalid('binary_data_size must be a non-negative integer');
    }
    if (offset + size > binary.length) {
      return invalid('binary_data_size of an input runs past the end of the binary data');
    }
    chunks.push(binary.subarray(offset, offset + size));
    offset += size;
  }
  return offset === binary.length
    ? succeed(chunks)
    : invalid(`binary data has ${binary.length - offset} bytes that no input claims`);
}

/** Typed contents of a binary chunk; BYTES, INT32 and UINT32 are the types the models read. */
function binaryContents(datatype: string, chunk: Buffer): InferTensorContents | undefined {
  if (datatype === 'BYTES') {
    const elements = decodeBytesElements(chunk);
    return elements === undefined ? undefined : { bytes_contents: elements };
  }
  if (datatype !== 'INT32' && datatype !== 'UINT32') {
    return {};
  }
  if (chunk.length % INT32_BYTES !== 0) {
    return undefined;
  }
  const values = Array.from({ length: chunk.length / INT32_BYTES }, (_, i) =>
    datatype === 'INT32' ? chunk.readInt32LE(i * INT32_BYTES) : chunk.readUInt32LE(i * INT32_BYTES),
  );
  return datatype === 'INT32' ? { int_contents: values } : { uint_contents: values };
}

/** Typed contents of JSON `data` (nested or flat, KServe v2 REST); BYTES elements are strings. */
function jsonContents(datatype: string, data: unknown): InferTensorContents | undefined {
  const flat: unknown[] = Array.isArray(data) ? data.flat(Infinity) : [data];
  if (datatype === 'BYTES') {
    return flat.every((item) => typeof item === 'string')
      ? { bytes_contents: flat.map((item) => Buffer.from(item as string)) }
      : undefined;
  }
  if (datatype !== 'INT32' && datatype !== 'UINT32') {
    // The demo models read no other datatype, so such inputs are accepted and left unread.
    return {};
  }
  if (!flat.every((item) => Number.isInteger(item))) {
    return undefined;
  }
  const values = flat as number[];
  return datatype === 'INT32' ? { int_contents: values } : { uint_contents: values };
}

/** One JSON input tensor (with its binary chunk, if any) as a typed KServe input. */
function inputTensor(input: unknown, chunk: Buffer | undefined): DemoResult<InferInputTensor> {
  if (!isRecord(input) || typeof input.name !== 'string' || typeof input.datatype !== 'string') {
    return invalid("every input needs a string 'name' and 'datatype'");
  }
  const { name, datatype, shape } = input;
  if (!Array.isArray(shape) || !shape.every((dim) => Number.isInteger(dim) && dim >= 0)) {
    return invalid(`input '${name}' needs a 'shape' of non-negative integers`);
  }
  const contents =
    chunk === undefined ? jsonContents(datatype, input.data) : binaryContents(datatype, chunk);
  if (contents === undefined) {
    return invalid(`input '${name}' data is malformed for datatype ${datatype}`);
  }
  return succeed({ name, datatype, shape: shape as number[], contents });
}

/**
 * An inference request (KServe v2 REST) and its binary tail (binary data extension) as a typed
 * KServe request. Fails with
 * INVALID_ARGUMENT for a missing `inputs` list, a malformed input, or binary sizes that do not
 * add up to the tail.
 */
export function inferRequestOf(
  path: ModelPath,
  header: Record<string, unknown>,
  binary: Buffer,
): DemoResult<ModelInferRequest> {
  const { inputs, outputs, id } = header;
  if (!Array.isArray(inputs)) {
    return invalid("inference request needs an 'inputs' list");
  }
  const chunks = binaryChunks(inputs, binary);
  if (!chunks.ok) {
    return chunks;
  }

  const tensors: InferInputTensor[] = [];
  for (const [index, input] of inputs.entries()) {
    const tensor = inputTensor(input, chunks.value[index]);
    if (!tensor.ok) {
      return tensor;
    }
    tensors.push(tensor.value);
  }
  const requested = Array.isArray(outputs) ? outputs.filter(isRecord) : [];
  return succeed({
    model_name: path.model,
    model_version: path.version,
    id: typeof id === 'string' ? id : '',
    parameters: kserveParameters(header.parameters),
    inputs: tensors,
    outputs: requested.map((output) => ({ name: String(output.name) })),
  });
}

/**
 * A generate request (generate extension) as a KServe request: `text_input` becomes the BYTES
 * input, and
 * `parameters` plus any other top-level field become request parameters (the extension forwards
 * extra fields to the model). Fails with INVALID_ARGUMENT when `text_input` is not a string.
 */
export function generateRequestOf(
  path: ModelPath,
  body: Record<string, unknown>,
): DemoResult<ModelInferRequest> {
  const { text_input: text, id, parameters, ...extra } = body;
  if (typeof text !== 'string') {
    return invalid(`generate request for model '${path.model}' needs a string '${TEXT_INPUT}'`);
  }
  return succeed({
    model_name: path.model,
    model_version: path.version,
    id: typeof id === 'string' ? id : '',
    parameters: { ...kserveParameters(extra), ...kserveParameters(parameters) },
    inputs: [
      {
        name: TEXT_INPUT,
        datatype: 'BYTES',
        shape: [1],
        contents: { bytes_contents: [Buffer.from(text)] },
      },
    ],
  });
}
