// Health, metadata, configuration, statistics and repository RPCs of the demo server.

import type { handleUnaryCall, UntypedHandleCall } from '@grpc/grpc-js';
import { answer, type DemoContext } from './demo-context';
import { DEMO_MODEL_VERSION } from './demo-models';
import { succeed, type ModelRefRequest, type RepositoryModelRequest } from './kserve-messages';
import { PACKAGE_VERSION } from '../package-version';

/** The name ServerMetadata reports. */
export const DEMO_SERVER_NAME = 'infergate-demo';

/** The protocol extensions ServerMetadata advertises: the ones the demo server answers. */
const DEMO_EXTENSIONS: readonly string[] = Object.freeze([
  'model_repository',
  'model_configuration',
  'system_shared_memory',
  'cuda_shared_memory',
  'binary_tensor_data',
  'parameters',
  'statistics',
  'trace',
  'logging',
]);

type Unary<Req> = handleUnaryCall<Req, object>;

/** ModelMetadata: signature of a ready model; NOT_FOUND / UNAVAILABLE otherwise. */
function modelMetadata(context: DemoContext): Unary<ModelRefRequest> {
  return ({ request }, callback) => {
    const model = context.registry.resolveReady(request.name, request.version);
    if (!model.ok) {
      answer(callback, model);
      return;
    }
    const { name, inputs, outputs } = model.value;
    answer(
      callback,
      succeed({ name, versions: [DEMO_MODEL_VERSION], platform: 'python', inputs, outputs }),
    );
  };
}

/** ModelConfig: the configuration of a ready model; NOT_FOUND / UNAVAILABLE otherwise. */
function modelConfig(context: DemoContext): Unary<ModelRefRequest> {
  return ({ request }, callback) => {
    const model = context.registry.resolveReady(request.name, request.version);
    answer(callback, model.ok ? succeed({ config: model.value.config }) : model);
  };
}

/** ModelStatistics: one model's counters, or every model's for an empty name. */
function modelStatistics(context: DemoContext): Unary<ModelRefRequest> {
  return ({ request }, callback) => {
    const stats = context.registry.statistics(request.name, request.version);
    answer(callback, stats.ok ? succeed({ model_stats: stats.value }) : stats);
  };
}

/** RepositoryModelLoad / Unload: toggles readiness; NOT_FOUND outside the catalog. */
function repositoryToggle(context: DemoContext, loaded: boolean): Unary<RepositoryModelRequest> {
  return ({ request }, callback) => {
    const toggled = context.registry.setLoaded(request.model_name, loaded);
    context.logger.info({ model: request.model_name, loaded }, 'demo model readiness changed');
    answer(callback, toggled.ok ? succeed({}) : toggled);
  };
}

/** Handlers for the health, metadata, configuration, statistics and repository RPCs. */
export function adminHandlers(context: DemoContext): Record<string, UntypedHandleCall> {
  const { registry } = context;
  const metadata = {
    name: DEMO_SERVER_NAME,
    version: PACKAGE_VERSION,
    extensions: DEMO_EXTENSIONS,
  };
  const serverLive: Unary<object> = (_call, callback) => callback(null, { live: true });
  const serverReady: Unary<object> = (_call, callback) => callback(null, { ready: true });
  const serverMetadata: Unary<object> = (_call, callback) => callback(null, metadata);
  const modelReady: Unary<ModelRefRequest> = ({ request }, callback) =>
    callback(null, { ready: registry.isReady(request.name, request.version) });
  const repositoryIndex: Unary<{ ready: boolean }> = ({ request }, callback) =>
    callback(null, { models: registry.index(request.ready) });

  return {
    ServerLive: serverLive,
    ServerReady: serverReady,
    ModelReady: modelReady,
    ServerMetadata: serverMetadata,
    ModelMetadata: modelMetadata(context),
    ModelConfig: modelConfig(context),
    ModelStatistics: modelStatistics(context),
    RepositoryIndex: repositoryIndex,
    RepositoryModelLoad: repositoryToggle(context, true),
    RepositoryModelUnload: repositoryToggle(context, false),
  };
}
