// What the policy reads of one request message, whatever its protocol.

import type { RequestLimitFacts } from '../identity/policy';
import type { Exchange } from '../pipeline/exchange';
import type { ExchangeMessage } from '../pipeline/filter';

/** What the policy needs to know of one request message, read by the protocol's codec. */
export interface PolicyInput {
  /** undefined for operations that name no model; '' where the protocol means every model. */
  readonly model: string | undefined;
  readonly limits: RequestLimitFacts;
}

/** Reads a request message's policy input; throws ProxyError on a message it cannot read. */
export type PolicyInputReader<M extends ExchangeMessage> = (
  exchange: Exchange,
  message: M,
) => PolicyInput;
