// POST /v1/responses: a whole Response object, or its typed event stream (Responses streaming).

import {
  holdForTokens,
  sendEventStream,
  sseEvent,
  type StreamStep,
} from './demo-http-event-stream';
import type { HttpExchange } from './demo-http-exchange';
import { countTokens, generate, type FinishReason } from './demo-http-generation';
import { responsesPrompt } from './demo-http-openai-prompts';
import { answerFault, openOpenAiRequest, readLimits } from './demo-http-openai-request';

/** Lifecycle states a demo Response goes through. */
type ResponseStatus = 'in_progress' | 'completed' | 'incomplete';

/** A validated Responses request and what it generates. */
interface ResponseJob {
  readonly id: string;
  readonly itemId: string;
  readonly createdAt: number;
  readonly model: string;
  readonly tokens: readonly string[];
  readonly finishReason: FinishReason;
  readonly promptTokens: number;
  readonly maxOutputTokens: number | null;
}

/** Locates the one text part every demo answer has: first content of the first output item. */
const TEXT_PART_LOCATOR = Object.freeze({ output_index: 0, content_index: 0 });

/**
 * POST /v1/responses. The prompt is `input` (a string, or the last user item of a list);
 * `max_output_tokens` cuts the answer, which then ends `incomplete`. Answers 400 for a
 * malformed `input` or option, 404 for a model that is not served.
 */
export async function handleResponses(exchange: HttpExchange): Promise<void> {
  const request = openOpenAiRequest(exchange);
  if (request === undefined) {
    return;
  }
  const { fields, model } = request;
  const prompt = responsesPrompt(fields.value('input'));
  if (prompt === undefined) {
    fields.reject('input', "'input' must be a string or a list of input items");
  }
  const limits = readLimits(fields, ['max_output_tokens']);
  const stream = fields.boolean('stream') ?? false;
  if (answerFault(exchange, fields)) {
    return;
  }

  const { tokens, finishReason } = generate(model, prompt ?? '', limits);
  const job: ResponseJob = {
    id: exchange.context.nextId('resp_'),
    itemId: exchange.context.nextId('msg_'),
    createdAt: Math.floor(Date.now() / 1000),
    model,
    tokens,
    finishReason,
    promptTokens: countTokens(prompt ?? ''),
    maxOutputTokens: limits.maxTokens ?? null,
  };
  await answerResponse(exchange, job, stream);
}

/** Streams the answer, or holds it for its generation time and answers it whole. */
async function answerResponse(
  exchange: HttpExchange,
  job: ResponseJob,
  stream: boolean,
): Promise<void> {
  if (stream) {
    await sendEventStream(exchange, responseSteps(job));
    return;
  }
  if (await holdForTokens(exchange, job.tokens.length)) {
    exchange.sendJson(200, responseObject(job, finalStatus(job), job.tokens.join('')));
  }
}

/** 'incomplete' when `max_output_tokens` cut the answer, else 'completed'. */
function finalStatus(job: ResponseJob): ResponseStatus {
  return job.finishReason === 'length' ? 'incomplete' : 'completed';
}

/** An output_text content part. */
function textPart(text: string): object {
  return { type: 'output_text', text, annotations: [], logprobs: [] };
}

/** The assistant message output item; no content while in progress and before any text. */
function messageItem(job: ResponseJob, status: ResponseStatus, text?: string): object {
  const content = text === undefined ? [] : [textPart(text)];
  return { id: job.itemId, type: 'message', status, role: 'assistant', content };
}

/** The Response object; usage and output only once the answer is done. */
function responseObject(job: ResponseJob, status: ResponseStatus, text?: string): object {
  const done = status !== 'in_progress';
  const outputTokens = job.tokens.length;
  return {
    id: job.id,
    object: 'response',
    created_at: job.createdAt,
    status,
    model: job.model,
    output: done ? [messageItem(job, status, text)] : [],
    error: null,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    instructions: null,
    max_output_tokens: job.maxOutputTokens,
    parallel_tool_calls: true,
    temperature: 1,
    top_p: 1,
    tool_choice: 'auto',
    tools: [],
    text: { format: { type: 'text' } },
    truncation: 'disabled',
    metadata: {},
    usage: done
      ? {
          input_tokens: job.promptTokens,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: outputTokens,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: job.promptTokens + outputTokens,
        }
      : null,
  };
}

/**
 * The event stream, as OpenAI sends it: created, in_progress, the output item and its text
 * part opened, one `response.output_text.delta` per token, then text, part and item done and
 * the terminal `response.completed` (or `response.incomplete`). Every event carries `type` and
 * a `sequence_number` counting from 0.
 */
function* responseSteps(job: ResponseJob): Generator<StreamStep> {
  let sequence = 0;
  const step = (type: string, fields: object, token = false): StreamStep => {
    const text = sseEvent(type, { type, sequence_number: sequence, ...fields });
    sequence += 1;
    return { text, token };
  };
  const part = { item_id: job.itemId, ...TEXT_PART_LOCATOR };
  const status = finalStatus(job);
  const text = job.tokens.join('');

  yield step('response.created', { response: responseObject(job, 'in_progress') });
  yield step('response.in_progress', { response: responseObject(job, 'in_progress') });
  yield step('response.output_item.added', {
    output_index: 0,
    item: messageItem(job, 'in_progress'),
  });
  yield step('response.content_part.added', { ...part, part: textPart('') });
  for (const token of job.tokens) {
    yield step('response.output_text.delta', { ...part, delta: token, logprobs: [] }, true);
  }
  yield step('response.output_text.done', { ...part, text, logprobs: [] });
  yield step('response.content_part.done', { ...part, part: textPart(text) });
  yield step('response.output_item.done', {
    output_index: 0,
    item: messageItem(job, status, text),
  });
  yield step(`response.${status}`, { response: responseObject(job, status, text) });
}
