// What the policy reads from a KServe gRPC request message.

import type { GrpcMessage } from './grpc-message';
import { isInferenceOperation, readInferRequest, requestEncoding } from './kserve-request-message';
import { KSERVE_RPCS } from './kserve-rpc';
import type { InferParameters } from './kserve-infer-facts';
import type { PolicyInput, PolicyInputReader } from './policy-input';

/** The gRPC length prefix: compressed flag and 4-byte length (gRPC over HTTP/2). */
const PREFIX_BYTES = 5;

/**
 * A reader for gRPC request messages. The model comes from the router's reading of the message;
 * an RPC that has a model field and leaves it empty reads as '' (ModelStatistics and
 * TraceSetting mean every model by it), never as "no model", so an empty name cannot slip past
 * a role's model patterns. Inference messages are decoded for their batch size and `max_tokens`
 * parameter only when some role limits them (`decodeLimits`).
 */
export function grpcPolicyInputReader(
  maxMessageBytes: number,
  decodeLimits: boolean,
): PolicyInputReader<GrpcMessage> {
  return (exchange, message) => {
    const spec = KSERVE_RPCS.get(exchange.operation);
    const model = spec?.modelField === undefined ? undefined : (message.model ?? '');
    const requestBytes = message.frame.length - PREFIX_BYTES;
    if (!decodeLimits || !isInferenceOperation(exchange.operation))
      return { model, limits: { requestBytes } };

    const encoding = requestEncoding(exchange.requestHeaders);
    const { facts } = readInferRequest(message, encoding, maxMessageBytes);
    const limits = {
      requestBytes,
      batchSize: facts.batchSize,
      maxTokens: maxTokensOf(facts.parameters),
    };
    return { model, limits } satisfies PolicyInput;
  };
}

// Limitation: TensorRT-LLM ensembles may also take the token limit as an INT32 input tensor
// named `max_tokens`; the codec exposes no numeric tensor contents, so only the request
// parameter is limited.
function maxTokensOf(parameters: InferParameters): number | undefined {
  const value = parameters.max_tokens;
  if (typeof value === 'bigint') return Number.MAX_SAFE_INTEGER;
  return typeof value === 'number' ? value : undefined;
}
