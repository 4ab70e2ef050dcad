// Decodes the Triton generate extension (Triton generate extension): request bodies, `/generate`
// response bodies and `/generate_stream` SSE events, with the text spans a masking filter rewrites.

import { ProxyError } from '../errors/proxy-error';
import type { JsonTextSpan } from './json-path';
import { scanJson } from './json-text-scanner';
import type { SseEventBytes } from './sse-event';
import type { TritonParameters } from './triton-http-facts';
import { asUpstreamProtocolError } from './triton-http-fields';
import { GenerateScan, type GenerateLayout } from './triton-http-generate-scan';

/** What `decodeTritonGenerateRequest` reads from a generate request body. */
export interface TritonGenerateRequestFacts {
  /** `id`; undefined when absent. */
  readonly id: string | undefined;
  readonly parameters: TritonParameters;
  /** Every string but `id`, in document order: `text_input`, other fields, parameter values. */
  readonly texts: readonly JsonTextSpan[];
}

/** What the generate response decoders read from a response body or event. */
export interface TritonGenerateResponseFacts {
  readonly id: string | undefined;
  readonly modelName: string | undefined;
  readonly modelVersion: string | undefined;
  /** True when the body or event carries a non-null `error` (generate extension). */
  readonly error: boolean;
  /** Every string but `id`, `model_name` and `model_version`: `text_output`, the error, ... */
  readonly texts: readonly JsonTextSpan[];
}

/** What `decodeTritonGenerateEvent` reads from one `/generate_stream` event. */
export interface TritonGenerateEventFacts extends TritonGenerateResponseFacts {
  /** True for a block with no data or blank data (a keep-alive): it has no other facts. */
  readonly empty: boolean;
}

// Security: generate extension passes every extra top-level property to the model "as parameters or
// tensors
// based on model specification", which the gateway cannot see, so every string but `id` is text:
// `text_input`, any other field a model reads as a BYTES input, and parameter values.
const REQUEST_LAYOUT: GenerateLayout = { factFields: new Set(['id']), readsParameters: true };

// Triton converts every model output to a top-level field (`text_output`, `finish_reason`, ...),
// so every string but the echoed identifiers is model output; an error may quote the prompt.
const RESPONSE_LAYOUT: GenerateLayout = {
  factFields: new Set(['id', 'model_name', 'model_version']),
  readsParameters: false,
};

/**
 * Decodes a `POST .../generate` or `.../generate_stream` request body; spans index `body`. Throws
 * ProxyError `ERR_JSON_MALFORMED` / `ERR_JSON_TOO_DEEP` as `scanJson` does, and
 * `ERR_TRITON_BODY_INVALID` for a root that is not an object, an `id` that is not a string,
 * `parameters` that is not an object of strings, numbers and booleans, or a top-level or
 * parameter key given twice.
 */
export function decodeTritonGenerateRequest(body: Buffer): TritonGenerateRequestFacts {
  const scan = new GenerateScan(body, REQUEST_LAYOUT, 0);
  scanJson(body, scan);

  const { facts, parameters, texts } = scan.result();
  return { id: facts.get('id'), parameters, texts };
}

/**
 * Decodes a `/generate` response body (success or `{"error": "..."}`); spans index `body`.
 * Every failure is ProxyError `ERR_UPSTREAM_PROTOCOL` with the specific error as `cause`: text
 * the codec cannot read must not be relayed unmasked.
 */
export function decodeTritonGenerateResponse(body: Buffer): TritonGenerateResponseFacts {
  return asUpstreamProtocolError(() => scanResponse(body, 0));
}

/**
 * Decodes one `/generate_stream` event (generate extension: each response object is one `data:`
 * event, and a
 * failure after the first event is an event carrying `error` under HTTP 200); span offsets are
 * relative to `event.bytes`. A block without data, or with blank data, is `empty`. Throws
 * ProxyError `ERR_UPSTREAM_PROTOCOL` (cause: the specific error) for data that is not a JSON
 * object of the response's shape, and for an event of several data lines, which Triton never
 * writes and whose joined JSON would not map onto the event's bytes.
 */
export function decodeTritonGenerateEvent(event: SseEventBytes): TritonGenerateEventFacts {
  if (event.data.length > 1) {
    throw new ProxyError(
      'ERR_UPSTREAM_PROTOCOL',
      `upstream sent a generate_stream event of ${event.data.length} data lines, not one`,
    );
  }
  const line = event.data[0];
  if (line === undefined || isBlank(event.bytes, line.start, line.end)) return EMPTY_EVENT;

  const json = event.bytes.subarray(line.start, line.end);
  const facts = asUpstreamProtocolError(() => scanResponse(json, line.start));
  return { ...facts, empty: false };
}

const EMPTY_EVENT: TritonGenerateEventFacts = {
  id: undefined,
  modelName: undefined,
  modelVersion: undefined,
  error: false,
  texts: [],
  empty: true,
};

/** Scans a response object; `shift` is added to every span offset. */
function scanResponse(json: Buffer, shift: number): TritonGenerateResponseFacts {
  const scan = new GenerateScan(json, RESPONSE_LAYOUT, shift);
  scanJson(json, scan);

  const { facts, error, texts } = scan.result();
  return {
    id: facts.get('id'),
    modelName: facts.get('model_name'),
    modelVersion: facts.get('model_version'),
    error,
    texts,
  };
}

/** True when `bytes[start, end)` is empty or only JSON whitespace. */
function isBlank(bytes: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const byte = bytes[i];
    if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return false;
  }
  return true;
}
