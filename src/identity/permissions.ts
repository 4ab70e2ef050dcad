// Which permission of the policy each operation of each protocol needs.

import type { Permission } from '../config/identity-schema';

/**
 * Operation (as exchanges name them: the gRPC method, or the HTTP operation the codecs
 * classified) to the permission a role needs for it. One permission covers the same action in
 * every protocol, so a role written once holds for gRPC and HTTP clients alike.
 */
const PERMISSION_BY_OPERATION: ReadonlyMap<string, Permission> = new Map<string, Permission>([
  ['ServerLive', 'metadata'],
  ['ServerReady', 'metadata'],
  ['ModelReady', 'metadata'],
  ['ServerMetadata', 'metadata'],
  ['ModelMetadata', 'metadata'],
  ['Check', 'metadata'],
  ['Watch', 'metadata'],
  ['ModelInfer', 'infer'],
  ['ModelStreamInfer', 'stream_infer'],
  ['ModelConfig', 'model_config'],
  ['ModelStatistics', 'statistics'],
  ['RepositoryIndex', 'repository'],
  ['RepositoryModelLoad', 'repository'],
  ['RepositoryModelUnload', 'repository'],
  ['SystemSharedMemoryStatus', 'shared_memory'],
  ['SystemSharedMemoryRegister', 'shared_memory'],
  ['SystemSharedMemoryUnregister', 'shared_memory'],
  ['CudaSharedMemoryStatus', 'shared_memory'],
  ['CudaSharedMemoryRegister', 'shared_memory'],
  ['CudaSharedMemoryUnregister', 'shared_memory'],
  ['TraceSetting', 'trace'],
  ['LogSettings', 'log'],
  ['triton.server_metadata', 'metadata'],
  ['triton.health', 'metadata'],
  ['triton.model_metadata', 'metadata'],
  ['triton.model_ready', 'metadata'],
  ['triton.model_config', 'model_config'],
  ['triton.statistics', 'statistics'],
  ['triton.infer', 'infer'],
  ['triton.generate', 'infer'],
  ['triton.generate_stream', 'stream_infer'],
  ['triton.repository_index', 'repository'],
  ['triton.repository_load', 'repository'],
  ['triton.repository_unload', 'repository'],
  ['triton.shared_memory', 'shared_memory'],
  ['triton.trace', 'trace'],
  ['triton.logging', 'log'],
  ['chat.completions', 'chat'],
  ['completions', 'completions'],
  ['embeddings', 'embeddings'],
  ['responses', 'responses'],
  ['models', 'models'],
  ['tokenize', 'tokenize'],
  ['detokenize', 'tokenize'],
  ['health', 'metadata'],
  ['version', 'metadata'],
]);

/**
 * The operations that load or unload a model of the server's repository (KServe v2
 * RepositoryModelLoad and RepositoryModelUnload, Triton HTTP `POST
 * /v2/repository/models/NAME/load|unload`): the `repository` operations that change what the
 * server runs, as opposed to listing it.
 */
export const MODEL_LOADING_OPERATIONS: ReadonlySet<string> = new Set([
  'RepositoryModelLoad',
  'RepositoryModelUnload',
  'triton.repository_load',
  'triton.repository_unload',
]);

/**
 * The permission `operation` needs, or undefined for an operation the table does not know:
 * the policy refuses those (deny by default), so a new operation is unreachable until a
 * permission covers it.
 */
export function permissionFor(operation: string): Permission | undefined {
  return PERMISSION_BY_OPERATION.get(operation);
}
