// Decodes the facts of KServe v2 ModelInferResponse and ModelStreamInferResponse messages.

import type { InferResponseFacts, StreamInferResponseFacts } from './kserve-infer-facts';
import { InferMessageScan, walkInferFields, walkRawContents } from './kserve-infer-message';
import { ProtobufWireReader, WireType } from './protobuf-wire-reader';

const RESPONSE_LAYOUT = {
  rawField: 6,
  requestedOutputField: undefined,
  rawSkipsNonRawTensors: false,
} as const;

const FINAL_RESPONSE_PARAMETER = 'triton_final_response';
const STREAM_ERROR_MESSAGE_FIELD = 1;
const STREAM_INFER_RESPONSE_FIELD = 2;

/**
 * Reads a `ModelInferResponse` (protos/kserve/grpc_service.proto): model name, version, id,
 * parameters, outputs (data excluded), whether it is the final decoupled response, and a `TextSpan`
 * for
 * every BYTES element of `outputs[i].contents.bytes_contents` and of `raw_output_contents`
 * (entry i belongs to outputs[i]). Span offsets are offsets in `payload` plus `base`: pass the
 * position of `payload` inside a larger buffer to get spans that index that buffer.
 * Throws `ProxyError` `ERR_MALFORMED_MESSAGE` as `decodeInferRequest` does.
 */
export function decodeInferResponse(payload: Buffer, base = 0): InferResponseFacts {
  const scan = new InferMessageScan(payload, RESPONSE_LAYOUT, base);
  walkInferFields(scan, 0, payload.length);
  if (scan.needsRawWalk()) walkRawContents(scan, 0, payload.length);
  return responseFacts(scan);
}

/**
 * Reads a `ModelStreamInferResponse` { error_message = 1, infer_response = 2 }. Spans index
 * `payload`, the outer message. Several `infer_response` occurrences are merged, as protobuf
 * merges a repeated submessage field. Throws `ProxyError` `ERR_MALFORMED_MESSAGE` as
 * `decodeInferRequest` does.
 */
export function decodeStreamInferResponse(payload: Buffer): StreamInferResponseFacts {
  const scan = new InferMessageScan(payload, RESPONSE_LAYOUT, 0);
  const reader = new ProtobufWireReader(payload);
  let errorMessage = '';
  let hasResponse = false;
  while (reader.hasMore()) {
    const fieldNumber = reader.readTag();
    const delimited = reader.wireType === WireType.LEN;
    if (delimited && fieldNumber === STREAM_ERROR_MESSAGE_FIELD) {
      errorMessage = reader.readString();
    } else {
      reader.skipField();
      if (!delimited || fieldNumber !== STREAM_INFER_RESPONSE_FIELD) continue;
      walkInferFields(scan, reader.valueStart, reader.valueEnd);
      hasResponse = true;
    }
  }

  if (hasResponse && scan.needsRawWalk()) walkStreamRawContents(scan, payload);
  return { errorMessage, response: hasResponse ? responseFacts(scan) : undefined };
}

function walkStreamRawContents(scan: InferMessageScan, payload: Buffer): void {
  const reader = new ProtobufWireReader(payload);
  while (reader.hasMore()) {
    reader.readTag();
    reader.skipField();
    if (reader.fieldNumber === STREAM_INFER_RESPONSE_FIELD && reader.wireType === WireType.LEN) {
      walkRawContents(scan, reader.valueStart, reader.valueEnd);
    }
  }
}

function responseFacts(scan: InferMessageScan): InferResponseFacts {
  const { modelName, modelVersion, id, parameters, tensors, texts } = scan;
  const finalResponse = parameters[FINAL_RESPONSE_PARAMETER] === true;
  return { modelName, modelVersion, id, parameters, outputs: tensors, texts, finalResponse };
}
