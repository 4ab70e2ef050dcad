// Decodes the facts and model-output text spans of OpenAI-protocol responses: whole JSON bodies
// (OpenAI error object) and the SSE events of streamed ones.

import { isProxyError, ProxyError } from '../errors/proxy-error';
import { JsonPathSet } from './json-path';
import { scanJson, type JsonScanOptions } from './json-text-scanner';
import {
  ResponseScan,
  type OpenAIEventFacts,
  type OpenAIResponseFacts,
} from './openai-response-facts';
import type { OpenAIOperation, OpenAIStreamOperation } from './openai-routes';
import type { SseByteRange, SseEventBytes } from './sse-event';

export type {
  OpenAIEventFacts,
  OpenAIFinish,
  OpenAIResponseFacts,
  OpenAITextSpan,
  OpenAIUsage,
} from './openai-response-facts';

/** Error texts may echo the prompt (a validation error quoting its input), so they are text. */
const ERROR_TEXTS = ['error.message', 'message', 'response.error.message'];

/** Chat message fields that carry model output, under `prefix` (`delta` or `message`). */
function chatOutputTexts(prefix: string): string[] {
  return [
    `choices.*.${prefix}.content`,
    `choices.*.${prefix}.refusal`,
    `choices.*.${prefix}.reasoning`,
    `choices.*.${prefix}.reasoning_content`,
    `choices.*.${prefix}.tool_calls.*.function.arguments`,
    `choices.*.${prefix}.function_call.arguments`,
  ];
}

/** Output item fields of the Responses API, under `prefix` (`output.*`, `item`, ...). */
function responseItemTexts(prefix: string): string[] {
  return [
    `${prefix}.content.*.text`,
    `${prefix}.content.*.refusal`,
    `${prefix}.summary.*.text`,
    `${prefix}.arguments`,
    `${prefix}.input`,
    `${prefix}.code`,
  ];
}

// Every field that carries model output. Threat: a field left out here reaches the client
// unmasked, so a card number the model writes there escapes masking.
// Limitation: logprobs (`choices[].logprobs.content[].token`, `top_logprobs`, `bytes`) repeat the
// output token by token and are not reported as text, so a masked number stays readable there;
// a route that masks output must refuse `logprobs` / `top_logprobs` requests.
const STREAM_TEXT_PATHS: Readonly<Record<OpenAIStreamOperation, JsonPathSet>> = {
  'chat.completions': new JsonPathSet([...chatOutputTexts('delta'), ...ERROR_TEXTS]),
  completions: new JsonPathSet(['choices.*.text', ...ERROR_TEXTS]),
  // Responses streaming: text deltas (`delta`) and done events (`text`, `refusal`, `arguments`,
  // ...) carry text
  // at the top level; part, item and whole-response events repeat it nested.
  responses: new JsonPathSet([
    ...['delta', 'text', 'refusal', 'arguments', 'input', 'code', 'transcript'],
    ...['part.text', 'part.refusal', 'response.instructions'],
    ...responseItemTexts('item'),
    ...responseItemTexts('response.output.*'),
    ...ERROR_TEXTS,
  ]),
};

const BODY_TEXT_PATHS: Readonly<Record<OpenAIOperation, JsonPathSet>> = {
  'chat.completions': new JsonPathSet([...chatOutputTexts('message'), ...ERROR_TEXTS]),
  completions: new JsonPathSet(['choices.*.text', ...ERROR_TEXTS]),
  responses: new JsonPathSet([...responseItemTexts('output.*'), 'instructions', ...ERROR_TEXTS]),
  tokenize: new JsonPathSet(['token_strs.*', ...ERROR_TEXTS]),
  detokenize: new JsonPathSet(['prompt', ...ERROR_TEXTS]),
  embeddings: new JsonPathSet(ERROR_TEXTS),
  models: new JsonPathSet(ERROR_TEXTS),
  health: new JsonPathSet(ERROR_TEXTS),
  version: new JsonPathSet(ERROR_TEXTS),
};

const TERMINAL_EVENT_TYPES: ReadonlySet<string> = new Set([
  'response.completed',
  'response.incomplete',
  'response.failed',
]);

const DONE = Buffer.from('[DONE]');

