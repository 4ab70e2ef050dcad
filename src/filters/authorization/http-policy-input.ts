// What the policy reads from an HTTP request body: OpenAI facts, or a Triton infer body.

import { decodeTritonGenerateRequest } from '../../codecs/triton-http-generate-codec';
import { decodeTritonInferRequest } from '../../codecs/triton-http-infer-codec';
import type { TritonParameters } from '../../codecs/triton-http-facts';
import { ProxyError } from '../../errors/proxy-error';
import type { HttpMessage } from '../../codecs/http-message';
import type { Exchange } from '../../pipeline/exchange';
import type { RequestLimitFacts } from '../../identity/policy';
import type { PolicyInput, PolicyInputReader } from './authorization-filter';

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
  const value = exchange.requestHeaders['inference-header-content-length'];
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value[0]! : value;
  if (!/^\d{1,15}$/.test(text)) {
    throw new ProxyError('ERR_MALFORMED_HEADER', 'Inference-Header-Content-Length is not a length');
  }
  return Number(text);
}

function maxTokensOf(parameters: TritonParameters): number | undefined {
  const value = parameters.max_tokens;
  return typeof value === 'number' ? value : undefined;
}
