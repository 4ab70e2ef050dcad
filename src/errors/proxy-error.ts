// The one error class infergate raises, carrying how to answer it in each protocol.

import { ERROR_CODES, type ErrorCode, type GrpcStatusCode } from './error-codes';

/**
 * An error raised by infergate. `message` is one sentence that names the offending value and
 * never carries secrets, tokens, prompts or model output, so it may be sent to the caller.
 */
export class ProxyError extends Error {
  readonly code: ErrorCode;
  readonly httpStatus: number;
  readonly grpcStatus: GrpcStatusCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProxyError';
    this.code = code;
    this.httpStatus = ERROR_CODES[code].httpStatus;
    this.grpcStatus = ERROR_CODES[code].grpcStatus;
  }
}

/** True for errors infergate raised on purpose, as opposed to bugs and library failures. */
export function isProxyError(value: unknown): value is ProxyError {
  return value instanceof ProxyError;
}
