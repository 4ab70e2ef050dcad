// A local reply: infergate answers the client itself instead of forwarding.

import type { ErrorCode } from '../errors/error-codes';
import { ProxyError } from '../errors/proxy-error';

/**
 * The answer a filter or listener gives instead of the upstream's. The listener turns it into
 * its protocol's form (gRPC status and message, HTTP status and error body); `detail` is the
 * snake_case reason that reaches the access log and audit records.
 */
export class LocalReply {
  constructor(
    readonly error: ProxyError,
    readonly detail: string,
  ) {}

  /** Builds a reply from a registered error code, a caller-safe message and a detail. */
  static of(code: ErrorCode, message: string, detail: string): LocalReply {
    return new LocalReply(new ProxyError(code, message), detail);
  }
}
