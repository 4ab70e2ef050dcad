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
  DEMO_CHAT_MODEL,
  DEMO_MODEL_VERSION,
  TEXT_INPUT,
  TEXT_OUTPUT,
  type DemoModelRegistry,
} from './demo-models';
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

/** What one validated request will produce. */
export interface InferencePlan {
  readonly request: ModelInferRequest;
  readonly input: BytesInput;
  /** Chat tokens; undefined for the echo model. */
  readonly tokens?: readonly string[];
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

/** Builds the chat tokens for a validated input; the prompt is the first element. */
function planChatTokens(request: ModelInferRequest, input: BytesInput): DemoResult<string[]> {
  const prompt = input.elements[0];
  if (prompt === undefined) {
    return fail(status.INVALID_ARGUMENT, `input '${TEXT_INPUT}' is empty`);
  }
  const limits = readTokenLimits(request);
  return limits.ok ? succeed(replyTokens(prompt, limits.value)) : limits;
}

/**
 * Validates a request against the registry and plans its output. Fails with NOT_FOUND for an
 * unknown model or version, UNAVAILABLE for an unloaded model, and INVALID_ARGUMENT for a
 * missing or mistyped `text_input`, a bad `max_tokens` or an unknown requested output.
 */
export function planInference(
  registry: DemoModelRegistry,
  request: ModelInferRequest,
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
  if (model.value.name !== DEMO_CHAT_MODEL) {
    return succeed({ request, input: input.value, emptyFinal });
  }
  const tokens = planChatTokens(request, input.value);
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

/** The whole output of a request: the joined chat reply, or the echoed input. */
function wholeOutput(plan: InferencePlan): ResponseOutputs {
  const { input, tokens } = plan;
  return tokens === undefined
    ? bytesOutput(TEXT_OUTPUT, input.elements, input.shape, input.raw)
    : bytesOutput(TEXT_OUTPUT, [Buffer.from(tokens.join(''))], [1], input.raw);
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
 * per chat token (only the last flagged final unless an empty final response was asked for),
 * or a single final response for the echo model.
 */
export function* streamResponses(plan: InferencePlan): Generator<ModelInferResponse> {
  const { input, tokens, emptyFinal } = plan;
  if (tokens === undefined) {
    yield streamResponse(plan, true, wholeOutput(plan));
    return;
  }
  for (const [index, token] of tokens.entries()) {
    const final = !emptyFinal && index === tokens.length - 1;
    yield streamResponse(
      plan,
      final,
      bytesOutput(TEXT_OUTPUT, [Buffer.from(token)], [1], input.raw),
    );
  }
  if (emptyFinal || tokens.length === 0) {
    yield streamResponse(plan, true);
  }
}
