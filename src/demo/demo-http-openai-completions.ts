// POST /v1/chat/completions and /v1/completions: whole answers and SSE chunk streams (OpenAI
// streaming).

import {
  holdForTokens,
  sendEventStream,
  sseData,
  SSE_DONE,
  type StreamStep,
} from './demo-http-event-stream';
import type { HttpExchange } from './demo-http-exchange';
import {
  countTokens,
  longestChoice,
  planChoices,
  usageOf,
  type ChoicePlan,
  type TokenUsage,
} from './demo-http-generation';
import { completionPrompts, conversationText, lastUserText } from './demo-http-openai-prompts';
import {
  answerFault,
  openOpenAiRequest,
  readChoiceCount,
  readDelivery,
  readLimits,
  type DeliveryOptions,
  type OpenAiRequest,
} from './demo-http-openai-request';

/** How chat completions and text completions differ on the wire. */
interface CompletionWire {
  readonly idPrefix: string;
  /** `object` of a whole answer. */
  readonly object: string;
  /** `object` of a stream chunk. */
  readonly chunkObject: string;
  wholeChoice(choice: ChoicePlan): object;
  /** The choice of the chunk that opens a choice's stream, where the wire has one. */
  openingChoice?(index: number): object;
  tokenChoice(index: number, token: string): object;
  closingChoice(choice: ChoicePlan): object;
}

/** Chat: `message` / `delta` objects; each choice's stream opens with the role (as vLLM). */
const CHAT_WIRE: CompletionWire = Object.freeze({
  idPrefix: 'chatcmpl-',
  object: 'chat.completion',
  chunkObject: 'chat.completion.chunk',
  wholeChoice: (choice: ChoicePlan) => ({
    index: choice.index,
    message: { role: 'assistant', content: choice.tokens.join(''), tool_calls: [] },
    logprobs: null,
    finish_reason: choice.finishReason,
    stop_reason: null,
  }),
  openingChoice: (index: number) => ({
    index,
    delta: { role: 'assistant', content: '' },
    logprobs: null,
    finish_reason: null,
  }),
  tokenChoice: (index: number, token: string) => ({
    index,
    delta: { content: token },
    logprobs: null,
    finish_reason: null,
  }),
  closingChoice: (choice: ChoicePlan) => ({
    index: choice.index,
    delta: {},
    logprobs: null,
    finish_reason: choice.finishReason,
    stop_reason: null,
  }),
});

/** Text completions: `choices[].text` in whole answers and chunks alike. */
const TEXT_WIRE: CompletionWire = Object.freeze({
  idPrefix: 'cmpl-',
  object: 'text_completion',
  chunkObject: 'text_completion',
  wholeChoice: (choice: ChoicePlan) => textChoice(choice.index, choice.tokens.join(''), choice),
  tokenChoice: (index: number, token: string) => textChoice(index, token),
  closingChoice: (choice: ChoicePlan) => textChoice(choice.index, '', choice),
});

/** A text completion choice; finished when `finished` is given. */
function textChoice(index: number, text: string, finished?: ChoicePlan): object {
  return {
    index,
    text,
    logprobs: null,
    finish_reason: finished?.finishReason ?? null,
    stop_reason: null,
  };
}

/** A validated completion request: the choices to generate and how to deliver them. */
interface CompletionJob {
  readonly model: string;
  readonly choices: ChoicePlan[];
  readonly promptTokens: number;
  readonly delivery: DeliveryOptions;
}

/** Fields every chunk of one stream repeats. */
interface ChunkHead {
  readonly id: string;
  readonly created: number;
  readonly model: string;
}

/**
 * POST /v1/chat/completions. The prompt is the last user message's text; prompt tokens count
 * every message. Answers 400 for a missing `messages` or a malformed option, 404 for a model
 * that is not served.
 */
