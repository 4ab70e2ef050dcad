// Decodes the facts and the prompt text spans of an OpenAI-protocol request body in one scan,
// without building the document.

import { ProxyError } from '../errors/proxy-error';
import { formatJsonPath, type JsonPath, type JsonPathSet, type JsonTextSpan } from './json-path';
import { decodeJsonScalar, type JsonScalar } from './json-scalar-decoder';
import {
  scanJson,
  type JsonContainerKind,
  type JsonScalarKind,
  type JsonScanOptions,
  type JsonVisitor,
} from './json-text-scanner';
import { REQUEST_TEXT_PATHS } from './openai-request-texts';
import { findOpenAIRoute, stripQuery, type OpenAIOperation } from './openai-routes';

/** The request fields that may cap generated tokens, by operation (OpenAI API reference). */
export type MaxTokensField = 'max_tokens' | 'max_completion_tokens' | 'max_output_tokens';

/** What `decodeOpenAIRequest` reads from a request body. */
export interface OpenAIRequestFacts {
  readonly operation: OpenAIOperation;
  /** `model`; undefined when absent or null (vLLM then serves its one model). */
  readonly model: string | undefined;
  /** `stream`; false when absent or null. */
  readonly stream: boolean;
  /** `stream_options.include_usage`: a usage chunk precedes `[DONE]` (OpenAI chat streaming). */
  readonly includeUsage: boolean;
  /** `n`, choices per request; undefined when absent or null (the server's default is 1). */
  readonly n: number | undefined;
  /** The largest of the token limit fields present, so a cap check is never understated. */
  readonly maxTokens: number | undefined;
  /** The field `maxTokens` came from. */
  readonly maxTokensField: MaxTokensField | undefined;
  /**
   * Inputs of one request: embeddings `input` or completions `prompt`. A string or one token-id
   * array is 1; an array of strings or of token-id arrays is its length. Undefined for other
   * operations and when the field is absent.
   */
  readonly inputCount: number | undefined;
  /** Entries of `tools` plus legacy `functions`; tool definitions are not prompt text. */
  readonly toolCount: number;
  /** Every prompt text string, in document order, byte offsets into the body. */
  readonly texts: readonly JsonTextSpan[];
}

/** The field `inputCount` counts, by operation. */
const COUNTED_FIELDS: Partial<Record<OpenAIOperation, string>> = {
  completions: 'prompt',
  embeddings: 'input',
};

const MAX_TOKENS_FIELDS: ReadonlySet<string> = new Set<MaxTokensField>([
  'max_tokens',
  'max_completion_tokens',
  'max_output_tokens',
]);

function isMaxTokensField(field: string): field is MaxTokensField {
  return MAX_TOKENS_FIELDS.has(field);
}

// Threat: JSON parsers disagree on a repeated key (Python's json keeps the last, some keep the
// first), so a body naming `model` twice could be judged on one value and served on the other.
const DECISION_FIELDS: ReadonlySet<string> = new Set([
  'model',
  'stream',
  'stream_options',
  'n',
  'tools',
  'functions',
  ...MAX_TOKENS_FIELDS,
]);

/**
 * Decodes a POST body for the endpoint `target` names (a path, with or without a query). Throws
 * ProxyError `ERR_UNKNOWN_OPERATION` for a target that is not a POST route of
 * `OPENAI_ROUTES`; `ERR_JSON_MALFORMED` / `ERR_JSON_TOO_DEEP` as `scanJson` does; and
 * `ERR_OPENAI_FIELD_INVALID` for a body that is not an object, a decision field (model, stream,
 * stream_options.include_usage, n, token limits) of another type than the protocol's or null,
 * or a decision field, or the counted input, given twice. Strings where numbers or booleans are
 * due are refused rather than coerced, because a lax upstream would read `"stream": "true"` as
 * true while the gateway read false.
 */
export function decodeOpenAIRequest(
  target: string,
  body: Buffer,
  options?: JsonScanOptions,
): OpenAIRequestFacts {
  const route = findOpenAIRoute('POST', target);
  if (route === undefined) {
    throw new ProxyError(
      'ERR_UNKNOWN_OPERATION',
      `POST ${stripQuery(target).slice(0, 200)} is not an OpenAI endpoint the gateway decodes`,
    );
  }

  const scan = new RequestScan(body, route.operation);
  scanJson(body, scan, options);
  return scan.facts();
}

