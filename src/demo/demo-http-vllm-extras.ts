// vLLM's model list and its extra routes: /v1/models, /tokenize, /detokenize, /health, /version.

import type { HttpExchange } from './demo-http-exchange';
import { conversationText } from './demo-http-openai-prompts';
import { answerFault, openOpenAiRequest } from './demo-http-openai-request';
import { isTokenIds } from './demo-http-request-fields';

/** Context length every demo model reports (`max_model_len`). */
export const DEMO_MAX_MODEL_LEN = 4096;

/** GET /v1/models: the ready models in vLLM's ModelCard shape (vLLM). */
export function handleListModels(exchange: HttpExchange): void {
  const { registry, startedS } = exchange.context;
  const data = registry
    .index(true)
    .map(({ name }) => modelCard(name, startedS, exchange.context.nextId('modelperm-')));
  exchange.sendJson(200, { object: 'list', data });
}

/** One vLLM ModelCard, with the permission entry vLLM attaches. */
function modelCard(name: string, created: number, permissionId: string): object {
  return {
    id: name,
    object: 'model',
    created,
    owned_by: 'vllm',
    root: name,
    parent: null,
    max_model_len: DEMO_MAX_MODEL_LEN,
    permission: [
      {
        id: permissionId,
        object: 'model_permission',
        created,
        allow_create_engine: false,
        allow_sampling: true,
        allow_logprobs: true,
        allow_search_indices: false,
        allow_view: true,
        allow_fine_tuning: false,
        organization: '*',
        group: null,
        is_blocking: false,
      },
    ],
  };
}

/**
 * POST /tokenize: `{prompt}` or `{messages}` (every message's text) to word-token ids,
 * answering `{count, max_model_len, tokens}` plus `token_strs` when `return_token_strs` is
 * true. Answers 400 when neither text field is usable, 404 for a model that is not served.
 */
export function handleTokenize(exchange: HttpExchange): void {
  const request = openOpenAiRequest(exchange);
  if (request === undefined) {
    return;
  }
  const { fields } = request;
  const prompt = fields.string('prompt');
  const messages = fields.array('messages');
  const withStrings = fields.boolean('return_token_strs') ?? false;
  if (prompt === undefined && messages === undefined) {
    fields.reject('prompt', "'prompt' or 'messages' is required");
  }
  if (answerFault(exchange, fields)) {
    return;
  }

  const text = prompt ?? conversationText(messages ?? []);
  const { ids, tokens } = exchange.context.vocabulary.encode(text);
  exchange.sendJson(200, {
    count: ids.length,
    max_model_len: DEMO_MAX_MODEL_LEN,
    tokens: ids,
    token_strs: withStrings ? tokens : null,
  });
}

/**
 * POST /detokenize: `{tokens}` back to `{prompt}`. Answers 400 for a malformed list or an id
 * this server has not seen (see `DemoVocabulary`), 404 for a model that is not served.
 */
export function handleDetokenize(exchange: HttpExchange): void {
  const request = openOpenAiRequest(exchange);
  if (request === undefined) {
    return;
  }
  const { fields } = request;
  const ids = fields.value('tokens');
  const { vocabulary } = exchange.context;
  if (!isTokenIds(ids)) {
    fields.reject('tokens', "'tokens' must be a list of token ids");
  } else if (vocabulary.unknownId(ids) !== undefined) {
    fields.reject('tokens', `token id ${vocabulary.unknownId(ids)} is not in the demo vocabulary`);
  }
  if (answerFault(exchange, fields) || !isTokenIds(ids)) {
    return;
  }
  exchange.sendJson(200, { prompt: vocabulary.decode(ids) });
}

/** GET /health: 200 with an empty body while serving. */
export function handleHealth(exchange: HttpExchange): void {
  exchange.sendEmpty(200);
}

/** GET /version: `{"version": ...}`, the infergate package version. */
export function handleVersion(exchange: HttpExchange): void {
  exchange.sendJson(200, { version: exchange.context.version });
}
