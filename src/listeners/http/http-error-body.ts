// Error bodies in the caller's API: OpenAI's error object, or KServe's `{"error": "..."}`.

import type { LocalReply } from '../../pipeline/local-reply';
import type { HttpApi } from './http-api-routes';

/** OpenAI error `type` by HTTP status, as OpenAI's SDKs name their error classes. */
function openAIErrorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return status === 503 ? 'service_unavailable_error' : 'server_error';
  return 'invalid_request_error';
}

/**
 * The JSON body of a local reply. OpenAI routes (and requests no route recognised) get
 * `{"error":{"message","type","param","code"}}` with `code` the reply's detail; Triton routes
 * get KServe's `{"error":"<message>"}`. Messages never carry payload text.
 */
export function errorBody(api: HttpApi | undefined, reply: LocalReply): Buffer {
  const message = reply.error.message;
  if (api === 'triton') return Buffer.from(JSON.stringify({ error: message }));
  const type = openAIErrorType(reply.error.httpStatus);
  return Buffer.from(JSON.stringify({ error: { message, type, param: null, code: reply.detail } }));
}

/** The same error as one SSE event, for a stream whose status line is already sent. */
export function errorEvent(api: HttpApi | undefined, reply: LocalReply): Buffer {
  const done = api === 'triton' ? '' : 'data: [DONE]\n\n';
  return Buffer.from(`data: ${errorBody(api, reply).toString()}\n\n${done}`);
}
