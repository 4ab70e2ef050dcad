// The demo HTTP server's route table: which handler answers which method and path.

import type { HttpExchange } from './demo-http-exchange';
import { handleChatCompletions, handleCompletions } from './demo-http-openai-completions';
import { handleEmbeddings } from './demo-http-openai-embeddings';
import { handleResponses } from './demo-http-openai-responses';
import {
  handleModelConfig,
  handleModelMetadata,
  handleModelReady,
  handleModelStatistics,
  handleRepositoryIndex,
  handleRepositoryToggle,
  handleServerHealth,
  handleServerMetadata,
} from './demo-http-triton-admin';
import { handleGenerate, handleGenerateStream } from './demo-http-triton-generate';
import { handleTritonInfer } from './demo-http-triton-infer';
import type { ModelPath } from './demo-http-triton-request';
import {
  handleDetokenize,
  handleHealth,
  handleListModels,
  handleTokenize,
  handleVersion,
} from './demo-http-vllm-extras';

/** Answers one exchange whose body has been read; `path` is empty outside `/v2/models/...`. */
export type RouteHandler = (exchange: HttpExchange, path: ModelPath) => void | Promise<void>;

/** The result of matching a request: its handler, or the methods its path does allow. */
export type RouteMatch =
  | { readonly handler: RouteHandler; readonly path: ModelPath }
  | { readonly allowed: readonly string[] };

interface Route {
  readonly method: 'GET' | 'POST';
  readonly pattern: RegExp;
  readonly handler: RouteHandler;
}

/** A KServe model path, with the optional version segment (KServe v2 REST). */
const MODEL = '/v2/models/(?<model>[^/]+)(?:/versions/(?<version>[^/]+))?';

/** A repository path naming a model. */
const REPOSITORY_MODEL = '/v2/repository/models/(?<model>[^/]+)';

function route(method: Route['method'], path: string, handler: RouteHandler): Route {
  return { method, pattern: new RegExp(`^${path}$`), handler };
}

/** Every route; the first whose pattern matches wins, so `/v2/models/stats` precedes MODEL. */
const ROUTES: readonly Route[] = Object.freeze([
  route('POST', '/v1/chat/completions', handleChatCompletions),
  route('POST', '/v1/completions', handleCompletions),
  route('POST', '/v1/embeddings', handleEmbeddings),
  route('GET', '/v1/models', handleListModels),
  route('POST', '/v1/responses', handleResponses),
  route('POST', '/tokenize', handleTokenize),
  route('POST', '/detokenize', handleDetokenize),
  route('GET', '/health', handleHealth),
  route('GET', '/version', handleVersion),
  route('GET', '/v2/health/(?:live|ready)', handleServerHealth),
  route('GET', '/v2', handleServerMetadata),
  route('GET', '/v2/models/stats', handleModelStatistics),
  route('POST', '/v2/repository/index', handleRepositoryIndex),
  route('POST', `${REPOSITORY_MODEL}/load`, (exchange, path) =>
    handleRepositoryToggle(exchange, path, true),
  ),
  route('POST', `${REPOSITORY_MODEL}/unload`, (exchange, path) =>
    handleRepositoryToggle(exchange, path, false),
  ),
  route('GET', MODEL, handleModelMetadata),
  route('GET', `${MODEL}/ready`, handleModelReady),
  route('GET', `${MODEL}/config`, handleModelConfig),
  route('GET', `${MODEL}/stats`, handleModelStatistics),
  route('POST', `${MODEL}/infer`, handleTritonInfer),
  route('POST', `${MODEL}/generate`, handleGenerate),
  route('POST', `${MODEL}/generate_stream`, handleGenerateStream),
]);

/** A percent-decoded path segment; undefined when its escapes are malformed. */
function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    // A malformed escape cannot name a model; the caller answers 404 as for any unknown path.
    return undefined;
  }
}

/**
 * Finds the route for a method and path (without query). Undefined when no route has the path
 * (or its model segment is malformed); `allowed` when routes have the path for other methods.
 */
export function matchRoute(method: string, path: string): RouteMatch | undefined {
  const allowed: string[] = [];
  for (const candidate of ROUTES) {
    const found = candidate.pattern.exec(path);
    if (found === null) {
      continue;
    }
    if (candidate.method !== method) {
      allowed.push(candidate.method);
      continue;
    }
    const model = decodeSegment(found.groups?.model ?? '');
    const version = decodeSegment(found.groups?.version ?? '');
    if (model === undefined || version === undefined) {
      return undefined;
    }
    return { handler: candidate.handler, path: { model, version } };
  }
  return allowed.length > 0 ? { allowed } : undefined;
}
