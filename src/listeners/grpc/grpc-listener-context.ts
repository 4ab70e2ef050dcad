// What every call on a gRPC listener shares: limits, routing, upstream pools and filters.

import type { GrpcMessage } from '../../codecs/grpc-message';
import type { Logger } from '../../observe/logger';
import type { FilterFactory } from '../../pipeline/filter';
import type { Router } from '../../pipeline/router';
import type { Http2SessionPool } from '../../upstream/http2-session-pool';

/** Built once when the listener starts; read by every call, never changed. */
export interface GrpcListenerContext {
  readonly listenerName: string;
  readonly maxMessageBytes: number;
  readonly router: Router;
  readonly pools: ReadonlyMap<string, Http2SessionPool>;
  readonly filters: readonly FilterFactory<GrpcMessage>[];
  readonly logger: Logger;
  readonly nextId: () => string;
}
