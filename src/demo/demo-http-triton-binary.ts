// Triton's binary tensor data extension (binary data extension): splitting request bodies, encoding
// responses.

import type { OutgoingHttpHeaders } from 'node:http';
import { status } from '@grpc/grpc-js';
import { encodeBytesElements } from './bytes-tensor';
import { isRecord } from './demo-http-request-fields';
import { TEXT_INPUT } from './demo-models';
import { fail, succeed, type DemoResult } from './kserve-messages';

/** Request and response header giving the byte length of the JSON part of the body. */
export const INFERENCE_HEADER_LENGTH = 'inference-header-content-length';

/** A request body split into its JSON header and its binary tail. */
export interface InferenceBody {
  /** The parsed JSON header, or the one implied by a raw binary request. */
  readonly header: Record<string, unknown>;
  readonly binary: Buffer;
}

/** A BYTES output tensor to answer with. */
export interface BytesOutputTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly elements: readonly Buffer[];
}

/** An encoded inference response. */
export interface EncodedResponse {
  readonly body: Buffer;
  readonly headers: OutgoingHttpHeaders;
}

/**
 * The header a raw binary request (`Inference-Header-Content-Length: 0`) implies: the body is
 * the one BYTES input of shape [1], and every output comes back binary.
 */
function rawRequestHeader(binary: Buffer): Record<string, unknown> {
  return {
    inputs: [
      {
        name: TEXT_INPUT,
        datatype: 'BYTES',
        shape: [1],
        parameters: { binary_data_size: binary.length },
      },
    ],
    parameters: { binary_data_output: true },
  };
}

/**
 * Splits a request body by its `Inference-Header-Content-Length` (absent: all JSON; 0: a raw
 * binary request; N: N bytes of JSON, then binary). `parseJson` parses the JSON part and
 * returns undefined when it is malformed (having answered). Fails with INVALID_ARGUMENT for a
 * header value that is not a length within the body.
 */
export function splitInferenceBody(
  body: Buffer,
  headerLength: string | undefined,
  parseJson: (bytes: Buffer) => Record<string, unknown> | undefined,
): DemoResult<InferenceBody | undefined> {
  const length = headerLength === undefined ? body.length : Number(headerLength);
  if (!Number.isInteger(length) || length < 0 || length > body.length) {
    return fail(
      status.INVALID_ARGUMENT,
      `${INFERENCE_HEADER_LENGTH} '${headerLength}' is not a length within the body`,
    );
  }
  if (length === 0 && headerLength !== undefined) {
    return succeed({ header: rawRequestHeader(body), binary: body });
  }

  const header = parseJson(body.subarray(0, length));
  return succeed(header === undefined ? undefined : { header, binary: body.subarray(length) });
}

/**
 * Whether an output should come back binary: its requested-output `binary_data` parameter
 * when given, else the request's `binary_data_output` parameter, else JSON.
 */
export function wantsBinary(header: Record<string, unknown>, name: string): boolean {
  const requested = Array.isArray(header.outputs) ? header.outputs : [];
  const output = requested.find((item) => isRecord(item) && item.name === name);
  const own =
    isRecord(output) && isRecord(output.parameters) ? output.parameters.binary_data : undefined;
  if (typeof own === 'boolean') {
    return own;
  }
  const all = isRecord(header.parameters) ? header.parameters.binary_data_output : undefined;
  return all === true;
}

/**
 * Encodes an inference response (KServe v2 REST): pure JSON when every output is JSON, otherwise
 * the
 * JSON header then each binary output's elements (4-byte little-endian length + bytes), with
 * `binary_data_size` on those outputs and the header length in `Inference-Header-Content-Length`.
 */
export function encodeInferResponse(
  head: Record<string, unknown>,
  outputs: readonly BytesOutputTensor[],
  binary: (name: string) => boolean,
): EncodedResponse {
  const chunks: Buffer[] = [];
  const described = outputs.map(({ name, shape, elements }) => {
    const tensor = { name, datatype: 'BYTES', shape: [...shape] };
    if (!binary(name)) {
      // Limitation: BYTES elements that are not UTF-8 are mangled in JSON; ask for binary.
      return { ...tensor, data: elements.map((element) => element.toString('utf8')) };
    }
    const chunk = encodeBytesElements(elements);
    chunks.push(chunk);
    return { ...tensor, parameters: { binary_data_size: chunk.length } };
  });
  const json = Buffer.from(JSON.stringify({ ...head, outputs: described }));

  if (chunks.length === 0) {
    return { body: json, headers: { 'content-type': 'application/json' } };
  }
  return {
    body: Buffer.concat([json, ...chunks]),
    headers: {
      'content-type': 'application/octet-stream',
      [INFERENCE_HEADER_LENGTH]: json.length,
    },
  };
}
