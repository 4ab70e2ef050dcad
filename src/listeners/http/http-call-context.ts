// What every exchange on an HTTP listener shares: routing, upstream pools, filters, limits.

import type { HttpMessage } from '../../codecs/http-message';
import type { Logger } from '../../observe/logger';
import type { FilterFactory } from '../../pipeline/filter';
import type { Router } from '../../pipeline/router';
import type { HttpUpstreamPool } from '../../upstream/http-upstream-pool';

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
