// The authorization filter: every request message is checked against the caller's roles.

import type { PolicyInput, PolicyInputReader } from '../../codecs/policy-input';
import type { Policy } from '../../identity/policy';
import type { Exchange } from '../../pipeline/exchange';
import type { ExchangeMessage, Filter, FilterFactory, MessageResult } from '../../pipeline/filter';
import { LocalReply } from '../../pipeline/local-reply';

/**
 * PCI DSS Req. 7, least privilege: each request message (each request of a gRPC stream too,
 * since one stream may name several models) must be granted by one of the caller's roles, for
 * its operation, its model and within the role's limits. Anything not granted is refused;
 * an exchange that reaches this filter without an identity is refused as well, so a gap in the
 * chain fails closed instead of open.
 */
class AuthorizationFilter<M extends ExchangeMessage> implements Filter<M> {
  constructor(
    private readonly exchange: Exchange,
    private readonly policy: Policy,
    private readonly read: PolicyInputReader<M>,
  ) {}

  onRequestMessage(message: M): MessageResult {
    const identity = this.exchange.identity;
    if (identity === undefined) {
      return LocalReply.of(
        'ERR_PERMISSION_DENIED',
        'the caller is not authenticated',
        'no_identity',
      );
    }
    let input: PolicyInput;
    try {
      input = this.read(this.exchange, message);
    } catch (err) {
      return LocalReply.fromError(err);
    }
    const decision = this.policy.decide({
      roles: identity.roles,
      operation: this.exchange.operation,
      model: input.model,
      limits: input.limits,
    });
    if (!decision.allowed) return LocalReply.of(decision.code, decision.message, decision.detail);
    this.exchange.grantedRole ??= decision.role;
    return undefined;
  }
}

/** Builds the authorization filter; `read` is the listener's protocol reader. */
export function authorizationFilterFactory<M extends ExchangeMessage>(
  policy: Policy,
  read: PolicyInputReader<M>,
): FilterFactory<M> {
  return {
    name: 'authorization',
    create: (exchange) => new AuthorizationFilter(exchange, policy, read),
  };
}
