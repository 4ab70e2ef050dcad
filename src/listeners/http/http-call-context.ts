// What every exchange on an HTTP listener shares: routing, upstream pools, filters, limits.

import type { Logger } from '../../observe/logger';
import type { ExchangeMessage, FilterFactory } from '../../pipeline/filter';
import type { Router } from '../../pipeline/router';
import type { HttpUpstreamPool } from '../../upstream/http-upstream-pool';

/** A request body or a piece of a response body (an SSE event, a JSON body, raw bytes). */
export type HttpMessage = ExchangeMessage;

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
