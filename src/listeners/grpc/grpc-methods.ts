// The gRPC methods the listener relays, found by their HTTP/2 :path.

import { HEALTH_RPCS, KSERVE_RPCS, type RpcSpec } from '../../codecs/kserve-rpc';

const BY_PATH: ReadonlyMap<string, RpcSpec> = new Map(
  [...KSERVE_RPCS.values(), ...HEALTH_RPCS.values()].map((spec) => [spec.path, spec]),
);

/** The method for a `:path` such as `/inference.GRPCInferenceService/ModelInfer`, if relayed. */
export function findGrpcMethod(path: string): RpcSpec | undefined {
  return BY_PATH.get(path);
}
