// The KServe v2 / Triton gRPC codec surface: RPC tables, model targets, infer facts, rewrites.

export { encodeStreamInferError } from './protobuf-wire-writer';
export * from './kserve-infer-facts';
export { decodeInferRequest } from './kserve-request-codec';
export { decodeInferResponse, decodeStreamInferResponse } from './kserve-response-codec';
export * from './kserve-rpc';
