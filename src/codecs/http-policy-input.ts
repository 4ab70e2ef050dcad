// What the policy reads from an HTTP request body: OpenAI facts, or a Triton infer body.

import { decodeTritonGenerateRequest } from './triton-http-generate-codec';
import { decodeTritonInferRequest } from './triton-http-infer-codec';
import type { TritonParameters } from './triton-http-facts';
import { parseInferenceHeaderLength } from './triton-http-binary-data';
import type { HttpMessage } from './http-message';
import type { Exchange } from '../pipeline/exchange';
import type { RequestLimitFacts } from '../identity/policy';
import type { PolicyInput, PolicyInputReader } from './policy-input';

/**
 * A reader for HTTP request bodies. OpenAI requests were decoded while routing and carry their
 * facts (`n`, the largest token limit field, the number of inputs as the batch size); Triton
 * infer and generate bodies are decoded here, and only when some role limits them.
 */
export function httpPolicyInputReader(decodeLimits: boolean): PolicyInputReader<HttpMessage> {
  return (exchange, message) => {
    if (message.kind !== 'request-body') return { model: exchange.model, limits: {} };
    const requestBytes = message.frame.length;
    const openai = message.openai;
    if (openai !== undefined) {
      const limits = {
        requestBytes,
        maxTokens: openai.maxTokens,
        n: openai.n,
        batchSize: openai.inputCount,
      };
      return { model: openai.model, limits };
    }
    const limits = decodeLimits ? tritonLimits(exchange, message.frame) : {};
    return { model: exchange.model, limits: { ...limits, requestBytes } } satisfies PolicyInput;
  };
}

function tritonLimits(exchange: Exchange, body: Buffer): RequestLimitFacts {
  if (exchange.operation === 'triton.infer') {
    const facts = decodeTritonInferRequest(body, inferenceHeaderLength(exchange));
    return { batchSize: facts.batchSize, maxTokens: maxTokensOf(facts.parameters) };
  }
  if (exchange.operation === 'triton.generate' || exchange.operation === 'triton.generate_stream') {
    return { maxTokens: maxTokensOf(decodeTritonGenerateRequest(body).parameters) };
  }
  return {};
}

function inferenceHeaderLength(exchange: Exchange): number | undefined {
  return parseInferenceHeaderLength(exchange.requestHeaders['inference-header-content-length']);
}

function maxTokensOf(parameters: TritonParameters): number | undefined {
  const value = parameters.max_tokens;
  return typeof value === 'number' ? value : undefined;
}
