// The endpoints of the OpenAI wire protocol and vLLM's OpenAI-compatible server that the
// gateway decodes (vLLM's OpenAI-compatible server), and the operation each one is.

/** A stable operation name for logs, policy and the codecs. */
export type OpenAIOperation =
  | 'chat.completions'
  | 'completions'
  | 'embeddings'
  | 'responses'
  | 'tokenize'
  | 'detokenize'
  | 'models'
  | 'health'
  | 'version';

/**
 * The operations whose response may be an SSE stream (`stream: true`; OpenAI chat streaming and
 * Responses streaming events).
 */
export type OpenAIStreamOperation = 'chat.completions' | 'completions' | 'responses';

/** One endpoint. */
export interface OpenAIRoute {
  readonly method: 'GET' | 'POST';
  /** The path without query, exactly as the server routes it. */
  readonly path: string;
  readonly operation: OpenAIOperation;
  /** True when the request carries a JSON body that `decodeOpenAIRequest` reads. */
  readonly hasBody: boolean;
  /** True when the request may ask for an SSE response with `stream: true`. */
  readonly streams: boolean;
}

/**
 * Every endpoint the gateway decodes (vLLM's OpenAI-compatible server). Audio, pooling, scoring and
 * metrics endpoints are absent on purpose: a path not listed here is not a known operation, and a
 * caller should refuse it rather than relay a body nobody inspected.
 */
export const OPENAI_ROUTES: readonly OpenAIRoute[] = [
  route('POST', '/v1/chat/completions', 'chat.completions', true),
  route('POST', '/v1/completions', 'completions', true),
  route('POST', '/v1/embeddings', 'embeddings', false),
  route('POST', '/v1/responses', 'responses', true),
  route('POST', '/tokenize', 'tokenize', false),
  route('POST', '/detokenize', 'detokenize', false),
  route('GET', '/v1/models', 'models', false),
  route('GET', '/health', 'health', false),
  route('GET', '/version', 'version', false),
];

function route(
  method: 'GET' | 'POST',
  path: string,
  operation: OpenAIOperation,
  streams: boolean,
): OpenAIRoute {
  return { method, path, operation, hasBody: method === 'POST', streams };
}

const ROUTES_BY_TARGET: ReadonlyMap<string, OpenAIRoute> = new Map(
  OPENAI_ROUTES.map((entry) => [`${entry.method} ${entry.path}`, entry]),
);

/** Every operation of `OPENAI_ROUTES`, in table order. */
export function listOpenAIOperations(): readonly OpenAIOperation[] {
  return OPENAI_ROUTES.map((entry) => entry.operation);
}

/**
 * Finds the endpoint for a method and request target. The query, if any, is ignored; the path
 * must match exactly, without decoding, so `/v1/chat/completions/` or a percent-encoded slash
 * is no endpoint (undefined), as for the upstream's own router.
 */
export function findOpenAIRoute(method: string, target: string): OpenAIRoute | undefined {
  return ROUTES_BY_TARGET.get(`${method} ${stripQuery(target)}`);
}

/** The path part of a request target (RFC 9112 §3.2 origin-form: path, then `?query`). */
export function stripQuery(target: string): string {
  const query = target.indexOf('?');
  return query < 0 ? target : target.slice(0, query);
}

/** True for operations whose response may be an SSE stream. */
export function isOpenAIStreamOperation(
  operation: OpenAIOperation,
): operation is OpenAIStreamOperation {
  return (
    operation === 'chat.completions' || operation === 'completions' || operation === 'responses'
  );
}

/** The operations whose responses report token usage (`usage`, or a Responses event's). */
export const OPENAI_USAGE_OPERATIONS: ReadonlySet<string> = new Set<OpenAIOperation>([
  'chat.completions',
  'completions',
  'embeddings',
  'responses',
]);
