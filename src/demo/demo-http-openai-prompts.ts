// Finds the prompt text in OpenAI-style requests: chat messages, completion prompts, responses.

import type { DemoVocabulary } from './demo-http-vocabulary';
import { isRecord, isTokenIds } from './demo-http-request-fields';

/** Prompts found in a request, or why they could not be read. */
export type PromptResult = { ok: true; prompts: string[] } | { ok: false; message: string };

/**
 * The text of message content: a string, or the text of the part list's text parts
 * (`text` for chat, `input_text` / `output_text` for Responses) joined by newlines, as vLLM
 * joins them. Other parts (images, audio) carry no text.
 */
export function contentText(content: unknown): string {
  if (typeof content === 'string') {
    return content;
  }
  if (!Array.isArray(content)) {
    return '';
  }
  return content
    .filter((part) => isRecord(part) && typeof part.text === 'string')
    .map((part) => (part as { text: string }).text)
    .join('\n');
}

/** The text of the last message with role `user`; '' when there is none. */
export function lastUserText(messages: readonly unknown[]): string {
  const user = [...messages].reverse().find((message) => isUserMessage(message));
  return isRecord(user) ? contentText(user.content) : '';
}

/** Every message's text joined by newlines: what the prompt token count covers. */
export function conversationText(messages: readonly unknown[]): string {
  return messages
    .map((message) => (isRecord(message) ? contentText(message.content) : ''))
    .join('\n');
}

/** True for a chat message or Responses input item from the user. */
function isUserMessage(message: unknown): boolean {
  return isRecord(message) && message.role === 'user';
}

/**
 * The prompts of a completions request (OpenAI API): a string, a list of strings, a token-id list,
 * or a list of token-id lists. Token ids are decoded with the demo vocabulary.
 */
export function completionPrompts(value: unknown, vocabulary: DemoVocabulary): PromptResult {
  if (typeof value === 'string') {
    return { ok: true, prompts: [value] };
  }
  if (isTokenIds(value) && value.length > 0) {
    return decodedPrompts([value], vocabulary);
  }
  if (!Array.isArray(value) || value.length === 0) {
    return { ok: false, message: "'prompt' must be a string, a list of them, or token ids" };
  }
  if (value.every((item) => typeof item === 'string')) {
    return { ok: true, prompts: value as string[] };
  }
  if (value.every((item) => isTokenIds(item))) {
    return decodedPrompts(value as number[][], vocabulary);
  }
  return { ok: false, message: "'prompt' must be a string, a list of them, or token ids" };
}

/** Token-id prompts decoded; fails naming the first id this server does not know. */
export function decodedPrompts(
  lists: readonly number[][],
  vocabulary: DemoVocabulary,
): PromptResult {
  for (const ids of lists) {
    const unknown = vocabulary.unknownId(ids);
    if (unknown !== undefined) {
      return { ok: false, message: `token id ${unknown} is not in the demo vocabulary` };
    }
  }
  return { ok: true, prompts: lists.map((ids) => vocabulary.decode(ids)) };
}

/**
 * The prompt of a Responses request: `input` as a string, or the text of the last user item
 * of an input item list. Undefined when `input` is neither.
 */
export function responsesPrompt(input: unknown): string | undefined {
  if (typeof input === 'string') {
    return input;
  }
  return Array.isArray(input) ? lastUserText(input) : undefined;
}
