// What a review rule reads from one request message, per protocol: the model and the facts.

import type { GrpcMessage } from '../../codecs/grpc-message';
import type { HttpMessage } from '../../codecs/http-message';
import type { Exchange } from '../../pipeline/exchange';
import type { ExchangeMessage } from '../../pipeline/filter';
import type { ReviewFacts } from '../../reviews/review-rules';
import { grpcPolicyInputReader } from '../../codecs/grpc-policy-input';
import { httpPolicyInputReader } from '../../codecs/http-policy-input';

/** The model a request message names and the facts a rule may weigh. */
export interface ReviewMessageInput {
  readonly model: string | undefined;
  readonly facts: ReviewFacts;
}

/** Reads a request message for the rules; throws ProxyError on a message it cannot read. */
export type ReviewInputReader<M extends ExchangeMessage> = (
  exchange: Exchange,
  message: M,
) => ReviewMessageInput;

/**
 * The HTTP reader: OpenAI bodies carry the facts the router decoded (the number of inputs is
 * `inputs`, not a batch); Triton bodies are read as the policy reads them, always decoded, since
 * a rule may bound them whatever the roles say.
 */
export function httpReviewInputReader(): ReviewInputReader<HttpMessage> {
  const policyInput = httpPolicyInputReader(true);
  return (exchange, message) => {
    if (message.kind === 'request-body' && message.openai !== undefined) {
      const { model, maxTokens, n, inputCount } = message.openai;
      return { model, facts: { maxTokens, n, inputs: inputCount } };
    }
    const { model, limits } = policyInput(exchange, message);
    return { model, facts: { maxTokens: limits.maxTokens, batch: limits.batchSize } };
  };
}

/** The gRPC reader: the KServe request's first-input batch and its `max_tokens` parameter. */
export function grpcReviewInputReader(maxMessageBytes: number): ReviewInputReader<GrpcMessage> {
  const policyInput = grpcPolicyInputReader(maxMessageBytes, true);
  return (exchange, message) => {
    const { model, limits } = policyInput(exchange, message);
    return { model, facts: { maxTokens: limits.maxTokens, batch: limits.batchSize } };
  };
}
