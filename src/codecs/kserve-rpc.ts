// The KServe v2 / Triton and gRPC health RPC tables, and the read of the model a request names.

import { ProtobufWireReader, WireType } from './protobuf-wire-reader';

/** The fully qualified KServe v2 / Triton inference service (protos/kserve/grpc_service.proto). */
export const KSERVE_SERVICE = 'inference.GRPCInferenceService';

/** The standard gRPC health service Triton also serves (protos/grpc/health/v1/health.proto). */
export const HEALTH_SERVICE = 'grpc.health.v1.Health';

/** Every RPC of `inference.GRPCInferenceService` (protos/kserve/grpc_service.proto). */
export type KserveRpc =
  | 'ServerLive'
  | 'ServerReady'
  | 'ModelReady'
  | 'ServerMetadata'
  | 'ModelMetadata'
  | 'ModelInfer'
  | 'ModelStreamInfer'
  | 'ModelConfig'
  | 'ModelStatistics'
  | 'RepositoryIndex'
  | 'RepositoryModelLoad'
  | 'RepositoryModelUnload'
  | 'SystemSharedMemoryStatus'
  | 'SystemSharedMemoryRegister'
  | 'SystemSharedMemoryUnregister'
  | 'CudaSharedMemoryStatus'
  | 'CudaSharedMemoryRegister'
  | 'CudaSharedMemoryUnregister'
  | 'TraceSetting'
  | 'LogSettings';

/** Every RPC of `grpc.health.v1.Health`. */
export type HealthRpc = 'Check' | 'Watch';

/** Where a request message names its model: string field numbers; `version` absent for some. */
export interface ModelFieldSpec {
  readonly name: number;
  readonly version: number | undefined;
}

/** What the gateway knows of one RPC before reading any message of it. */
export interface RpcSpec {
  readonly service: string;
  readonly name: string;
  /** The HTTP/2 `:path`: `/<service>/<name>` (gRPC over HTTP/2). */
  readonly path: string;
  readonly clientStreaming: boolean;
  readonly serverStreaming: boolean;
  /** Where each request message names a model; undefined when the RPC names none. */
  readonly modelField: ModelFieldSpec | undefined;
}

type RpcShape = 'unary' | 'server' | 'bidi';
type RpcRow<Name extends string> = readonly [name: Name, shape: RpcShape, model?: ModelFieldSpec];

const NAME_AND_VERSION: ModelFieldSpec = { name: 1, version: 2 };
const MODEL_NAME_ONLY: ModelFieldSpec = { name: 2, version: undefined };

// Field numbers from protos/kserve/grpc_service.proto. ModelStatistics with an empty name asks for
// every model, and TraceSetting with an empty model_name changes the global settings: authorization
// must treat model '' on those two as "all models", not as a model named ''.
const KSERVE_ROWS: readonly RpcRow<KserveRpc>[] = [
  ['ServerLive', 'unary'],
  ['ServerReady', 'unary'],
  ['ModelReady', 'unary', NAME_AND_VERSION],
  ['ServerMetadata', 'unary'],
  ['ModelMetadata', 'unary', NAME_AND_VERSION],
  ['ModelInfer', 'unary', NAME_AND_VERSION],
  ['ModelStreamInfer', 'bidi', NAME_AND_VERSION],
  ['ModelConfig', 'unary', NAME_AND_VERSION],
  ['ModelStatistics', 'unary', NAME_AND_VERSION],
  ['RepositoryIndex', 'unary'],
  ['RepositoryModelLoad', 'unary', MODEL_NAME_ONLY],
  ['RepositoryModelUnload', 'unary', MODEL_NAME_ONLY],
  ['SystemSharedMemoryStatus', 'unary'],
  ['SystemSharedMemoryRegister', 'unary'],
  ['SystemSharedMemoryUnregister', 'unary'],
  ['CudaSharedMemoryStatus', 'unary'],
  ['CudaSharedMemoryRegister', 'unary'],
  ['CudaSharedMemoryUnregister', 'unary'],
  ['TraceSetting', 'unary', MODEL_NAME_ONLY],
  ['LogSettings', 'unary'],
];

const HEALTH_ROWS: readonly RpcRow<HealthRpc>[] = [
  ['Check', 'unary'],
  ['Watch', 'server'],
];

function buildTable(
  service: string,
  rows: readonly RpcRow<string>[],
): ReadonlyMap<string, RpcSpec> {
  const table = new Map<string, RpcSpec>();
  for (const [name, shape, modelField] of rows) {
    table.set(name, {
      service,
      name,
      path: `/${service}/${name}`,
      clientStreaming: shape === 'bidi',
      serverStreaming: shape !== 'unary',
      modelField,
    });
  }
  return table;
}

/** Every RPC of `inference.GRPCInferenceService`, keyed by RPC name (`ModelInfer`). */
export const KSERVE_RPCS: ReadonlyMap<string, RpcSpec> = buildTable(KSERVE_SERVICE, KSERVE_ROWS);

/** Every RPC of `grpc.health.v1.Health`, keyed by RPC name; none names a model. */
export const HEALTH_RPCS: ReadonlyMap<string, RpcSpec> = buildTable(HEALTH_SERVICE, HEALTH_ROWS);

/** The model a request names. `model` is '' when the field is absent; `version` '' = latest. */
export interface ModelTarget {
  readonly model: string;
  readonly version: string;
}

/**
 * Validates the top-level framing of one request message of `spec` and reads the model it
 * names, in a single pass. Returns undefined for RPCs that name no model. The last occurrence of
 * a field wins, as protobuf merges non-repeated fields; a field with a wire type other than 2
 * is skipped as unknown, as the upstream's parser skips it. Throws `ProxyError`
 * `ERR_MALFORMED_MESSAGE` on broken framing or a model name or version that is not UTF-8.
 */
export function readModelTarget(spec: RpcSpec, payload: Buffer): ModelTarget | undefined {
  const field = spec.modelField;
  const reader = new ProtobufWireReader(payload);
  let model = '';
  let version = '';
  while (reader.hasMore()) {
    const fieldNumber = reader.readTag();
    if (field === undefined || reader.wireType !== WireType.LEN) reader.skipField();
    else if (fieldNumber === field.name) model = reader.readString();
    else if (fieldNumber === field.version) version = reader.readString();
    else reader.readDelimited();
  }

  return field === undefined ? undefined : { model, version };
}
