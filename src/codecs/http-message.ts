// An HTTP message as it moves through the chain.

import type { ExchangeMessage } from '../pipeline/filter';
import type { OpenAIRequestFacts } from './openai-request-codec';
import type { SseEventBytes } from './sse-decoder';

/**
 * What one HTTP message of the chain is: the whole request body, one SSE event of a streamed
 * response (with its parsed fields), a whole response body (JSON, or a Triton binary infer
 * body) with the upstream's response headers, or a chunk of any other body.
 */
export type HttpMessage = ExchangeMessage &
  (
    | { readonly kind: 'body-chunk' }
    | {
        readonly kind: 'whole-body';
        readonly headers: Readonly<Record<string, string | string[] | undefined>>;
      }
    | { readonly kind: 'sse-event'; readonly event: SseEventBytes }
    | {
        readonly kind: 'request-body';
        /** What the OpenAI codec read while routing; undefined for other APIs. */
        readonly openai: OpenAIRequestFacts | undefined;
      }
  );
