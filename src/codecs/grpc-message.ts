// A gRPC message as it moves through the chain.

import type { ExchangeMessage } from '../pipeline/filter';

/**
 * One length-prefixed gRPC message. `frame` holds the 5-byte prefix and the message exactly as
 * they arrived; a filter may rewrite bytes inside it without changing its length.
 */
export interface GrpcMessage extends ExchangeMessage {
  frame: Buffer;
  /** The compressed flag of the prefix; the payload is then in the call's grpc-encoding. */
  readonly compressed: boolean;
  /** The model this request message names, when its RPC names one. */
  readonly model: string | undefined;
  /** The upstream the router chose for this request message; unset on responses. */
  readonly upstream: string | undefined;
}
