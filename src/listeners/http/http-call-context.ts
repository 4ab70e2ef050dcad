// What every exchange on an HTTP listener shares: routing, upstream pools, filters, limits.

import type { SseEventBytes } from '../../codecs/sse-decoder';
import type { Logger } from '../../observe/logger';
import type { ExchangeMessage, FilterFactory } from '../../pipeline/filter';
import type { Router } from '../../pipeline/router';
import type { HttpUpstreamPool } from '../../upstream/http-upstream-pool';

/**
 * What one HTTP message of the chain is: the whole request body, one SSE event of a streamed
 * response (with its parsed fields), a whole JSON response body, or a chunk of any other body.
 */
export type HttpMessage = ExchangeMessage &
  (
    | { readonly kind: 'request-body' | 'json-body' | 'body-chunk' }
    | { readonly kind: 'sse-event'; readonly event: SseEventBytes }
  );

/** Built once when the listener starts; read by every exchange, never changed. */
export interface HttpCallContext {
  readonly listenerName: string;
  /** Bound on request bodies, and on response bodies a filter reads whole. */
  readonly maxBodyBytes: number;
  readonly router: Router;
  readonly pools: ReadonlyMap<string, HttpUpstreamPool>;
  readonly filters: readonly FilterFactory<HttpMessage>[];
  readonly logger: Logger;
  readonly nextId: () => string;
}
