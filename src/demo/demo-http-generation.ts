// What the demo models generate for HTTP requests: tokens per choice, finish reasons and usage.

import { ECHO_MODEL } from './demo-models';
import { limitTokens, replyTokens, tokenize, type TokenLimits } from './reply-script';

/** Why a choice stopped: its reply ran out, or the token limit cut it (OpenAI finish_reason). */
export type FinishReason = 'stop' | 'length';

/** One generated choice of an answer. */
export interface ChoicePlan {
  /** `choices[].index`: prompt position × n + choice position, as vLLM numbers them. */
  readonly index: number;
  readonly tokens: readonly string[];
  readonly finishReason: FinishReason;
}

/** Token counts in OpenAI's `usage` shape. */
export interface TokenUsage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
}

/**
 * The tokens a model answers `prompt` with: the script reply (picked as on the gRPC side) for
 * `demo-chat`, the prompt's own words for `echo`; then fitted to `limits` as the gRPC side does
 * (`exactTokens` wins over `maxTokens`). Finishes with 'length' only when `maxTokens` cut it.
 */
export function generate(
  model: string,
  prompt: string,
  limits: TokenLimits,
): { tokens: string[]; finishReason: FinishReason } {
  const full = model === ECHO_MODEL ? tokenize(prompt) : replyTokens(Buffer.from(prompt));
  const tokens = limitTokens(full, limits);
  const cut = limits.exactTokens === undefined && tokens.length < full.length;
  return { tokens, finishReason: cut ? 'length' : 'stop' };
}

/** `n` choices for each prompt, numbered prompt by prompt. */
export function planChoices(
  model: string,
  prompts: readonly string[],
  n: number,
  limits: TokenLimits,
): ChoicePlan[] {
  return prompts.flatMap((prompt, promptIndex) => {
    const { tokens, finishReason } = generate(model, prompt, limits);
    return Array.from({ length: n }, (_, i) => ({
      index: promptIndex * n + i,
      tokens,
      finishReason,
    }));
  });
}

/** Counts word tokens, the demo tokenizer's unit. */
export function countTokens(text: string): number {
  return tokenize(text).length;
}

/** Usage of an answer: prompt tokens counted once, completion tokens over every choice. */
export function usageOf(promptTokens: number, choices: readonly ChoicePlan[]): TokenUsage {
  const completion = choices.reduce((sum, choice) => sum + choice.tokens.length, 0);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completion,
    total_tokens: promptTokens + completion,
  };
}

/** The most tokens any choice has: how long generating the answer takes, in token steps. */
export function longestChoice(choices: readonly ChoicePlan[]): number {
  return choices.reduce((longest, choice) => Math.max(longest, choice.tokens.length), 0);
}
