// The facts the OpenAI response codec reads from a response body or stream event, and the scan
// that gathers them (OpenAI chat streaming; OpenAI Responses streaming events).

import { formatJsonPath, type JsonPath, type JsonPathSet, type JsonTextSpan } from './json-path';
import { decodeJsonScalar, decodeJsonString } from './json-scalar-decoder';
import type { JsonContainerKind, JsonScalarKind, JsonVisitor } from './json-text-scanner';

/** Token counts; the Responses API's input and output tokens count as prompt and completion. */
export interface OpenAIUsage {
  readonly promptTokens: number | undefined;
  readonly completionTokens: number | undefined;
  readonly totalTokens: number | undefined;
}

/** A choice that finished, and why (`stop`, `length`, `tool_calls`, ...; OpenAI chat streaming). */
export interface OpenAIFinish {
  /** The choice's `index` field, or its position in `choices` when it has none. */
  readonly choice: number;
  readonly reason: string;
}

/**
 * A text span and, in a stream, the text it continues: each choice's content, refusal and
 * reasoning, each of its tool calls' arguments, and each Responses API output part is one text
 * across the stream's events. Keys end with `/`, so one key is never the prefix of another.
 */
export interface OpenAITextSpan extends JsonTextSpan {
  /** undefined for a text complete in its event (a done event's whole text, an error). */
  readonly stream: string | undefined;
}

/** What `decodeOpenAIResponse` reads from a non-streamed response body. */
export interface OpenAIResponseFacts {
  /**
   * True for an error: a truthy top-level `error` (OpenAI and vLLM), vLLM's older flat
   * `{object: "error"}` (OpenAI error object), or a Responses `error` / `response.failed` event.
   */
  readonly error: boolean;
  /** Every model-output text string (and error message), in document order. */
  readonly texts: readonly OpenAITextSpan[];
  /** `usage`, or a Responses event's `response.usage`; undefined when absent or null. */
  readonly usage: OpenAIUsage | undefined;
  /** Choices with a non-null `finish_reason`, in document order. */
  readonly finishReasons: readonly OpenAIFinish[];
  /** The top-level `type` (every Responses API stream event has one, Responses streaming). */
  readonly eventType: string | undefined;
}

/** What `decodeOpenAIEvent` reads from one SSE event of a response stream. */
export interface OpenAIEventFacts extends OpenAIResponseFacts {
  /** The event's data is the `[DONE]` terminator (OpenAI chat streaming). */
  readonly done: boolean;
  /** `[DONE]`, or a Responses terminal event: completed, incomplete or failed (Responses streaming). */
  readonly terminal: boolean;
  /**
   * Prefixes of the stream keys whose text ends with this event: a choice that finished, a
   * Responses `*.done` event's part.
   */
  readonly endedStreams: readonly string[];
}

/** Where a text lies, kept until the event is scanned and its indexes are known. */
interface TextDraft {
  readonly span: JsonTextSpan;
  /** Position in `choices`, and in its `tool_calls`, for a choice's text. */
  readonly choice: number | undefined;
  readonly toolCall: number | undefined;
  /** The path below the choice, tool call positions left out; '' for a Responses `delta`. */
  readonly field: string | undefined;
}

/** A Map, not an object: a key such as `__proto__` from the wire must find nothing. */
const USAGE_FIELDS: ReadonlyMap<string | number, keyof OpenAIUsage> = new Map([
  ['prompt_tokens', 'promptTokens'],
  ['input_tokens', 'promptTokens'],
  ['completion_tokens', 'completionTokens'],
  ['output_tokens', 'completionTokens'],
  ['total_tokens', 'totalTokens'],
]);

/** Longer strings are never a type, finish reason or error marker the scan reads. */
const MAX_FACT_STRING_BYTES = 256;

/**
 * Top-level fields that the Responses text paths name but that hold no text in these events
 * (Responses streaming): the audio delta is base64 audio; an `error` event's `code` is an error
 * code. The event
 * type may come after them in the object, so they are dropped once the scan is done.
 */
