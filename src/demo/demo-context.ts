// State shared by the demo server's call handlers, and small helpers they all use.

import type { EventEmitter } from 'node:events';
import type { sendUnaryData } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { DemoModelRegistry } from './demo-models';
import type { DemoSettings } from './demo-settings';
import type { DemoResult } from './kserve-messages';

/** What every handler of one demo server instance shares. */
export interface DemoContext {
  readonly registry: DemoModelRegistry;
  readonly settings: DemoSettings;
  /** Emits 'request', 'response', 'metadata' and 'cancelled' (see `DemoServer.events`). */
  readonly events: EventEmitter;
  /** Delay between streamed tokens; 0 sends them as fast as the stream takes them. */
  readonly tokenDelayMs: number;
  readonly logger: Logger;
  /** Ends long-lived calls (health Watch) so a graceful close does not wait on them. */
  readonly shutdownHooks: Set<() => void>;
}

/** Answers a unary call with a result: the value, or its failure as the gRPC status. */
export function answer<T>(callback: sendUnaryData<T>, result: DemoResult<T>): void {
  if (result.ok) {
    callback(null, result.value);
  } else {
    callback(result.failure);
  }
}

/** Nanoseconds elapsed since `startedNs` (a `process.hrtime.bigint()` reading). */
export function elapsedNs(startedNs: bigint): bigint {
  return process.hrtime.bigint() - startedNs;
}
