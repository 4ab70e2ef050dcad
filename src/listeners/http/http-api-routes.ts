// Which API an HTTP request belongs to, which operation it is, and where it names its model.

import { findOpenAIRoute } from '../../codecs/openai-routes';

/** The API families the HTTP listener relays; each answers errors in its own shape. */
export type HttpApi = 'openai' | 'triton';

/** What the listener knows of a request from its method and path alone. */
export interface HttpApiTarget {
  readonly api: HttpApi;
  /** A stable operation name for logs and policy: `chat.completions`, `triton.infer`, ... */
  readonly operation: string;
  /** The model named in the path (Triton), already percent-decoded. */
  readonly pathModel: string | undefined;
  /** True when the model is named in the JSON body (OpenAI POST operations). */
  readonly bodyModel: boolean;
}

/** Triton server-level routes (no model in the path), keyed by `METHOD path`. */
const TRITON_SERVER_OPERATIONS: ReadonlyMap<string, string> = new Map([
  ['GET /v2', 'triton.server_metadata'],
  ['GET /v2/health/live', 'triton.health'],
  ['GET /v2/health/ready', 'triton.health'],
  ['GET /v2/models/stats', 'triton.statistics'],
  ['POST /v2/repository/index', 'triton.repository_index'],
  ['GET /v2/logging', 'triton.logging'],
  ['POST /v2/logging', 'triton.logging'],
  ['GET /v2/trace/setting', 'triton.trace'],
  ['POST /v2/trace/setting', 'triton.trace'],
]);

/** What follows `/v2/models/{m}[/versions/{v}]`, by method. */
const TRITON_MODEL_OPERATIONS: ReadonlyMap<string, string> = new Map([
  ['GET ', 'triton.model_metadata'],
  ['GET /ready', 'triton.model_ready'],
  ['GET /config', 'triton.model_config'],
  ['GET /stats', 'triton.statistics'],
  ['POST /infer', 'triton.infer'],
  ['POST /generate', 'triton.generate'],
  ['POST /generate_stream', 'triton.generate_stream'],
  ['GET /trace/setting', 'triton.trace'],
  ['POST /trace/setting', 'triton.trace'],
]);

const TRITON_MODEL_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/[^/]+)?(\/[a-z_/]*)?$/;
const TRITON_REPOSITORY_PATH = /^\/v2\/repository\/models\/([^/]+)\/(load|unload)$/;
const TRITON_SHARED_MEMORY_PATH =
  /^\/v2\/(system|cuda)sharedmemory(\/region\/[^/]+)?\/(status|register|unregister)$/;

/**
 * Classifies a request, or returns undefined for a path no relayed API defines: such requests
 * are refused rather than passed on, so an operation nobody reviewed never reaches a model.
 * Throws URIError when a model name in the path is not valid percent-encoding.
 */
export function findHttpApiTarget(method: string, path: string): HttpApiTarget | undefined {
  const openai = findOpenAIRoute(method, path);
  if (openai !== undefined) {
    return {
      api: 'openai',
      operation: openai.operation,
      pathModel: undefined,
      bodyModel: openai.hasBody,
    };
  }
  return path.startsWith('/v2') ? findTritonTarget(method, path) : undefined;
}

function findTritonTarget(method: string, path: string): HttpApiTarget | undefined {
  const server = TRITON_SERVER_OPERATIONS.get(`${method} ${path}`);
  if (server !== undefined) return triton(server, undefined);
  const sharedMemory = TRITON_SHARED_MEMORY_PATH.exec(path);
  if (sharedMemory !== null) return triton('triton.shared_memory', undefined);
  const repository = TRITON_REPOSITORY_PATH.exec(path);
  if (repository !== null && method === 'POST') {
    return triton(`triton.repository_${repository[2]!}`, decodeURIComponent(repository[1]!));
  }

  const model = TRITON_MODEL_PATH.exec(path);
  if (model === null) return undefined;
  const operation = TRITON_MODEL_OPERATIONS.get(`${method} ${model[2] ?? ''}`);
  return operation === undefined ? undefined : triton(operation, decodeURIComponent(model[1]!));
}

function triton(operation: string, pathModel: string | undefined): HttpApiTarget {
  return { api: 'triton', operation, pathModel, bodyModel: false };
}
