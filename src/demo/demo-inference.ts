// Turns one inference request into the demo models' responses, for unary and streamed calls.

import { status } from '@grpc/grpc-js';
import {
  bytesOutput,
  readBytesInput,
  readCountInput,
  type BytesInput,
  type ResponseOutputs,
} from './bytes-tensor';
import {
  DEMO_MODEL_VERSION,
  ECHO_MODEL,
  ECHO_STREAM_MODEL,
  TEXT_INPUT,
  TEXT_OUTPUT,
  type DemoModelRegistry,
} from './demo-models';
import { echoPieces, type PieceUnit } from './echo-pieces';
import {
  fail,
  succeed,
  type DemoResult,
  type ModelInferRequest,
  type ModelInferResponse,
  type ParameterMap,
} from './kserve-messages';
import { replyTokens, type TokenLimits } from './reply-script';

/** Response parameter marking the last response of a decoupled request (Triton decoupled). */
export const FINAL_RESPONSE_PARAMETER = 'triton_final_response';

/** Request parameter asking for an extra empty response that carries the final flag. */
export const EMPTY_FINAL_PARAMETER = 'triton_enable_empty_final_response';

/** Request parameter (int64) asking the chat model for exactly that many tokens. */
export const DEMO_TOKENS_PARAMETER = 'demo_tokens';

/** Request input (INT32 / UINT32) or parameter (int64) capping the number of tokens. */
export const MAX_TOKENS_NAME = 'max_tokens';

/**
 * Request parameter (int64, at least 1) asking `echo-stream` for pieces of that many units of
 * the prompt instead of words: bytes on gRPC, code points over HTTP (see `PieceUnit`).
 */
export const DEMO_TOKEN_BYTES_PARAMETER = 'demo_token_bytes';

/** What one validated request will produce. */
export interface InferencePlan {
  readonly request: ModelInferRequest;
  readonly input: BytesInput;
  /** The streamed pieces: chat tokens or `echo-stream` pieces; undefined for `echo`. */
  readonly tokens?: readonly Buffer[];
  readonly emptyFinal: boolean;
}

/** A non-negative integer request parameter (int64 or uint64 form), if present. */
function countParameter(parameters: ParameterMap | undefined, name: string): number | undefined {
  const parameter = parameters?.[name];
  const value = parameter?.int64_param ?? parameter?.uint64_param;
  return value === undefined ? undefined : Math.max(0, Number(value));
}

/** Token limits from the `demo_tokens` parameter and the `max_tokens` input or parameter. */
function readTokenLimits(request: ModelInferRequest): DemoResult<TokenLimits> {
  const maxInput = readCountInput(request, MAX_TOKENS_NAME);
  if (!maxInput.ok) {
    return maxInput;
  }
  const exactTokens = countParameter(request.parameters, DEMO_TOKENS_PARAMETER);
  const maxTokens = maxInput.value ?? countParameter(request.parameters, MAX_TOKENS_NAME);
  return succeed({ exactTokens, maxTokens });
}

/** Fails with INVALID_ARGUMENT when the request asks for an output the model lacks. */
function checkRequestedOutputs(request: ModelInferRequest): DemoResult<void> {
  const unknown = (request.outputs ?? []).find((output) => output.name !== TEXT_OUTPUT);
  if (unknown !== undefined) {
    return fail(
      status.INVALID_ARGUMENT,
      `unexpected inference output '${unknown.name}' for model '${request.model_name}'`,
    );
  }
  return succeed(undefined);
}

/** The `demo_token_bytes` piece size; INVALID_ARGUMENT unless it is an integer of at least 1. */
function readPieceSize(request: ModelInferRequest): DemoResult<number | undefined> {
  const parameter = request.parameters?.[DEMO_TOKEN_BYTES_PARAMETER];
  if (parameter === undefined) {
    return succeed(undefined);
  }
  const value = parameter.int64_param ?? parameter.uint64_param;
  const size = Number(value);
  if (value !== undefined && Number.isSafeInteger(size) && size >= 1) {
    return succeed(size);
  }
  const given = value ?? parameter.string_param ?? parameter.double_param ?? parameter.bool_param;
  return fail(
    status.INVALID_ARGUMENT,
    `parameter '${DEMO_TOKEN_BYTES_PARAMETER}' must be an integer of at least 1, not ${String(given)}`,
  );
}