const NOT_TEXT_BY_TYPE: ReadonlyMap<string, string> = new Map([
  ['response.audio.delta', 'delta'],
  ['error', 'code'],
]);

const ERROR_EVENT_TYPES: ReadonlySet<string> = new Set(['error', 'response.failed']);

/** The Responses event fields that tell which part of an output item a delta belongs to. */
const PART_INDEX_FIELDS: ReadonlySet<string | number> = new Set(['content_index', 'summary_index']);

/**
 * Gathers the facts of one response document while `scanJson` walks it. `toWire` maps an
 * offset in the scanned bytes to the offset the reported spans use.
 */
export class ResponseScan implements JsonVisitor {
  private readonly texts: TextDraft[] = [];
  private readonly finishReasons: OpenAIFinish[] = [];
  private usage: Record<keyof OpenAIUsage, number | undefined> | undefined;
  private error = false;
  private eventType: string | undefined;
  private choiceIndex: number | undefined;
  private choiceReason: string | undefined;
  /** `choices[i].index` by position, and `tool_calls[j].index` by `i.j`, once read. */
  private readonly choiceIndexes = new Map<number, number>();
  private readonly toolCallIndexes = new Map<string, number>();
  /** The Responses event's `output_index` and `content_index` or `summary_index`. */
  private readonly partIndexes: (number | undefined)[] = [undefined, undefined];

  /** `streamed`: texts continue across events and get stream keys. */
  constructor(
    private readonly json: Buffer,
    private readonly textPaths: JsonPathSet,
    private readonly toWire: (offset: number) => number,
    private readonly streamed = false,
  ) {}

  scalar(path: JsonPath, kind: JsonScalarKind, start: number, end: number, escaped: boolean) {
    if (kind === 'string' && this.textPaths.has(path)) this.addText(path, start, end, escaped);
    if (path.length === 1) this.topLevel(path[0]!, kind, start, end);
    else if (path[0] === 'choices') this.choiceField(path, kind, start, end);
    else this.usageField(path, kind, start, end);
  }

  close(path: JsonPath, kind: JsonContainerKind): void {
    if (path.length === 1 && path[0] === 'error') this.error = true;
    if (isUsagePath(path, path.length) && kind === 'object') this.usage ??= emptyUsage();
    if (path.length !== 2 || path[0] !== 'choices') return;

    const choice = this.choiceIndex ?? Number(path[1]);
    this.choiceIndexes.set(Number(path[1]), choice);
    if (this.choiceReason !== undefined) {
      this.finishReasons.push({ choice, reason: this.choiceReason });
    }
    this.choiceIndex = undefined;
    this.choiceReason = undefined;
  }

  facts(): OpenAIResponseFacts {
    const { error, usage, finishReasons, eventType } = this;
    const notText = eventType === undefined ? undefined : NOT_TEXT_BY_TYPE.get(eventType);
    const drafts =
      notText === undefined ? this.texts : this.texts.filter(({ span }) => span.path !== notText);
    const texts = drafts.map((draft) => ({ ...draft.span, stream: this.streamKey(draft) }));
    return { error, texts, usage, finishReasons, eventType };
  }

  /** The stream keys ending with this event: finished choices, a Responses part that is done. */
  endedStreams(): string[] {
    const ended = this.finishReasons.map(({ choice }) => `c${choice}/`);
    const type = this.eventType;
    if (type !== undefined && type.endsWith('.done')) ended.push(this.partKey(type.slice(0, -5)));
    return ended;
  }

  private addText(path: JsonPath, start: number, end: number, escaped: boolean): void {
    const { toWire } = this;
    const span = { path: formatJsonPath(path), start: toWire(start), end: toWire(end), escaped };
    let choice: number | undefined;
    let toolCall: number | undefined;
    let field: string | undefined;
    if (this.streamed && path[0] === 'choices' && typeof path[1] === 'number') {
      choice = path[1];
      const below = path.slice(2);
      if (below[1] === 'tool_calls' && typeof below[2] === 'number') {
        toolCall = below[2];
        below.splice(2, 1);
      }
      field = below.join('.');
    } else if (this.streamed && path.length === 1 && path[0] === 'delta') {
      field = '';
    }
    this.texts.push({ span, choice, toolCall, field });
  }

