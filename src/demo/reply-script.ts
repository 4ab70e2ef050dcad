// The demo chat model's canned replies, picked deterministically from the prompt and tokenized.

/**
 * What the demo chat model says. The reply for a prompt is fixed by a hash of the prompt
 * bytes, so tests and benchmarks see the same text for the same prompt on every run.
 */
export const REPLY_SCRIPT: readonly string[] = Object.freeze([
  'Hello from infergate, the gateway that checks every request before it reaches your model.',
  'Every prompt passes through a chain of filters that can mask, block or audit it on the way in.',
  'Streamed answers are inspected token by token, so a bad response can be stopped mid-stream.',
  'This reply comes from the bundled demo model server, not from a real language model.',
  'Point infergate at your Triton or KServe server and keep the clients you already use.',
  'Each exchange leaves a signed audit record that says who asked what and what was decided.',
  'Mutual TLS, tokens and per-model routes let you decide who may call which model.',
  'Try another prompt and you may get a different sentence from this small script.',
]);

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit FNV-1a hash of `bytes`, as an unsigned integer. */
export function fnv1a32(bytes: Uint8Array): number {
  let hash = FNV_OFFSET_BASIS;
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, FNV_PRIME) >>> 0;
  }
  return hash >>> 0;
}

/** The script reply for a prompt: FNV-1a of the prompt bytes modulo the script length. */
export function pickReply(prompt: Uint8Array): string {
  return REPLY_SCRIPT[fnv1a32(prompt) % REPLY_SCRIPT.length] ?? '';
}

/**
 * Splits text into word tokens, each word keeping its leading space, so that joining the
 * tokens gives the text back (`'a b'` becomes `['a', ' b']`).
 */
export function tokenize(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

/** How many tokens a generation should produce. */
export interface TokenLimits {
  /** Exactly this many tokens, cycling through the reply when it is shorter. */
  readonly exactTokens?: number;
  /** At most this many tokens of the reply. */
  readonly maxTokens?: number;
}

/** Token `index` of a reply repeated end to end; repeats start with a space like any word. */
function cyclicToken(replyTokens: readonly string[], index: number): string {
  const token = replyTokens[index % replyTokens.length] ?? '';
  return index >= replyTokens.length && !token.startsWith(' ') ? ` ${token}` : token;
}

/**
 * The tokens the demo chat model streams for a prompt. `exactTokens` wins over `maxTokens`;
 * with neither, the whole reply is produced.
 */
export function replyTokens(prompt: Uint8Array, limits: TokenLimits = {}): string[] {
  return limitTokens(tokenize(pickReply(prompt)), limits);
}

/**
 * Fits any token list to the limits as `replyTokens` does: `exactTokens` cycles or truncates
 * the list to that length and wins over `maxTokens`, which only truncates.
 */
export function limitTokens(tokens: readonly string[], limits: TokenLimits = {}): string[] {
  if (limits.exactTokens !== undefined) {
    return Array.from({ length: limits.exactTokens }, (_, i) => cyclicToken(tokens, i));
  }
  if (limits.maxTokens !== undefined) {
    return tokens.slice(0, limits.maxTokens);
  }
  return [...tokens];
}
