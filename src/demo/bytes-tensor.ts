// Reads and writes the demo models' tensors in both raw and typed KServe form.

import { status } from '@grpc/grpc-js';
import {
  fail,
  succeed,
  type DemoResult,
  type InferInputTensor,
  type InferOutputTensor,
  type ModelInferRequest,
} from './kserve-messages';

/** Bytes of the little-endian length prefix of each raw BYTES element (Triton binary data). */
const LENGTH_PREFIX_BYTES = 4;

/** Encodes BYTES elements in raw form: each a 4-byte little-endian length, then its bytes. */
export function encodeBytesElements(elements: readonly Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  for (const element of elements) {
    const prefix = Buffer.alloc(LENGTH_PREFIX_BYTES);
    prefix.writeUInt32LE(element.length, 0);
    parts.push(prefix, Buffer.from(element.buffer, element.byteOffset, element.length));
  }
  return Buffer.concat(parts);
}

/** Decodes a raw BYTES tensor into its elements; undefined when a length runs past the end. */
export function decodeBytesElements(raw: Uint8Array): Buffer[] | undefined {
  const buffer = Buffer.from(raw.buffer, raw.byteOffset, raw.length);
  const elements: Buffer[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    if (offset + LENGTH_PREFIX_BYTES > buffer.length) {
      return undefined;
    }
    const length = buffer.readUInt32LE(offset);
    offset += LENGTH_PREFIX_BYTES;
    if (offset + length > buffer.length) {
      return undefined;
    }
    elements.push(buffer.subarray(offset, offset + length));
    offset += length;
  }
  return elements;
}

/** A BYTES input's elements, its declared shape, and whether it came as raw contents. */
export interface BytesInput {
  readonly elements: Buffer[];
  readonly shape: number[];
  readonly raw: boolean;
}

/** Finds an input tensor by name with its index (which is also its raw_input_contents index). */
function findInput(request: ModelInferRequest, name: string): [InferInputTensor, number] | [] {
  const index = (request.inputs ?? []).findIndex((input) => input.name === name);
  const input = request.inputs?.[index];
  return input === undefined ? [] : [input, index];
}

/** True when the request carries its input data as raw contents rather than typed fields. */
function usesRawContents(request: ModelInferRequest): boolean {
  return (request.raw_input_contents ?? []).length > 0;
}

/** The elements of a BYTES input, raw or typed; undefined when the raw entry is malformed. */
function bytesElementsOf(
  request: ModelInferRequest,
  input: InferInputTensor,
  index: number,
): Buffer[] | undefined {
  if (!usesRawContents(request)) {
    return input.contents?.bytes_contents ?? [];
  }
  const entry = request.raw_input_contents?.[index];
  return entry === undefined ? undefined : decodeBytesElements(entry);
}

/** The first element of an INT32 / UINT32 input, raw (little-endian) or typed. */
function countValueOf(
  request: ModelInferRequest,
  input: InferInputTensor,
  index: number,
): number | undefined {
  const signed = input.datatype === 'INT32';
  if (!usesRawContents(request)) {
    return (signed ? input.contents?.int_contents : input.contents?.uint_contents)?.[0];
  }
  const entry = request.raw_input_contents?.[index];
  if (entry === undefined || entry.length < 4) {
    return undefined;
  }
  return signed ? entry.readInt32LE(0) : entry.readUInt32LE(0);
}

/**
 * Reads the BYTES input `name`. Fails with INVALID_ARGUMENT when it is missing, not BYTES,
 * malformed, or holds a different number of elements than its shape says.
 */
export function readBytesInput(request: ModelInferRequest, name: string): DemoResult<BytesInput> {
  const model = request.model_name;
  const [input, index] = findInput(request, name);
  if (input === undefined || index === undefined) {
    return fail(status.INVALID_ARGUMENT, `input '${name}' is missing for model '${model}'`);
  }
  if (input.datatype !== 'BYTES') {
    return fail(
      status.INVALID_ARGUMENT,
      `input '${name}' has datatype '${input.datatype}' but model '${model}' expects BYTES`,
    );
  }

  const raw = usesRawContents(request);
  const elements = bytesElementsOf(request, input, index);
  const shape = input.shape.map(Number);
  const expected = shape.reduce((product, dim) => product * dim, 1);
  if (elements === undefined || elements.length !== expected) {
    return fail(status.INVALID_ARGUMENT, `input '${name}' data does not match its shape`);
  }
  return succeed({ elements, shape, raw });
}

/**
 * Reads the first element of an optional INT32 or UINT32 input `name`; undefined when absent.
 * Fails with INVALID_ARGUMENT for another datatype or missing data.
 */
export function readCountInput(
  request: ModelInferRequest,
  name: string,
): DemoResult<number | undefined> {
  const [input, index] = findInput(request, name);
  if (input === undefined || index === undefined) {
    return succeed(undefined);
  }
  if (input.datatype !== 'INT32' && input.datatype !== 'UINT32') {
    return fail(status.INVALID_ARGUMENT, `input '${name}' must be INT32 or UINT32`);
  }

  const value = countValueOf(request, input, index);
  if (value === undefined) {
    return fail(status.INVALID_ARGUMENT, `input '${name}' has no data`);
  }
  return succeed(Math.max(0, value));
}

/** The output half of an inference response: tensor descriptions and any raw contents. */
export interface ResponseOutputs {
  outputs: InferOutputTensor[];
  raw_output_contents: Buffer[];
}

/** Builds a BYTES output tensor in raw or typed form (the form the request used). */
export function bytesOutput(
  name: string,
  elements: readonly Buffer[],
  shape: readonly number[],
  raw: boolean,
): ResponseOutputs {
  const tensor: InferOutputTensor = { name, datatype: 'BYTES', shape: [...shape] };
  if (raw) {
    return { outputs: [tensor], raw_output_contents: [encodeBytesElements(elements)] };
  }
  return {
    outputs: [{ ...tensor, contents: { bytes_contents: [...elements] } }],
    raw_output_contents: [],
  };
}
