// Plain-object shapes of the KServe messages the demo server reads and writes via proto-loader.

/**
 * int64 / uint64 values: proto-loader (longs: String) decodes them as decimal strings; numbers
 * are accepted when encoding.
 */
export type Int64Like = string | number;

/** `inference.InferParameter`; `parameter_choice` names the member that is set when decoded. */
export interface InferParameter {
  parameter_choice?: string;
  bool_param?: boolean;
  int64_param?: Int64Like;
  string_param?: string;
  double_param?: number;
  uint64_param?: Int64Like;
}

/** Request, response and tensor parameters by name. */
export type ParameterMap = Record<string, InferParameter>;

/** `inference.InferTensorContents`: typed tensor data, one repeated field per element type. */
export interface InferTensorContents {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: Int64Like[];
  uint_contents?: number[];
  uint64_contents?: Int64Like[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Buffer[];
}

/** `inference.ModelInferRequest.InferInputTensor`. */
export interface InferInputTensor {
  name: string;
  datatype: string;
  shape: Int64Like[];
  parameters?: ParameterMap;
  contents?: InferTensorContents | null;
}

/** `inference.ModelInferRequest.InferRequestedOutputTensor`. */
export interface InferRequestedOutputTensor {
  name: string;
  parameters?: ParameterMap;
}

/** `inference.ModelInferRequest`. */
export interface ModelInferRequest {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: ParameterMap;
  inputs?: InferInputTensor[];
  outputs?: InferRequestedOutputTensor[];
  raw_input_contents?: Buffer[];
}

/** `inference.ModelInferResponse.InferOutputTensor`. */
export interface InferOutputTensor {
  name: string;
  datatype: string;
  shape: Int64Like[];
  parameters?: ParameterMap;
  contents?: InferTensorContents | null;
}

/** `inference.ModelInferResponse`. */
export interface ModelInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  parameters?: ParameterMap;
  outputs?: InferOutputTensor[];
  raw_output_contents?: Buffer[];
}

/** `inference.ModelStreamInferResponse`: an error for one request, or one of its results. */
export interface ModelStreamInferResponse {
  error_message: string;
  infer_response?: ModelInferResponse | null;
}

/** Requests naming a model and an optional version (ModelReady, ModelMetadata, ...). */
export interface ModelRefRequest {
  name: string;
  version?: string;
}

/** `inference.ModelMetadataResponse.TensorMetadata`. */
export interface TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

/** `inference.StatisticDuration`. */
export interface StatisticDuration {
  count: Int64Like;
  ns: Int64Like;
}

/** `inference.RepositoryModelLoadRequest` / `RepositoryModelUnloadRequest`. */
export interface RepositoryModelRequest {
  repository_name?: string;
  model_name: string;
}

/** A gRPC failure to answer with: status code and a one-sentence message. */
export interface DemoFailure {
  code: number;
  details: string;
}

/** Either a value or the failure to answer instead. */
export type DemoResult<T> = { ok: true; value: T } | { ok: false; failure: DemoFailure };

/** Wraps a value as a successful result. */
export function succeed<T>(value: T): DemoResult<T> {
  return { ok: true, value };
}

/** Wraps a status code and message as a failed result. */
export function fail<T>(code: number, details: string): DemoResult<T> {
  return { ok: false, failure: { code, details } };
}
