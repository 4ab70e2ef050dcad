// POST /v2/models/{m}[/versions/{v}]/infer, in JSON and with binary tensor data.

import { elapsedNs } from './demo-context';
import { holdForTokens } from './demo-http-event-stream';
import type { HttpExchange } from './demo-http-exchange';
import {
  encodeInferResponse,
  INFERENCE_HEADER_LENGTH,
  splitInferenceBody,
  wantsBinary,
  type BytesOutputTensor,
} from './demo-http-triton-binary';
import { inferRequestOf, type ModelPath } from './demo-http-triton-request';
import { planInference, unaryResponse, type InferencePlan } from './demo-inference';
import type { ModelInferRequest, ModelInferResponse } from './kserve-messages';

/** The BYTES outputs of a (typed) unary response. */
function bytesOutputs(response: ModelInferResponse): BytesOutputTensor[] {
  return (response.outputs ?? []).map((output) => ({
    name: output.name,
    shape: output.shape.map(Number),
    elements: output.contents?.bytes_contents ?? [],
  }));
}

/** Counts a failed request in the statistics of the model it named, when that model exists. */
export function recordFailure(exchange: HttpExchange, path: ModelPath, startedNs: bigint): void {
  const { registry } = exchange.context;
  if (registry.resolve(path.model).ok) {
    registry.record(path.model, false, elapsedNs(startedNs));
  }
}

/**
 * Plans a request the way ModelInfer does on the gRPC side (same validation, same script and
 * limits), except that `demo_token_bytes` counts code points: the pieces travel as JSON strings,
 * which cannot hold part of a character. Answers the failure in Triton's shape and counts it.
 * Undefined when it failed.
 */
export function planOrFail(
  exchange: HttpExchange,
  path: ModelPath,
  startedNs: bigint,
  request: ModelInferRequest,
): InferencePlan | undefined {
  const plan = planInference(exchange.context.registry, request, 'codePoint');
  if (plan.ok) {
    return plan.value;
  }
  recordFailure(exchange, path, startedNs);
  exchange.failWith(plan.failure);
  return undefined;
}

/**
 * POST .../infer (KServe v2 REST, binary data extension). Inputs may be JSON data or binary chunks;
 * outputs come back as
 * JSON or binary as each requests. The chat model answers with its whole reply, held for the
 * reply's generation time like ModelInfer. Answers 404 for an unknown model or version, 503
 * for an unloaded one, and 400 for a malformed body or input.
 */
export async function handleTritonInfer(exchange: HttpExchange, path: ModelPath): Promise<void> {
  const startedNs = process.hrtime.bigint();
  const headerLength = exchange.request.headers[INFERENCE_HEADER_LENGTH];
  const split = splitInferenceBody(exchange.bodyBytes, headerLength?.toString(), (bytes) =>
    exchange.jsonObject(bytes),
  );
  if (!split.ok) {
    exchange.failWith(split.failure);
    return;
  }
  if (split.value === undefined) {
    return;
  }

  const { header, binary } = split.value;
  const request = inferRequestOf(path, header, binary);
  if (!request.ok) {
    recordFailure(exchange, path, startedNs);
    exchange.failWith(request.failure);
    return;
  }
  const plan = planOrFail(exchange, path, startedNs, request.value);
  if (plan === undefined || !(await holdForTokens(exchange, plan.tokens?.length ?? 0))) {
    return;
  }

  exchange.context.registry.record(path.model, true, elapsedNs(startedNs));
  const response = unaryResponse(plan);
  const head = {
    model_name: response.model_name,
    model_version: response.model_version,
    ...(response.id === '' ? {} : { id: response.id }),
  };
  const encoded = encodeInferResponse(head, bytesOutputs(response), (name) =>
    wantsBinary(header, name),
  );
  exchange.sendBytes(200, encoded.body, encoded.headers);
}
