// Triton's binary tensor data extension (Triton binary tensor data extension): where the JSON part
// of an infer body ends, and the BYTES elements (Triton binary data: 4-byte little-endian length,
// then the bytes)
// after it.

import { ProxyError } from '../errors/proxy-error';
import type { TritonBinaryTextSpan, TritonTensorFacts } from './triton-http-facts';
import { bodyInvalid } from './triton-http-fields';

const BYTES_DATATYPE = 'BYTES';
const LENGTH_PREFIX_BYTES = 4;

/**
 * Parses an `Inference-Header-Content-Length` header value (binary data extension); undefined
 * when the header is absent. Throws ProxyError `ERR_MALFORMED_HEADER` for a value that is not
 * a decimal length.
 */
export function parseInferenceHeaderLength(
  value: string | readonly string[] | number | undefined,
): number | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === 'object' ? value[0]! : String(value);
  if (!/^\d{1,15}$/.test(text)) {
    throw new ProxyError('ERR_MALFORMED_HEADER', 'Inference-Header-Content-Length is not a length');
  }
  return Number(text);
}

/**
 * The end of an infer body's JSON part, from its `Inference-Header-Content-Length` (binary data
 * extension):
 * absent, the whole body is JSON; N, the first N bytes are. The caller handles 0 (a raw binary
 * request) first. Throws ProxyError `ERR_MALFORMED_HEADER` for a length that is not an integer
 * from 0 to the body's length.
 */
export function jsonPartEnd(body: Buffer, inferenceHeaderLength: number | undefined): number {
  if (inferenceHeaderLength === undefined) return body.length;
  const length = inferenceHeaderLength;
  if (!Number.isSafeInteger(length) || length < 0 || length > body.length) {
    throw new ProxyError(
      'ERR_MALFORMED_HEADER',
      `Inference-Header-Content-Length ${length} is not a length within the body of ` +
        `${body.length} bytes`,
    );
  }
  return length;
}

/**
 * Reads the binary part of an infer body, `body[jsonEnd..]`: one chunk per tensor that carries
 * `binary_data_size`, in the order of `tensors` (binary data extension), and a
 * `TritonBinaryTextSpan` for every
 * element of each BYTES chunk. Throws ProxyError `ERR_TRITON_BODY_INVALID` when the sizes do not
 * add up exactly to the bytes after the JSON part (a tail nobody claims could hide text), or a
 * BYTES element's length prefix or bytes run past the end of its chunk.
 *
 * @param list names the tensors in messages: `inputs` or `outputs`.
 */
export function readBinaryTensors(
  body: Buffer,
  jsonEnd: number,
  tensors: readonly TritonTensorFacts[],
  list: string,
): TritonBinaryTextSpan[] {
  checkBinarySizes(tensors, body.length - jsonEnd);

  const texts: TritonBinaryTextSpan[] = [];
  let offset = jsonEnd;
  tensors.forEach((tensor, index) => {
    if (tensor.binaryDataSize === undefined) return;
    const end = offset + tensor.binaryDataSize;
    if (tensor.datatype === BYTES_DATATYPE) {
      readBytesElements(body, offset, end, { name: tensor.name, where: `${list}.${index}` }, texts);
    }
    offset = end;
  });
  return texts;
}

/**
 * The span of a raw binary request (`Inference-Header-Content-Length: 0`, binary data extension):
 * the whole body.
 * Triton core prepends the 4-byte length itself when the model's only input is BYTES of shape
 * [1], so the body holds the element's bytes with no prefix. Security: the gateway cannot see
 * the model's datatype, so the body is always reported as text; masking a card-number-like run
 * of ASCII digits inside numeric tensor data is the lesser harm than letting a prompt through.
 */
export function rawBodySpan(body: Buffer): TritonBinaryTextSpan {
  return { form: 'binary', tensor: '', element: 0, start: 0, end: body.length };
}

function checkBinarySizes(tensors: readonly TritonTensorFacts[], available: number): void {
  const total = tensors.reduce((sum, tensor) => sum + (tensor.binaryDataSize ?? 0), 0);
  if (total !== available) {
    throw bodyInvalid(
      `Triton binary data sizes add up to ${total} bytes, but ${available} bytes follow the ` +
        'JSON part',
    );
  }
}

/** The tensor an element belongs to: its name for spans, its path for messages. */
interface ChunkOwner {
  readonly name: string;
  readonly where: string;
}

/** Appends a span for every element of the BYTES chunk `body[start, end)`. */
function readBytesElements(
  body: Buffer,
  start: number,
  end: number,
  owner: ChunkOwner,
  into: TritonBinaryTextSpan[],
): void {
  let pos = start;
  for (let element = 0; pos < end; element++) {
    if (end - pos < LENGTH_PREFIX_BYTES) {
      throw bodyInvalid(
        `Triton BYTES tensor "${owner.where}" ends inside the length prefix of element ${element}`,
      );
    }
    const length = body.readUInt32LE(pos);
    pos += LENGTH_PREFIX_BYTES;
    if (length > end - pos) {
      throw bodyInvalid(
        `Triton BYTES tensor "${owner.where}" element ${element} of ${length} bytes runs past ` +
          `the end of its ${end - start}-byte chunk`,
      );
    }
    into.push({ form: 'binary', tensor: owner.name, element, start: pos, end: pos + length });
    pos += length;
  }
}
