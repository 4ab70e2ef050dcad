// One exchange: a request and its response, streamed or not, and the facts filters record.

import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http2';
import type { Identity } from '../identity/identity';
import type { MaskingRecord } from '../masking/masking-record';
import type { Logger } from '../observe/logger';
import type { Session } from './session';

/** The wire protocol an exchange arrived on. */
export type ExchangeProtocol = 'grpc' | 'http';

/** Creates exchange ids: a per-process prefix and a counter, unique without a clock. */
export function createIdGenerator(prefix: string = randomBytes(4).toString('hex')): () => string {
  let counter = 0;
  return () => `${prefix}-${(++counter).toString(36)}`;
}

/** What the listener knows when the exchange starts. */
export interface ExchangeInit {
  readonly id: string;
  readonly listener: string;
  readonly protocol: ExchangeProtocol;
  readonly operation: string;
  readonly requestHeaders: IncomingHttpHeaders;
  readonly session: Session;
  readonly logger: Logger;
}

/**
 * The record of one exchange. Listeners fill in routing, status and counters as the exchange
 * proceeds; filters read them and may add their own facts. Never holds payload bytes.
 */
export class Exchange {
  readonly id: string;
  readonly listener: string;
  readonly protocol: ExchangeProtocol;
  /**
   * The RPC (`ModelInfer`) or, for HTTP, the operation the codec recognised
   * (`chat.completions`); for HTTP it starts as `METHOD (unclassified)` until it is classified.
   */
  operation: string;
  readonly requestHeaders: IncomingHttpHeaders;
  readonly session: Session;
  /** The authenticated caller, once the authentication filter has accepted the exchange. */
  identity: Identity | undefined;
  /** The role whose grant allowed the exchange, once authorized. */
  grantedRole: string | undefined;
  /** The review that held the exchange or whose grant let it through, when a rule matched. */
  reviewId: string | undefined;
  /** What the masking filter did, when it takes part in the exchange. */
  masking: MaskingRecord | undefined;
  /** `performance.now()` when the request headers arrived. */
  readonly startedAt = performance.now();
  model: string | undefined;
  route: string | undefined;
  upstream: string | undefined;
  /** gRPC status code or HTTP status answered to the client, once known. */
  status: number | undefined;
  /** Why the exchange ended as it did, in snake_case (`route_not_found`); empty when normal. */
  detail = '';
  requestBytes = 0;
  responseBytes = 0;
  requestMessages = 0;
  responseMessages = 0;
  /** `performance.now()` when the request went on to the upstream. */
  upstreamRequestAt: number | undefined;
  /** `performance.now()` when the first response headers came back from the upstream. */
  upstreamHeadersAt: number | undefined;
  /** `performance.now()` when the upstream's first response body bytes (HTTP) or message came. */
  upstreamFirstByteAt: number | undefined;
  /** `performance.now()` when the first response body bytes or message went to the client. */
  firstByteAt: number | undefined;
  endedAt: number | undefined;
  private readonly parentLogger: Logger;
  private childLogger: Logger | undefined;

  constructor(init: ExchangeInit) {
    this.id = init.id;
    this.listener = init.listener;
    this.protocol = init.protocol;
    this.operation = init.operation;
    this.requestHeaders = init.requestHeaders;
    this.session = init.session;
    this.parentLogger = init.logger;
  }

  get remoteAddress(): string | undefined {
    return this.session.remoteAddress;
  }

  /** A child logger bound to this exchange, created on first use so quiet exchanges pay nothing. */
  get log(): Logger {
    this.childLogger ??= this.parentLogger.child({ exchangeId: this.id, listener: this.listener });
    return this.childLogger;
  }
}