const NO_FACTS: OpenAIResponseFacts = {
  error: false,
  texts: [],
  usage: undefined,
  finishReasons: [],
  eventType: undefined,
};

/**
 * Decodes one SSE event of a chat, completions or Responses stream; span offsets are relative to
 * `event.bytes`. An event without data (a comment, an `id:`-only block) or with empty data has no
 * facts; data starting with `[DONE]` is the terminator, as the OpenAI SDK reads it. With several
 * data lines the JSON is their LF-join (WHATWG HTML §9.2.6); a JSON string cannot hold a raw LF,
 * so each span still lies inside one line and maps onto the event's bytes exactly. Throws
 * ProxyError `ERR_UPSTREAM_PROTOCOL` (cause: the scanner's error) when the data is not JSON:
 * text the codec cannot read must not be relayed unmasked.
 */
export function decodeOpenAIEvent(
  event: SseEventBytes,
  operation: OpenAIStreamOperation,
  options?: JsonScanOptions,
): OpenAIEventFacts {
  const { json, toWire } = eventJson(event);
  const done = json.subarray(0, DONE.length).equals(DONE);
  if (done || isBlank(json)) return { ...NO_FACTS, done, terminal: done, endedStreams: [] };

  const scan = new ResponseScan(json, STREAM_TEXT_PATHS[operation], toWire, true);
  const facts = runScan(json, scan, options);
  const terminal = facts.eventType !== undefined && TERMINAL_EVENT_TYPES.has(facts.eventType);
  return { ...facts, done: false, terminal, endedStreams: scan.endedStreams() };
}

/**
 * Decodes a whole (non-streamed) response body; span offsets index `body`. An empty body (vLLM's
 * `/health`) has no facts. Throws ProxyError `ERR_UPSTREAM_PROTOCOL` (cause: the scanner's
 * error) for a body that is not JSON.
 */
export function decodeOpenAIResponse(
  body: Buffer,
  operation: OpenAIOperation,
  options?: JsonScanOptions,
): OpenAIResponseFacts {
  if (isBlank(body)) return NO_FACTS;
  const scan = new ResponseScan(body, BODY_TEXT_PATHS[operation], (offset) => offset);
  return runScan(body, scan, options);
}

function runScan(
  json: Buffer,
  scan: ResponseScan,
  options: JsonScanOptions | undefined,
): OpenAIResponseFacts {
  try {
    scanJson(json, scan, options);
  } catch (err) {
    if (!isProxyError(err)) throw err;
    throw new ProxyError(
      'ERR_UPSTREAM_PROTOCOL',
      `upstream sent a response that is not JSON: ${err.message}`,
      { cause: err },
    );
  }
  return scan.facts();
}

/**
 * The event's JSON text and the map from its offsets to `event.bytes` offsets: one data line is
 * a view with a fixed shift; several are joined with LF into one copy.
 */
function eventJson(event: SseEventBytes): { json: Buffer; toWire: (offset: number) => number } {
  const { bytes, data } = event;
  if (data.length <= 1) {
    const line = data[0] ?? { start: 0, end: 0 };
    return { json: bytes.subarray(line.start, line.end), toWire: (offset) => offset + line.start };
  }

  const pieces: Buffer[] = [];
  const joinedStarts: number[] = [];
  let length = 0;
  for (const line of data) {
    if (pieces.length > 0) {
      pieces.push(LF_BYTE);
      length++;
    }
    joinedStarts.push(length);
    pieces.push(bytes.subarray(line.start, line.end));
    length += line.end - line.start;
  }
  return {
    json: Buffer.concat(pieces, length),
    toWire: (offset) => lineOffset(data, joinedStarts, offset),
  };
}

const LF_BYTE = Buffer.from('\n');

/** Maps an offset in the joined data to `event.bytes`: the last line starting at or before it. */
function lineOffset(
  data: readonly SseByteRange[],
  joinedStarts: readonly number[],
  offset: number,
): number {
  let line = joinedStarts.length - 1;
  while (line > 0 && joinedStarts[line]! > offset) line--;
  return data[line]!.start + offset - joinedStarts[line]!;
}

/** True for data that is empty or only JSON whitespace. */
function isBlank(json: Buffer): boolean {
  for (const byte of json) {
    if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return false;
  }
  return true;
}
