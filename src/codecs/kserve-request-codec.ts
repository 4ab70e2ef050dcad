// Decodes the facts of a KServe v2 ModelInferRequest without building the message.

import type { InferRequestFacts } from './kserve-infer-facts';
import { InferMessageScan, walkInferFields, walkRawContents } from './kserve-infer-message';

// Limitation: raw entries are attributed as Triton attributes them. KServe's Python server hands
// entry i to inputs[i] even when an input names a shared-memory region, so against such an
// upstream a request mixing shared-memory inputs with raw BYTES inputs can carry text in an entry
// the gateway does not read as text.
const REQUEST_LAYOUT = {
  rawField: 7,
  requestedOutputField: 6,
  rawSkipsNonRawTensors: true,
} as const;

/**
 * Reads a `ModelInferRequest` (protos/kserve/grpc_service.proto): model name, version, id,
 * parameters, inputs (data excluded), requested output names, and a `TextSpan` for every BYTES
 * element, from
 * `inputs[i].contents.bytes_contents` and from `raw_input_contents`. Raw entry k belongs to the
 * k-th input that carries neither a `shared_memory_region` parameter nor typed contents, as
 * Triton assigns them (with no such inputs, entry i belongs to inputs[i]). Spans index
 * `payload`, so `rewriteSpan` can rewrite the text in place.
 *
 * Walks only the submessages it reads; fields it does not know are skipped, with their framing
 * checked. Throws `ProxyError` `ERR_MALFORMED_MESSAGE` on broken framing, a string that is not
 * UTF-8, a shape dimension past 2^53, or a raw BYTES element whose length prefix leaves its entry.
 */
export function decodeInferRequest(payload: Buffer): InferRequestFacts {
  const scan = new InferMessageScan(payload, REQUEST_LAYOUT, 0);
  walkInferFields(scan, 0, payload.length);
  if (scan.needsRawWalk()) walkRawContents(scan, 0, payload.length);

  const { modelName, modelVersion, id, parameters, tensors, requestedOutputs, texts } = scan;
  const batchSize = tensors.length > 0 ? tensors[0].shape[0] : undefined;
  return {
    modelName,
    modelVersion,
    id,
    parameters,
    inputs: tensors,
    requestedOutputs,
    texts,
    batchSize,
  };
}
