// Triton HTTP/REST health, metadata, readiness, configuration, statistics and repository routes.

import { DEMO_SERVER_NAME } from './demo-admin-handlers';
import type { HttpExchange } from './demo-http-exchange';
import type { ModelPath } from './demo-http-triton-request';
import { DEMO_MODEL_VERSION } from './demo-models';

/** The protocol extensions `GET /v2` advertises: the ones the HTTP side answers. */
const DEMO_HTTP_EXTENSIONS: readonly string[] = Object.freeze([
  'binary_tensor_data',
  'parameters',
  'statistics',
  'model_configuration',
  'model_repository',
]);

/** Statistics fields that are int64 (decimal strings in the registry), numbers in HTTP JSON. */
const INT64_STATISTIC_FIELDS: ReadonlySet<string> = new Set([
  'count',
  'ns',
  'last_inference',
  'inference_count',
  'execution_count',
]);

/** GET /v2/health/live and /v2/health/ready: 200 with an empty body (KServe v2 REST). */
export function handleServerHealth(exchange: HttpExchange): void {
  exchange.sendEmpty(200);
}

/** GET /v2: `{name, version, extensions}` (KServe v2 REST). */
export function handleServerMetadata(exchange: HttpExchange): void {
  const { version } = exchange.context;
  exchange.sendJson(200, { name: DEMO_SERVER_NAME, version, extensions: DEMO_HTTP_EXTENSIONS });
}

/** GET /v2/models/{m}[/versions/{v}]: the model's signature; 404 unknown, 503 unloaded. */
export function handleModelMetadata(exchange: HttpExchange, path: ModelPath): void {
  const model = exchange.context.registry.resolveReady(path.model, path.version);
  if (!model.ok) {
    exchange.failWith(model.failure);
    return;
  }
  const { name, inputs, outputs } = model.value;
  const versions = [DEMO_MODEL_VERSION];
  exchange.sendJson(200, { name, versions, platform: 'python', inputs, outputs });
}

/** GET .../ready: 200 when the model (version) is loaded, 400 otherwise, empty body. */
export function handleModelReady(exchange: HttpExchange, path: ModelPath): void {
  exchange.sendEmpty(exchange.context.registry.isReady(path.model, path.version) ? 200 : 400);
}

/** GET .../config: the model configuration object itself, as Triton answers it. */
export function handleModelConfig(exchange: HttpExchange, path: ModelPath): void {
  const model = exchange.context.registry.resolveReady(path.model, path.version);
  if (model.ok) {
    exchange.sendJson(200, model.value.config);
  } else {
    exchange.failWith(model.failure);
  }
}

/** GET /v2/models[/{m}[/versions/{v}]]/stats: `{model_stats: [...]}`; 404 for an unknown model. */
export function handleModelStatistics(exchange: HttpExchange, path: ModelPath): void {
  const stats = exchange.context.registry.statistics(path.model, path.version);
  if (!stats.ok) {
    exchange.failWith(stats.failure);
    return;
  }
  const text = JSON.stringify({ model_stats: stats.value }, (key, value: unknown) =>
    INT64_STATISTIC_FIELDS.has(key) && typeof value === 'string' ? Number(value) : value,
  );
  exchange.sendBytes(200, Buffer.from(text), { 'content-type': 'application/json' });
}

/** POST /v2/repository/index: `{name, version, state, reason}` per model, or per ready one. */
export function handleRepositoryIndex(exchange: HttpExchange): void {
  const empty = exchange.bodyBytes.length === 0;
  const body = empty ? {} : exchange.jsonObject();
  if (body === undefined) {
    return;
  }
  exchange.sendJson(200, exchange.context.registry.index(body.ready === true));
}

/** POST /v2/repository/models/{m}/load or /unload: toggles readiness; 404 outside the catalog. */
export function handleRepositoryToggle(
  exchange: HttpExchange,
  path: ModelPath,
  loaded: boolean,
): void {
  const toggled = exchange.context.registry.setLoaded(path.model, loaded);
  if (!toggled.ok) {
    exchange.failWith(toggled.failure);
    return;
  }
  exchange.context.logger.info({ model: path.model, loaded }, 'demo model readiness changed');
  exchange.sendEmpty(200);
}
