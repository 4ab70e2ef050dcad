// The request facts an audit frame records: what the policy decides on, as strings.

import type { GrpcMessage } from '../../codecs/grpc-message';
import type { HttpMessage } from '../../codecs/http-message';
import {
  isInferenceOperation,
  readInferRequest,
  requestEncoding,
} from '../../codecs/kserve-request-message';
import type { Exchange } from '../../pipeline/exchange';

/** The facts of a KServe inference request the policy decides on, as strings. */
export function grpcRequestFacts(maxMessageBytes: number) {
  return (
    exchange: Exchange,
    message: GrpcMessage,
  ): Readonly<Record<string, string>> | undefined => {
    if (!isInferenceOperation(exchange.operation)) return undefined;
    const encoding = requestEncoding(exchange.requestHeaders);
    const { facts } = readInferRequest(message, encoding, maxMessageBytes);
    const out: Record<string, string> = { inputs: String(facts.inputs.length) };
    if (facts.batchSize !== undefined) out.batch = String(facts.batchSize);
    const maxTokens = facts.parameters.max_tokens;
    if (typeof maxTokens === 'number' || typeof maxTokens === 'bigint') {
      out.max_tokens = String(maxTokens);
    }
    return out;
  };
}

/** The OpenAI request facts the policy decides on, as strings. */
export function httpRequestFacts(
  _exchange: Exchange,
  message: HttpMessage,
): Readonly<Record<string, string>> | undefined {
  if (message.kind !== 'request-body' || message.openai === undefined) return undefined;
  const { stream, n, maxTokens, inputCount, toolCount } = message.openai;
  const facts: Record<string, string> = { stream: String(stream) };
  if (n !== undefined) facts.n = String(n);
  if (maxTokens !== undefined) facts.max_tokens = String(maxTokens);
  if (inputCount !== undefined) facts.inputs = String(inputCount);
  if (toolCount > 0) facts.tools = String(toolCount);
  return facts;
}
