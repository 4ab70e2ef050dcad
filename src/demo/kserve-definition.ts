// Loads the KServe v2 / Triton and gRPC health protos from the repository's protos/ folder.

import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTOS_DIR } from '../protos-dir';

/**
 * proto-loader options shared by the demo server, the tests and the benchmark. int64 values
 * come out as decimal strings, enums as their names, unset fields as defaults, and a set oneof
 * member is named by a virtual `<oneof>` field (e.g. `parameter_choice: 'bool_param'`).
 */
export const KSERVE_LOADER_OPTIONS: protoLoader.Options = Object.freeze({
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});

/** Absolute path of the repository's protos/ folder (holding kserve/ and grpc/health/v1/). */
export { PROTOS_DIR };

/** The loaded services: client constructors whose `.service` is the server-side definition. */
export interface KserveDefinition {
  /** The raw proto-loader output, keyed by fully-qualified names (`inference.ModelConfig`). */
  readonly packageDefinition: protoLoader.PackageDefinition;
  /** `inference.GRPCInferenceService`. */
  readonly GRPCInferenceService: grpc.ServiceClientConstructor;
  /** `grpc.health.v1.Health`. */
  readonly Health: grpc.ServiceClientConstructor;
}

let cached: KserveDefinition | undefined;

/** Narrows one entry of a loaded gRPC object to a service client constructor. */
function pickService(root: grpc.GrpcObject, dottedName: string): grpc.ServiceClientConstructor {
  let node: unknown = root;
  for (const part of dottedName.split('.')) {
    node = (node as Record<string, unknown> | undefined)?.[part];
  }
  if (typeof node !== 'function' || !('service' in node)) {
    throw new Error(`service ${dottedName} is missing from the loaded protos in ${PROTOS_DIR}`);
  }
  return node as grpc.ServiceClientConstructor;
}

/**
 * Loads (once, then from cache) the KServe inference service and the gRPC health service.
 * Throws when the proto files cannot be found or parsed; `model_config.proto` is resolved
 * through the include directory `protos/kserve`, as Triton's own import expects.
 */
export function loadKserveDefinition(): KserveDefinition {
  if (cached !== undefined) {
    return cached;
  }

  const packageDefinition = protoLoader.loadSync(
    ['grpc_service.proto', path.join('grpc', 'health', 'v1', 'health.proto')],
    { ...KSERVE_LOADER_OPTIONS, includeDirs: [path.join(PROTOS_DIR, 'kserve'), PROTOS_DIR] },
  );
  const root = grpc.loadPackageDefinition(packageDefinition);

  cached = Object.freeze({
    packageDefinition,
    GRPCInferenceService: pickService(root, 'inference.GRPCInferenceService'),
    Health: pickService(root, 'grpc.health.v1.Health'),
  });
  return cached;
}
