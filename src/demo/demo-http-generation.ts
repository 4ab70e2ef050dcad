// What the demo models generate for HTTP requests: tokens per choice, finish reasons and usage.

import { echoesPrompt } from './demo-models';
import { codePointPieces, prefixPieces, wordPieces } from './echo-pieces';
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

/** Token limits, and how the echo models cut their pieces. */
export interface GenerationOptions extends TokenLimits {
  /**
   * `demo_token_bytes` over HTTP: the echo models answer in pieces of this many code points
   * (not bytes: a JSON string cannot carry part of a character) instead of words.
   */
  readonly pieceCodePoints?: number;
}

/** Token counts in OpenAI's `usage` shape. */
export interface TokenUsage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
}

/**
 * The tokens a model answers `prompt` with: the script reply (picked as on the gRPC side) for
 * `demo-chat`; for `echo` and `echo-stream` the prompt itself, in words or, with
 * `pieceCodePoints`, in pieces of that many code points. Words and tokens are fitted to the
 * limits as the gRPC side does (`exactTokens` wins over `maxTokens`), pieces by `prefixPieces`.
 * Finishes with 'length' only when `maxTokens` cut it.
 */
export function generate(
  model: string,
  prompt: string,
  options: GenerationOptions,
): { tokens: string[]; finishReason: FinishReason } {
  const pieceSize = echoesPrompt(model) ? options.pieceCodePoints : undefined;
  const full = fullAnswer(model, prompt, pieceSize);
  const tokens = pieceSize === undefined ? limitTokens(full, options) : prefixPieces(full, options);
  const cut = options.exactTokens === undefined && tokens.length < full.length;
  return { tokens, finishReason: cut ? 'length' : 'stop' };
}

/** Every token of a model's answer before limits: pieces of the prompt, or the script reply. */
function fullAnswer(model: string, prompt: string, pieceSize: number | undefined): string[] {
  if (!echoesPrompt(model)) {
    return replyTokens(Buffer.from(prompt));
  }
  return pieceSize === undefined ? wordPieces(prompt) : codePointPieces(prompt, pieceSize);
}

/** `n` choices for each prompt, numbered prompt by prompt. */
export function planChoices(
  model: string,
  prompts: readonly string[],
  n: number,
  options: GenerationOptions,
): ChoicePlan[] {
  return prompts.flatMap((prompt, promptIndex) => {
    const { tokens, finishReason } = generate(model, prompt, options);
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
