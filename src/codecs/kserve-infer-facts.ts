// The facts the KServe codecs read from inference messages, and the in-place text rewrite.

/**
 * One BYTES element of a tensor, as byte offsets into the payload the decoder was given:
 * `payload.subarray(start, end)` is exactly the element's bytes (no length prefix). `element`
 * counts from 0 within the tensor and within one form (typed `bytes_contents` or the raw entry).
 */
export interface TextSpan {
  readonly tensor: string;
  readonly element: number;
  readonly start: number;
  readonly end: number;
}

/**
 * One `InferParameter` value: bool_param, int64_param / uint64_param (a number when safe, else a
 * bigint), string_param, double_param; `null` when the parameter sets no choice.
 */
export type InferParameterValue = boolean | number | bigint | string | null;

/**
 * A `map<string, InferParameter>` as a null-prototype object: keys come from the network, so a
 * key such as `__proto__` must stay an ordinary key instead of reaching Object.prototype.
 */
export type InferParameters = Readonly<Record<string, InferParameterValue>>;

/** An input tensor of a request or an output tensor of a response (data excluded). */
export interface InferTensorFacts {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly parameters: InferParameters;
}

/** What `decodeInferRequest` reads from a `ModelInferRequest`. */
export interface InferRequestFacts {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly id: string;
  readonly parameters: InferParameters;
  readonly inputs: readonly InferTensorFacts[];
  /** Names of the requested outputs; empty means the model's every output. */
  readonly requestedOutputs: readonly string[];
  readonly texts: readonly TextSpan[];
  /** First dimension of the first input's shape, when that input has a shape. */
  readonly batchSize: number | undefined;
}

/** What `decodeInferResponse` reads from a `ModelInferResponse`. */
export interface InferResponseFacts {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly id: string;
  readonly parameters: InferParameters;
  readonly outputs: readonly InferTensorFacts[];
  readonly texts: readonly TextSpan[];
  /** True when the bool parameter `triton_final_response` is true (last decoupled response). */
  readonly finalResponse: boolean;
}

/** What `decodeStreamInferResponse` reads from a `ModelStreamInferResponse`. */
export interface StreamInferResponseFacts {
  /** '' on success (Triton decoupled models). */
  readonly errorMessage: string;
  /** undefined when the message carries no `infer_response`. */
  readonly response: InferResponseFacts | undefined;
}

/**
 * Overwrites the bytes of `span` in `payload` with `replacement`, in place. The replacement
 * must have exactly the span's byte length so that no protobuf length prefix changes. Throws
 * `RangeError` on a length mismatch or a span outside `payload` (both are caller bugs).
 */
export function rewriteSpan(payload: Buffer, span: TextSpan, replacement: Buffer): void {
  const { start, end } = span;
  if (!(start >= 0 && start <= end && end <= payload.length)) {
    throw new RangeError(`span [${start}, ${end}) is outside a ${payload.length}-byte payload`);
  }
  if (replacement.length !== end - start) {
    throw new RangeError(
      `replacement of ${replacement.length} bytes does not fit a ${end - start}-byte span`,
    );
  }

  replacement.copy(payload, start);
}
