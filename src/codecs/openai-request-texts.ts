// Where OpenAI-protocol request bodies carry prompt text, per operation (OpenAI API reference).

import { JsonPathSet } from './json-path';
import type { OpenAIOperation } from './openai-routes';

/** Where chat messages carry text: content strings and parts, tool arguments, echoed output. */
function messageTexts(list: string): string[] {
  return [
    `${list}.*.content`,
    `${list}.*.content.*.text`,
    `${list}.*.content.*.refusal`,
    `${list}.*.refusal`,
    `${list}.*.reasoning`,
    `${list}.*.reasoning_content`,
    `${list}.*.tool_calls.*.function.arguments`,
    `${list}.*.function_call.arguments`,
  ];
}

/**
 * Where each operation's request body carries prompt text (OpenAI API reference), as path patterns.
 * Tool definitions, schemas and URLs are not prompt text and are not listed. Threat: a field the
 * model reads as text but missing here reaches the model and the audit record unmasked, so a
 * card number in it escapes masking.
 */
export const REQUEST_TEXT_PATHS: Readonly<Record<OpenAIOperation, JsonPathSet>> = {
  'chat.completions': new JsonPathSet([...messageTexts('messages'), 'documents.*.*']),
  completions: new JsonPathSet(['prompt', 'prompt.*', 'suffix']),
  embeddings: new JsonPathSet(['input', 'input.*', ...messageTexts('messages')]),
  responses: new JsonPathSet([
    'instructions',
    'input',
    'input.*.content',
    'input.*.content.*.text',
    'input.*.content.*.refusal',
    'input.*.summary.*.text',
    'input.*.arguments',
    'input.*.output',
    'input.*.output.*.text',
  ]),
  tokenize: new JsonPathSet(['prompt', ...messageTexts('messages')]),
  detokenize: new JsonPathSet([]),
  models: new JsonPathSet([]),
  health: new JsonPathSet([]),
  version: new JsonPathSet([]),
};
