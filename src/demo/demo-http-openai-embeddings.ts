// POST /v1/embeddings: small deterministic vectors derived from a hash of each input text.

import type { HttpExchange } from './demo-http-exchange';
import { countTokens } from './demo-http-generation';
import { decodedPrompts, type PromptResult } from './demo-http-openai-prompts';
import { answerFault, openOpenAiRequest } from './demo-http-openai-request';
import { isTokenIds, type FieldReader } from './demo-http-request-fields';
import type { DemoVocabulary } from './demo-http-vocabulary';
import { fnv1a32 } from './reply-script';

/** Vector length when the request does not name `dimensions`. */
export const DEFAULT_EMBEDDING_DIMENSIONS = 16;

/** Longest vector the demo server makes. */
const MAX_EMBEDDING_DIMENSIONS = 4096;

/** Most inputs one request may embed. */
const MAX_EMBEDDING_INPUTS = 2048;

/** Bytes per element of a base64-encoded vector (little-endian float32, as OpenAI sends). */
const FLOAT32_BYTES = 4;

/** Seed for a text whose hash is 0, since xorshift never leaves 0. */
const ZERO_HASH_SEED = 0x9e3779b9;

/**
 * The unit-length embedding of `text`: an xorshift32 sequence seeded by the FNV-1a hash of its
 * bytes, scaled to [-1, 1) and normalized. The same text gives the same vector on every run.
 */
export function embeddingOf(text: string, dimensions: number): Float32Array {
  const vector = new Float32Array(dimensions);
  let state = fnv1a32(Buffer.from(text)) || ZERO_HASH_SEED;
  for (let i = 0; i < dimensions; i += 1) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    vector[i] = (state / 0x1_0000_0000) * 2 - 1;
  }

  const norm = Math.hypot(...vector) || 1;
  return vector.map((value) => value / norm);
}

/** The texts of `input` (OpenAI API): a string, strings, token ids, or lists of token ids. */
function embeddingInputs(input: unknown, vocabulary: DemoVocabulary): PromptResult {
  if (typeof input === 'string') {
    return { ok: true, prompts: [input] };
  }
  if (isTokenIds(input) && input.length > 0) {
    return decodedPrompts([input], vocabulary);
  }
  if (Array.isArray(input) && input.length > 0 && input.length <= MAX_EMBEDDING_INPUTS) {
    if (input.every((item) => typeof item === 'string')) {
      return { ok: true, prompts: input as string[] };
    }
    if (input.every((item) => isTokenIds(item))) {
      return decodedPrompts(input as number[][], vocabulary);
    }
  }
  const limit = MAX_EMBEDDING_INPUTS;
  return { ok: false, message: `'input' must be a string, token ids, or 1 to ${limit} of them` };
}

/** A vector as JSON numbers, or as base64 of its little-endian float32 bytes. */
function encodeEmbedding(vector: Float32Array, base64: boolean): number[] | string {
  if (!base64) {
    return Array.from(vector);
  }
  const bytes = Buffer.alloc(vector.length * FLOAT32_BYTES);
  vector.forEach((value, i) => bytes.writeFloatLE(value, i * FLOAT32_BYTES));
  return bytes.toString('base64');
}

/** `dimensions` and `encoding_format`, recording a fault for values out of range. */
function readVectorOptions(fields: FieldReader): { dimensions: number; base64: boolean } {
  const dimensions = fields.integer('dimensions', 1) ?? DEFAULT_EMBEDDING_DIMENSIONS;
  if (dimensions > MAX_EMBEDDING_DIMENSIONS) {
    fields.reject('dimensions', `'dimensions' must be at most ${MAX_EMBEDDING_DIMENSIONS}`);
  }
  const format = fields.string('encoding_format') ?? 'float';
  if (format !== 'float' && format !== 'base64') {
    fields.reject('encoding_format', "'encoding_format' must be 'float' or 'base64'");
  }
  return { dimensions, base64: format === 'base64' };
}

/**
 * POST /v1/embeddings: one vector per input, `dimensions` long (default 16), as floats or as
 * base64 (`encoding_format`; the official SDK asks for base64 by default). Answers 400 for a
 * malformed input or option, 404 for a model that is not served.
 */
export function handleEmbeddings(exchange: HttpExchange): void {
  const request = openOpenAiRequest(exchange);
  if (request === undefined) {
    return;
  }
  const { fields, model } = request;
  const inputs = embeddingInputs(fields.value('input'), exchange.context.vocabulary);
  if (!inputs.ok) {
    fields.reject('input', inputs.message);
  }
  const { dimensions, base64 } = readVectorOptions(fields);
  if (answerFault(exchange, fields) || !inputs.ok) {
    return;
  }

  const data = inputs.prompts.map((text, index) => ({
    index,
    object: 'embedding',
    embedding: encodeEmbedding(embeddingOf(text, dimensions), base64),
  }));
  const promptTokens = inputs.prompts.reduce((sum, text) => sum + countTokens(text), 0);
  exchange.sendJson(200, {
    id: exchange.context.nextId('embd-'),
    object: 'list',
    created: Math.floor(Date.now() / 1000),
    model,
    data,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens, completion_tokens: 0 },
  });
}