  private streamKey({ choice, toolCall, field }: TextDraft): string | undefined {
    if (field === undefined) return undefined;
    if (choice === undefined) {
      const type = this.eventType ?? '';
      return this.partKey(type.endsWith('.delta') ? type.slice(0, -6) : type);
    }
    const index = this.choiceIndexes.get(choice) ?? choice;
    if (toolCall === undefined) return `c${index}/${field}/`;
    const call = this.toolCallIndexes.get(`${choice}.${toolCall}`) ?? toolCall;
    return `c${index}/${field}/${call}/`;
  }

  /** A Responses part: the event type without `.delta` or `.done`, and the part's indexes. */
  private partKey(kind: string): string {
    const [output, part] = this.partIndexes;
    return `${kind}/${output ?? ''}/${part ?? ''}/`;
  }

  private topLevel(field: string | number, kind: JsonScalarKind, start: number, end: number) {
    if (kind === 'number' && (field === 'output_index' || PART_INDEX_FIELDS.has(field))) {
      const value = Number(decodeJsonScalar(this.json, kind, start, end));
      this.partIndexes[field === 'output_index' ? 0 : 1] = value;
      return;
    }
    if (field === 'error') this.error ||= isTruthy(this.json, kind, start, end);
    else if (field === 'object') this.error ||= this.shortString(kind, start, end) === 'error';
    else if (field === 'type') this.noteType(this.shortString(kind, start, end));
  }

  private noteType(type: string | undefined): void {
    this.eventType = type;
    if (type !== undefined && ERROR_EVENT_TYPES.has(type)) this.error = true;
  }

  /** `choices[i].index` and `choices[i].finish_reason`, gathered until the choice closes. */
  private choiceField(path: JsonPath, kind: JsonScalarKind, start: number, end: number) {
    if (path.length === 6 && path[3] === 'tool_calls' && path[5] === 'index' && kind === 'number') {
      const index = Number(decodeJsonScalar(this.json, kind, start, end));
      this.toolCallIndexes.set(`${String(path[1])}.${String(path[4])}`, index);
      return;
    }
    const field = path.length === 3 ? path[2] : undefined;
    if (field === 'index' && kind === 'number') {
      this.choiceIndex = Number(decodeJsonScalar(this.json, kind, start, end));
    } else if (field === 'finish_reason') {
      this.choiceReason = this.shortString(kind, start, end);
    }
  }

  /** A string fact such as a type or finish reason; longer ones are no fact and stay unread. */
  private shortString(kind: JsonScalarKind, start: number, end: number): string | undefined {
    if (kind !== 'string' || end - start > MAX_FACT_STRING_BYTES) return undefined;
    return decodeJsonString(this.json, start, end);
  }

  private usageField(path: JsonPath, kind: JsonScalarKind, start: number, end: number) {
    const field = USAGE_FIELDS.get(path[path.length - 1]!);
    if (field === undefined || kind !== 'number' || !isUsagePath(path, path.length - 1)) return;

    this.usage ??= emptyUsage();
    this.usage[field] = Number(decodeJsonScalar(this.json, kind, start, end));
  }
}

/** True when `path[0, length)` is `usage` or, in a Responses event, `response.usage`. */
function isUsagePath(path: JsonPath, length: number): boolean {
  if (length === 1) return path[0] === 'usage';
  return length === 2 && path[0] === 'response' && path[1] === 'usage';
}

function emptyUsage(): Record<keyof OpenAIUsage, number | undefined> {
  return { promptTokens: undefined, completionTokens: undefined, totalTokens: undefined };
}

/** JavaScript truthiness of a scalar, as the OpenAI SDK tests `error` (OpenAI chat streaming). */
function isTruthy(json: Buffer, kind: JsonScalarKind, start: number, end: number): boolean {
  if (kind === 'string') return end > start;
  if (kind === 'null') return false;
  const value = decodeJsonScalar(json, kind, start, end);
  return value !== false && value !== 0;
}