/** Gathers facts and spans while `scanJson` walks a request body. */
class RequestScan implements JsonVisitor {
  private readonly texts: JsonTextSpan[] = [];
  private readonly textPaths: JsonPathSet;
  private readonly countedField: string | undefined;
  private readonly seen = new Set<string>();
  private rootIsObject = false;
  private model: string | undefined;
  private stream = false;
  private includeUsage = false;
  private n: number | undefined;
  private maxTokens: number | undefined;
  private maxTokensField: MaxTokensField | undefined;
  private inputCount: number | undefined;
  private tokenIdInput = false;
  private toolCount = 0;

  constructor(
    private readonly body: Buffer,
    private readonly operation: OpenAIOperation,
  ) {
    this.textPaths = REQUEST_TEXT_PATHS[operation];
    this.countedField = COUNTED_FIELDS[operation];
  }

  scalar(path: JsonPath, kind: JsonScalarKind, start: number, end: number, escaped: boolean) {
    if (kind === 'string' && this.textPaths.has(path)) {
      this.texts.push({ path: formatJsonPath(path), start, end, escaped });
    }
    if (path.length === 1) this.topLevelScalar(String(path[0]), kind, start, end);
    else if (path.length === 2) this.nestedScalar(path, kind, start, end);
  }

  close(path: JsonPath, kind: JsonContainerKind, members: number): void {
    if (path.length === 0) this.rootIsObject = kind === 'object';
    if (path.length !== 1) return;

    const field = String(path[0]);
    this.noteField(field);
    if (field === 'tools' || field === 'functions') this.toolCount += members;
    if (field === this.countedField && kind === 'array') {
      this.inputCount = this.tokenIdInput ? 1 : members;
    }
  }

  facts(): OpenAIRequestFacts {
    if (!this.rootIsObject) {
      throw new ProxyError('ERR_OPENAI_FIELD_INVALID', 'request body is not a JSON object');
    }
    const { operation, model, stream, includeUsage, n, maxTokens, maxTokensField } = this;
    const { inputCount, toolCount, texts } = this;
    return {
      operation,
      model,
      stream,
      includeUsage,
      n,
      maxTokens,
      maxTokensField,
      inputCount,
      toolCount,
      texts,
    };
  }

  private topLevelScalar(field: string, kind: JsonScalarKind, start: number, end: number): void {
    this.noteField(field);
    if (kind === 'null') return;

    const read = (expected: JsonScalarKind) => this.read(field, expected, kind, start, end);
    if (field === 'model') this.model = String(read('string'));
    else if (field === 'stream') this.stream = read('boolean') === true;
    else if (field === 'n') this.n = Number(read('number'));
    else if (isMaxTokensField(field)) this.noteMaxTokens(field, Number(read('number')));
    else if (field === this.countedField && kind === 'string') this.inputCount = 1;
  }

  private nestedScalar(path: JsonPath, kind: JsonScalarKind, start: number, end: number): void {
    if (path[0] === this.countedField && kind === 'number') this.tokenIdInput = true;
    if (path[0] !== 'stream_options' || path[1] !== 'include_usage' || kind === 'null') return;

    const field = 'stream_options.include_usage';
    this.includeUsage = this.read(field, 'boolean', kind, start, end) === true;
  }

  /** Keeps the largest limit: whichever field the upstream honours, the cap is not understated. */
  private noteMaxTokens(field: MaxTokensField, value: number): void {
    if (this.maxTokens !== undefined && value <= this.maxTokens) return;

    this.maxTokens = value;
    this.maxTokensField = field;
  }

  /** Records a top-level field; refuses a decision field or the counted input seen before. */
  private noteField(field: string): void {
    if (!DECISION_FIELDS.has(field) && field !== this.countedField) return;
    if (this.seen.has(field)) {
      throw new ProxyError('ERR_OPENAI_FIELD_INVALID', `request field "${field}" appears twice`);
    }
    this.seen.add(field);
  }

  /** Decodes a decision field's scalar, refusing any kind but `expected` (null is handled). */
  private read(
    field: string,
    expected: JsonScalarKind,
    kind: JsonScalarKind,
    start: number,
    end: number,
  ): JsonScalar {
    if (kind !== expected) {
      throw new ProxyError(
        'ERR_OPENAI_FIELD_INVALID',
        `request field "${field}" must be a ${expected} or null, not a ${kind}`,
      );
    }
    return decodeJsonScalar(this.body, kind, start, end);
  }
}
