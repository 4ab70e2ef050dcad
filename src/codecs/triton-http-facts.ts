// The facts the Triton / KServe v2 HTTP codecs read from infer bodies (KServe v2 REST API; Triton
// binary tensor data extension).

import type { JsonTextSpan } from './json-path';

/** A BYTES element sent as JSON: a `data` string, its wire bytes inside the quotes. */
export interface TritonJsonTextSpan extends JsonTextSpan {
  readonly form: 'json';
}

/**
 * A BYTES element sent as binary tensor data (Triton binary tensor data; Triton binary tensor data
 * extension): `body[start, end)` is exactly the element's bytes, after its 4-byte length prefix,
 * with no escaping and no promise
 * of UTF-8. `element` counts from 0 within the tensor. In a raw binary request (header length 0)
 * the whole body is the one element of the model's only input, whose name the body does not
 * carry, so `tensor` is ''.
 */
export interface TritonBinaryTextSpan {
  readonly form: 'binary';
  readonly tensor: string;
  readonly element: number;
  readonly start: number;
  readonly end: number;
}

/** Text a masking filter may rewrite in place, without changing the body's byte length. */
export type TritonTextSpan = TritonJsonTextSpan | TritonBinaryTextSpan;

/** A parameter value: Triton accepts only JSON strings, numbers and booleans (KServe v2 REST). */
export type TritonParameterValue = string | number | boolean;

/**
 * A `parameters` object as a null-prototype object: keys come from the network, so a key such
 * as `__proto__` must stay an ordinary key instead of reaching Object.prototype. Numbers are
 * read as the nearest double.
 */
export type TritonParameters = Readonly<Record<string, TritonParameterValue>>;

/** How an infer body carries its tensors (Triton binary tensor data extension). */
export type TritonBodyForm = 'json' | 'binary' | 'raw';

/** An input tensor of a request or an output tensor of a response, data excluded. */
export interface TritonTensorFacts {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly parameters: TritonParameters;
  /** `parameters.binary_data_size`: the tensor's bytes after the JSON header, in order. */
  readonly binaryDataSize: number | undefined;
  /**
   * Scalars in `data`, however nested; undefined when the tensor has no `data` (binary, or in
   * shared memory).
   */
  readonly elementCount: number | undefined;
}

/** An entry of a request's `outputs`: an output the client asks for. */
export interface TritonRequestedOutput {
  readonly name: string;
  readonly parameters: TritonParameters;
  /** `parameters.binary_data`; undefined when absent (then `binary_data_output` decides). */
  readonly binaryData: boolean | undefined;
}

/** What `decodeTritonInferRequest` reads from a `POST .../infer` body. */
export interface TritonInferFacts {
  readonly form: TritonBodyForm;
  /** `id`; undefined when absent. */
  readonly id: string | undefined;
  readonly parameters: TritonParameters;
  /** The inputs in body order; empty for a raw binary request, whose header is implied. */
  readonly inputs: readonly TritonTensorFacts[];
  /** The requested outputs; empty means every output of the model. */
  readonly outputs: readonly TritonRequestedOutput[];
  /** First dimension of the first input's shape; 1 for a raw binary request (binary data). */
  readonly batchSize: number | undefined;
  /** Every BYTES element, in ascending byte order: JSON `data` strings, then binary elements. */
  readonly texts: readonly TritonTextSpan[];
}

/** What `decodeTritonInferResponse` reads from an infer response body. */
export interface TritonInferResponseFacts {
  readonly form: Exclude<TritonBodyForm, 'raw'>;
  readonly modelName: string | undefined;
  readonly modelVersion: string | undefined;
  readonly id: string | undefined;
  readonly parameters: TritonParameters;
  readonly outputs: readonly TritonTensorFacts[];
  /** True for an error body, `{"error": "..."}` (KServe v2 REST); its message is among `texts`. */
  readonly error: boolean;
  /** Every BYTES output element and the error message, in ascending byte order. */
  readonly texts: readonly TritonTextSpan[];
}
