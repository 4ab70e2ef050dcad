// A local reply: infergate answers the client itself instead of forwarding.

import type { ErrorCode } from '../errors/error-codes';
import { ProxyError } from '../errors/proxy-error';

/**
 * The answer a filter or listener gives instead of the upstream's. The listener turns it into
 * its protocol's form (gRPC status and message, HTTP status and error body); `detail` is the
 * snake_case reason that reaches the access log and audit records.
 */
export class LocalReply {
  /**
   * @param httpHeaders extra response headers when the reply is answered over HTTP, such as
   *   `www-authenticate` on a 401 (RFC 6750 §3).
   * @param metadata trailing metadata when the reply is answered over gRPC, beside the status
   *   and message: lowercase ASCII names, printable values.
   */
  constructor(
    readonly error: ProxyError,
    readonly detail: string,
    readonly httpHeaders: readonly (readonly [name: string, value: string])[] = [],
    readonly metadata: readonly (readonly [name: string, value: string])[] = [],
  ) {}

  /**
   * The reply for an error: a ProxyError answers with its own code, its detail the code in
   * snake_case (`ERR_BODY_TOO_LARGE` → `body_too_large`); anything else is a bug and answers
   * INTERNAL / 500 with a message that reveals nothing.
   */
  static fromError(err: unknown): LocalReply {
    if (err instanceof ProxyError) return new LocalReply(err, err.code.slice(4).toLowerCase());
    return LocalReply.of('ERR_FILTER_EXCEPTION', 'internal error in infergate', 'internal_error');
  }

  /** Builds a reply from a registered error code, a caller-safe message and a detail. */
  static of(code: ErrorCode, message: string, detail: string): LocalReply {
    return new LocalReply(new ProxyError(code, message), detail);
  }
}
