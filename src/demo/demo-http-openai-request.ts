// What every OpenAI-compatible route of the demo HTTP server reads: body, model, limits, options.

import type { HttpExchange } from './demo-http-exchange';
import type { GenerationOptions } from './demo-http-generation';
import { FieldReader } from './demo-http-request-fields';

/** Most choices one request may ask for (prompts × n), to bound the work of one exchange. */
export const MAX_CHOICES = 64;

/** Extra body field asking for exactly this many tokens per choice, as on the gRPC side. */
export const DEMO_TOKENS_FIELD = 'demo_tokens';

/**
 * Extra body field (an integer of at least 1) asking the echo models for pieces of that many
 * Unicode code points instead of words. Over HTTP it counts code points, not bytes as the
 * gRPC parameter of the same name does: a JSON string cannot carry part of a character.
 */
export const DEMO_TOKEN_BYTES_FIELD = 'demo_token_bytes';

/** A parsed OpenAI-style request naming a ready model. */
export interface OpenAiRequest {
  readonly fields: FieldReader;
  readonly model: string;
}

/** How a generation request wants its answer delivered. */
export interface DeliveryOptions {
  readonly stream: boolean;
  /** Send a usage chunk before `[DONE]` (stream_options.include_usage, OpenAI streaming). */
  readonly includeUsage: boolean;
}

/**
 * Parses the body and resolves its `model`; vLLM makes `model` optional and so does the demo
 * (the first served model). Answers 400 for a malformed body or `model`, 404 NotFoundError for
 * a model that is not served, and returns undefined in both cases.
 */
export function openOpenAiRequest(exchange: HttpExchange): OpenAiRequest | undefined {
  const body = exchange.jsonObject();
  if (body === undefined) {
    return undefined;
  }
  const fields = new FieldReader(body);
  const { registry } = exchange.context;

  const model = fields.string('model') ?? registry.names()[0] ?? '';
  if (answerFault(exchange, fields)) {
    return undefined;
  }
  if (!registry.isReady(model)) {
    exchange.fail(404, `The model \`${model}\` does not exist.`, { param: 'model' });
    return undefined;
  }
  return { fields, model };
}

/** Answers 400 BadRequestError naming the reader's first fault; true when it did. */
export function answerFault(exchange: HttpExchange, fields: FieldReader): boolean {
  const { fault } = fields;
  if (fault === undefined) {
    return false;
  }
  exchange.fail(400, fault.message, { param: fault.param });
  return true;
}

/**
 * Token limits from `demo_tokens` and the first present of `maxFields` (e.g.
 * `max_completion_tokens` before the deprecated `max_tokens`, as vLLM reads them), and the
 * echo models' piece size from `demo_token_bytes`.
 */
export function readLimits(fields: FieldReader, maxFields: readonly string[]): GenerationOptions {
  const exactTokens = fields.integer(DEMO_TOKENS_FIELD);
  const maxTokens = maxFields
    .map((name) => fields.integer(name))
    .find((value) => value !== undefined);
  const pieceCodePoints = fields.integer(DEMO_TOKEN_BYTES_FIELD, 1);
  return { exactTokens, maxTokens, pieceCodePoints };
}

/**
 * `stream` and `stream_options.include_usage`. As in vLLM, a given `stream_options` object
 * means usage unless `include_usage` is false.
 */
export function readDelivery(fields: FieldReader): DeliveryOptions {
  const stream = fields.boolean('stream') ?? false;
  const options = fields.record('stream_options');
  const includeUsage = options !== undefined && options.include_usage !== false;
  return { stream, includeUsage: stream && includeUsage };
}

/** `n` (choices per prompt, default 1); records a fault past `MAX_CHOICES` in all. */
export function readChoiceCount(fields: FieldReader, prompts: number): number {
  const n = fields.integer('n', 1) ?? 1;
  if (n * prompts > MAX_CHOICES) {
    fields.reject('n', `the demo server answers at most ${MAX_CHOICES} choices per request`);
  }
  return n;
}