export async function handleChatCompletions(exchange: HttpExchange): Promise<void> {
  const request = openOpenAiRequest(exchange);
  if (request === undefined) {
    return;
  }
  const messages = request.fields.array('messages') ?? [];
  if (messages.length === 0) {
    request.fields.reject('messages', "'messages' must be a non-empty list of messages");
  }

  const prompt = lastUserText(messages);
  const promptTokens = countTokens(conversationText(messages));
  const maxFields = ['max_completion_tokens', 'max_tokens'];
  const job = readJob(exchange, request, [prompt], promptTokens, maxFields);
  if (job !== undefined) {
    await answerCompletion(exchange, CHAT_WIRE, job);
  }
}

/**
 * POST /v1/completions. Each prompt (string, strings or token ids) gets `n` choices. Answers
 * 400 for a malformed prompt or option, 404 for a model that is not served.
 */
export async function handleCompletions(exchange: HttpExchange): Promise<void> {
  const request = openOpenAiRequest(exchange);
  if (request === undefined) {
    return;
  }
  const { vocabulary } = exchange.context;
  const found = completionPrompts(request.fields.value('prompt'), vocabulary);
  if (!found.ok) {
    request.fields.reject('prompt', found.message);
  }

  const prompts = found.ok ? found.prompts : [];
  const promptTokens = prompts.reduce((sum, prompt) => sum + countTokens(prompt), 0);
  const job = readJob(exchange, request, prompts, promptTokens, ['max_tokens']);
  if (job !== undefined) {
    await answerCompletion(exchange, TEXT_WIRE, job);
  }
}

/** Reads the options, answers the first fault, and only then plans the choices. */
function readJob(
  exchange: HttpExchange,
  request: OpenAiRequest,
  prompts: readonly string[],
  promptTokens: number,
  maxFields: readonly string[],
): CompletionJob | undefined {
  const { fields, model } = request;
  const n = readChoiceCount(fields, prompts.length);
  const limits = readLimits(fields, maxFields);
  const delivery = readDelivery(fields);
  if (answerFault(exchange, fields)) {
    return undefined;
  }
  return { model, choices: planChoices(model, prompts, n, limits), promptTokens, delivery };
}

/** Streams the job, or holds it for its generation time and answers it whole. */
async function answerCompletion(
  exchange: HttpExchange,
  wire: CompletionWire,
  job: CompletionJob,
): Promise<void> {
  const head: ChunkHead = {
    id: exchange.context.nextId(wire.idPrefix),
    created: Math.floor(Date.now() / 1000),
    model: job.model,
  };
  if (job.delivery.stream) {
    await sendEventStream(exchange, completionSteps(wire, job, head));
    return;
  }

  if (!(await holdForTokens(exchange, longestChoice(job.choices)))) {
    return;
  }
  const choices = job.choices.map((choice) => wire.wholeChoice(choice));
  const usage = usageOf(job.promptTokens, job.choices);
  const { id, created, model } = head;
  exchange.sendJson(200, { id, object: wire.object, created, model, choices, usage });
}

/**
 * The stream's steps: opening chunks, then one step per token position holding a chunk per
 * choice that has a token there (choices interleaved by index), closing chunks with the
 * finish reasons, the usage chunk when asked for, and `[DONE]`.
 */
function* completionSteps(
  wire: CompletionWire,
  job: CompletionJob,
  head: ChunkHead,
): Generator<StreamStep> {
  const { id, created, model } = head;
  const chunk = (choices: object[], usage?: TokenUsage): string =>
    sseData({ id, object: wire.chunkObject, created, model, choices, usage });
  const { choices } = job;
  const positions = longestChoice(choices);

  if (wire.openingChoice !== undefined) {
    const opening = wire.openingChoice;
    yield { text: choices.map((choice) => chunk([opening(choice.index)])).join(''), token: false };
  }
  for (let position = 0; position < positions; position += 1) {
    const text = choices
      .filter((choice) => position < choice.tokens.length)
      .map((choice) => chunk([wire.tokenChoice(choice.index, choice.tokens[position] ?? '')]))
      .join('');
    yield { text, token: true };
  }
  yield {
    text: choices.map((choice) => chunk([wire.closingChoice(choice)])).join(''),
    token: false,
  };
  if (job.delivery.includeUsage) {
    yield { text: chunk([], usageOf(job.promptTokens, choices)), token: false };
  }
  yield { text: SSE_DONE, token: false };
}
