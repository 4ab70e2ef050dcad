// Decodes the facts and BYTES text spans of Triton / KServe v2 HTTP infer bodies
// (`POST /v2/models/{m}[/versions/{v}]/infer`, KServe v2 REST API) in JSON or binary form (binary
// data extension).

import { jsonPartEnd, rawBodySpan, readBinaryTensors } from './triton-http-binary-data';
import type {
  TritonBodyForm,
  TritonInferFacts,
  TritonInferResponseFacts,
  TritonTextSpan,
} from './triton-http-facts';
import { asUpstreamProtocolError, bodyInvalid, createTritonParameters } from './triton-http-fields';
import {
  scanInferHeader,
  type InferHeader,
  type InferHeaderLayout,
} from './triton-http-infer-header';

export type {
  TritonBinaryTextSpan,
  TritonBodyForm,
  TritonInferFacts,
  TritonInferResponseFacts,
  TritonJsonTextSpan,
  TritonParameters,
  TritonParameterValue,
  TritonRequestedOutput,
  TritonTensorFacts,
  TritonTextSpan,
} from './triton-http-facts';

const REQUEST_LAYOUT: InferHeaderLayout = {
  tensorList: 'inputs',
  requestedList: 'outputs',
  stringFields: new Set(['id']),
  errorBody: false,
};

const RESPONSE_LAYOUT: InferHeaderLayout = {
  tensorList: 'outputs',
  requestedList: undefined,
  stringFields: new Set(['id', 'model_name', 'model_version']),
  errorBody: true,
};

// Limitation: string request parameters (`parameters` of the request or of a tensor) are not
// reported as text, though a Python-backend model can read them; a card number sent there reaches
// the model unmasked. Limitation: tensors in shared memory (`shared_memory_region`) carry no bytes
// in the body, so
// text in them is neither seen nor masked; a route that masks must refuse them.
/**
 * Decodes an infer request body. `inferenceHeaderLength` is the request's
 * `Inference-Header-Content-Length`, parsed: absent, the body is JSON; N > 0, the first N bytes
 * are the JSON header and the rest are the binary tensors of the inputs that carry
 * `binary_data_size`, in order; 0, the body is the raw data of a single-input model's only input
 * (binary data extension). Spans index `body`, JSON spans first. Throws ProxyError
 * `ERR_MALFORMED_HEADER` for a
 * header length outside the body, `ERR_JSON_MALFORMED` / `ERR_JSON_TOO_DEEP` for a header that
 * is not JSON, and `ERR_TRITON_BODY_INVALID` for a field of the wrong type or repeated, a tensor
 * without name, datatype or shape, data that does not suit its datatype, binary sizes that do
 * not add up to the binary part, or a BYTES element that leaves its tensor.
 */
export function decodeTritonInferRequest(
  body: Buffer,
  inferenceHeaderLength: number | undefined,
): TritonInferFacts {
  if (inferenceHeaderLength === 0) return rawRequestFacts(body);

  const jsonEnd = jsonPartEnd(body, inferenceHeaderLength);
  const header = scanInferHeader(body.subarray(0, jsonEnd), REQUEST_LAYOUT);
  const texts = withBinaryTexts(body, jsonEnd, header, 'inputs');
  return {
    form: inferenceHeaderLength === undefined ? 'json' : 'binary',
    id: header.strings.get('id'),
    parameters: header.parameters,
    inputs: header.tensors,
    outputs: header.requestedOutputs,
    batchSize: header.tensors[0]?.shape[0],
    texts,
  };
}

/**
 * Decodes an infer response body, with its `Inference-Header-Content-Length` parsed, as
 * `decodeTritonInferRequest` decodes a request: outputs with `data` or `binary_data_size`, and
 * an error body `{"error": "..."}` flagged, its message reported as text (an error may quote the
 * prompt). A response has no raw form, so a header length of 0 is refused. Every failure is
 * ProxyError `ERR_UPSTREAM_PROTOCOL`, with the specific error as `cause`.
 */
export function decodeTritonInferResponse(
  body: Buffer,
  inferenceHeaderLength: number | undefined,
): TritonInferResponseFacts {
  return asUpstreamProtocolError(() => {
    if (inferenceHeaderLength === 0) {
      throw bodyInvalid('Inference-Header-Content-Length 0 (a raw body) is for requests only');
    }

    const jsonEnd = jsonPartEnd(body, inferenceHeaderLength);
    const header = scanInferHeader(body.subarray(0, jsonEnd), RESPONSE_LAYOUT);
    const texts = withBinaryTexts(body, jsonEnd, header, 'outputs');
    return {
      form: inferenceHeaderLength === undefined ? 'json' : 'binary',
      modelName: header.strings.get('model_name'),
      modelVersion: header.strings.get('model_version'),
      id: header.strings.get('id'),
      parameters: header.parameters,
      outputs: header.tensors,
      error: header.error,
      texts,
    };
  });
}

/** The header's JSON spans followed by the binary part's element spans: ascending offsets. */
function withBinaryTexts(
  body: Buffer,
  jsonEnd: number,
  header: InferHeader,
  list: string,
): TritonTextSpan[] {
  const binary = readBinaryTensors(body, jsonEnd, header.tensors, list);
  return [...header.texts, ...binary];
}

/** A raw binary request implies its header: batch 1, every output binary (binary data). */
function rawRequestFacts(body: Buffer): TritonInferFacts {
  const form: TritonBodyForm = 'raw';
  return {
    form,
    id: undefined,
    parameters: createTritonParameters(),
    inputs: [],
    outputs: [],
    batchSize: 1,
    texts: [rawBodySpan(body)],
  };
}