/** The pieces `echo-stream` streams for a prompt, cut as the request asks. */
function planEchoPieces(
  request: ModelInferRequest,
  prompt: Buffer,
  limits: TokenLimits,
  unit: PieceUnit,
): DemoResult<Buffer[]> {
  const pieceSize = readPieceSize(request);
  return pieceSize.ok ? succeed(echoPieces(prompt, pieceSize.value, unit, limits)) : pieceSize;
}

/** Builds the streamed pieces for a validated input; the prompt is the first element. */
function planTokens(
  request: ModelInferRequest,
  input: BytesInput,
  unit: PieceUnit,
): DemoResult<Buffer[]> {
  const prompt = input.elements[0];
  if (prompt === undefined) {
    return fail(status.INVALID_ARGUMENT, `input '${TEXT_INPUT}' is empty`);
  }
  const limits = readTokenLimits(request);
  if (!limits.ok) {
    return limits;
  }

  if (request.model_name === ECHO_STREAM_MODEL) {
    return planEchoPieces(request, prompt, limits.value, unit);
  }
  return succeed(replyTokens(prompt, limits.value).map((token) => Buffer.from(token)));
}

/**
 * Validates a request against the registry and plans its output; `unit` is what a unit of
 * `demo_token_bytes` counts on the caller's protocol. Fails with NOT_FOUND for an unknown model
 * or version, UNAVAILABLE for an unloaded model, and INVALID_ARGUMENT for a missing or
 * mistyped `text_input`, a bad `max_tokens` or `demo_token_bytes`, or an unknown requested
 * output.
 */
export function planInference(
  registry: DemoModelRegistry,
  request: ModelInferRequest,
  unit: PieceUnit = 'byte',
): DemoResult<InferencePlan> {
  const model = registry.resolveReady(request.model_name, request.model_version ?? '');
  if (!model.ok) {
    return model;
  }
  const outputs = checkRequestedOutputs(request);
  if (!outputs.ok) {
    return outputs;
  }
  const input = readBytesInput(request, TEXT_INPUT);
  if (!input.ok) {
    return input;
  }

  const emptyFinal = request.parameters?.[EMPTY_FINAL_PARAMETER]?.bool_param === true;
  if (model.value.name === ECHO_MODEL) {
    return succeed({ request, input: input.value, emptyFinal });
  }
  const tokens = planTokens(request, input.value, unit);
  return tokens.ok
    ? succeed({ request, input: input.value, tokens: tokens.value, emptyFinal })
    : tokens;
}

/** The response fields every response to `request` shares. */
function responseHeader(request: ModelInferRequest): ModelInferResponse {
  return {
    model_name: request.model_name,
    model_version: DEMO_MODEL_VERSION,
    id: request.id ?? '',
  };
}

/** The whole output of a request: the joined pieces, or the echoed input. */
function wholeOutput(plan: InferencePlan): ResponseOutputs {
  const { input, tokens } = plan;
  return tokens === undefined
    ? bytesOutput(TEXT_OUTPUT, input.elements, input.shape, input.raw)
    : bytesOutput(TEXT_OUTPUT, [Buffer.concat(tokens)], [1], input.raw);
}

/** The single response of a unary call; output in the form (raw or typed) the input used. */
export function unaryResponse(plan: InferencePlan): ModelInferResponse {
  return { ...responseHeader(plan.request), ...wholeOutput(plan) };
}

/** A streamed response, flagged final or not, carrying one text element or nothing. */
function streamResponse(
  plan: InferencePlan,
  final: boolean,
  output?: ResponseOutputs,
): ModelInferResponse {
  return {
    ...responseHeader(plan.request),
    parameters: { [FINAL_RESPONSE_PARAMETER]: { bool_param: final } },
    ...(output ?? { outputs: [], raw_output_contents: [] }),
  };
}

/**
 * The streamed responses of a request, built lazily so a cancelled stream stops at once: one
 * per piece (only the last flagged final unless an empty final response was asked for), or a
 * single final response for the echo model.
 */
export function* streamResponses(plan: InferencePlan): Generator<ModelInferResponse> {
  const { input, tokens, emptyFinal } = plan;
  if (tokens === undefined) {
    yield streamResponse(plan, true, wholeOutput(plan));
    return;
  }
  for (const [index, token] of tokens.entries()) {
    const final = !emptyFinal && index === tokens.length - 1;
    yield streamResponse(plan, final, bytesOutput(TEXT_OUTPUT, [token], [1], input.raw));
  }
  if (emptyFinal || tokens.length === 0) {
    yield streamResponse(plan, true);
  }
}
