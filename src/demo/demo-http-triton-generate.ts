// Triton's generate extension (generate extension): POST .../generate and the SSE
// .../generate_stream.

import { elapsedNs } from './demo-context';
import { holdForTokens, sendEventStream, sseData, type StreamStep } from './demo-http-event-stream';
import type { HttpExchange } from './demo-http-exchange';
import { planOrFail, recordFailure } from './demo-http-triton-infer';
import { generateRequestOf, type ModelPath } from './demo-http-triton-request';
import { DEMO_MODEL_VERSION } from './demo-models';

/** A planned generate request: the fields every answer repeats, and the text pieces. */
interface GenerateJob {
  readonly head: Record<string, string>;
  /** Chat tokens or `echo-stream` pieces, or the echoed `text_input` as a single piece. */
  readonly pieces: readonly string[];
}

/**
 * Reads and plans a generate request as ModelInfer would be (same validation, script and
 * limits; `parameters` and extra top-level fields are request parameters). Answers the failure
 * in Triton's shape and returns undefined: 400 for a malformed body or `text_input`, 404 for an
 * unknown model or version, 503 for an unloaded one.
 */
function planGenerate(
  exchange: HttpExchange,
  path: ModelPath,
  startedNs: bigint,
): GenerateJob | undefined {
  const body = exchange.jsonObject();
  if (body === undefined) {
    return undefined;
  }
  const request = generateRequestOf(path, body);
  if (!request.ok) {
    recordFailure(exchange, path, startedNs);
    exchange.failWith(request.failure);
    return undefined;
  }
  const plan = planOrFail(exchange, path, startedNs, request.value);
  if (plan === undefined) {
    return undefined;
  }

  const pieces = (plan.tokens ?? plan.input.elements).map((piece) => piece.toString('utf8'));
  const id = request.value.id ?? '';
  const head = {
    ...(id === '' ? {} : { id }),
    model_name: path.model,
    model_version: DEMO_MODEL_VERSION,
  };
  return { head, pieces };
}

/** One event per piece, built as the stream goes so that a departed client stops it. */
function* generateSteps(job: GenerateJob): Generator<StreamStep> {
  for (const piece of job.pieces) {
    yield { text: sseData({ ...job.head, text_output: piece }), token: true };
  }
}

/**
 * POST .../generate: one JSON answer `{id?, model_name, model_version, text_output}` with the
 * whole reply (or the echoed text), held for the reply's generation time.
 */
export async function handleGenerate(exchange: HttpExchange, path: ModelPath): Promise<void> {
  const startedNs = process.hrtime.bigint();
  const job = planGenerate(exchange, path, startedNs);
  if (job === undefined || !(await holdForTokens(exchange, job.pieces.length))) {
    return;
  }
  exchange.context.registry.record(path.model, true, elapsedNs(startedNs));
  exchange.sendJson(200, { ...job.head, text_output: job.pieces.join('') });
}

/**
 * POST .../generate_stream: one SSE `data:` event per token, each the generate answer with that
 * token as `text_output` (`echo`, which is not decoupled, sends one event with the whole text;
 * `echo-stream` one per piece). Failures before the stream starts are plain JSON errors.
 */
export async function handleGenerateStream(exchange: HttpExchange, path: ModelPath): Promise<void> {
  const startedNs = process.hrtime.bigint();
  const job = planGenerate(exchange, path, startedNs);
  if (job === undefined) {
    return;
  }
  if (await sendEventStream(exchange, generateSteps(job))) {
    exchange.context.registry.record(path.model, true, elapsedNs(startedNs));
  }
}
