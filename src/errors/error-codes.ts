// The registry of every error code infergate raises: one place, documented, never reused.

/** gRPC status codes (google.rpc.Code) that infergate answers with. */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

export type GrpcStatusCode = (typeof GrpcStatus)[keyof typeof GrpcStatus];

/** How one error code is answered, in each protocol, and what it means. */
export interface ErrorCodeSpec {
  readonly httpStatus: number;
  readonly grpcStatus: GrpcStatusCode;
  readonly description: string;
}

/**
 * Every code infergate raises. A code is never renamed or reused for another meaning: operators
 * alert on them and audit records keep them for years.
 */
export const ERROR_CODES = {
  ERR_CONFIG_INVALID: {
    httpStatus: 500,
    grpcStatus: GrpcStatus.INTERNAL,
    description: 'the configuration file failed validation; the gateway does not start',
  },
  ERR_CONFIG_UNREADABLE: {
    httpStatus: 500,
    grpcStatus: GrpcStatus.INTERNAL,
    description: 'the configuration file or a file it names could not be read or parsed',
  },
  ERR_LISTEN_FAILED: {
    httpStatus: 500,
    grpcStatus: GrpcStatus.INTERNAL,
    description: 'a listener could not bind its address; the gateway does not start',
  },
  ERR_USAGE: {
    httpStatus: 400,
    grpcStatus: GrpcStatus.INVALID_ARGUMENT,
    description: 'a command-line flag or argument is unknown or malformed',
  },
  ERR_MALFORMED_MESSAGE: {
    httpStatus: 400,
    grpcStatus: GrpcStatus.INVALID_ARGUMENT,
    description: 'a message is not valid protobuf, or its framing is broken',
  },
  ERR_MALFORMED_HEADER: {
    httpStatus: 400,
    grpcStatus: GrpcStatus.INVALID_ARGUMENT,
    description: 'a request header such as grpc-timeout or content-type has an invalid value',
  },
  ERR_MESSAGE_TOO_LARGE: {
    httpStatus: 413,
    grpcStatus: GrpcStatus.RESOURCE_EXHAUSTED,
    description: 'a message is larger than the listener allows',
  },
  ERR_UNSUPPORTED_ENCODING: {
    httpStatus: 415,
    grpcStatus: GrpcStatus.UNIMPLEMENTED,
    description: 'a compressed message uses an encoding infergate cannot read',
  },
  ERR_CARDINALITY_VIOLATION: {
    httpStatus: 400,
    grpcStatus: GrpcStatus.UNIMPLEMENTED,
    description: 'a unary or server-streaming call carried no request message or more than one',
  },
  ERR_UNKNOWN_METHOD: {
    httpStatus: 404,
    grpcStatus: GrpcStatus.UNIMPLEMENTED,
    description: 'the called gRPC method is not part of a service infergate relays',
  },
  ERR_ROUTE_NOT_FOUND: {
    httpStatus: 404,
    grpcStatus: GrpcStatus.NOT_FOUND,
    description: 'no route matches the model the request names',
  },
  ERR_UPSTREAM_UNAVAILABLE: {
    httpStatus: 503,
    grpcStatus: GrpcStatus.UNAVAILABLE,
    description: 'the upstream could not be reached or dropped the connection',
  },
  ERR_UPSTREAM_PROTOCOL: {
    httpStatus: 502,
    grpcStatus: GrpcStatus.INTERNAL,
    description: 'the upstream answered with something that is not valid for the protocol',
  },
  ERR_DEADLINE_EXCEEDED: {
    httpStatus: 504,
    grpcStatus: GrpcStatus.DEADLINE_EXCEEDED,
    description: 'the deadline the caller set passed before the upstream answered',
  },
  ERR_SHUTTING_DOWN: {
    httpStatus: 503,
    grpcStatus: GrpcStatus.UNAVAILABLE,
    description: 'the gateway is draining and accepts no new exchanges',
  },
  ERR_HTTP_MALFORMED: {
    httpStatus: 400,
    grpcStatus: GrpcStatus.INVALID_ARGUMENT,
    description: 'an HTTP/1.1 request line, header field or chunk breaks the RFC 9112 syntax',
  },
  ERR_HTTP_FRAMING: {
    httpStatus: 400,
    grpcStatus: GrpcStatus.INVALID_ARGUMENT,
    description:
      'an HTTP/1.1 request has ambiguous framing (Content-Length and Transfer-Encoding, ' +
      'conflicting lengths, Host missing, repeated or invalid), the shape of request smuggling',
  },
  ERR_HEADERS_TOO_LARGE: {
    httpStatus: 431,
    grpcStatus: GrpcStatus.RESOURCE_EXHAUSTED,
    description:
      'an HTTP/1.1 request line, header section or trailer section is longer, or has more ' +
      'fields, than the listener allows',
  },
  ERR_BODY_TOO_LARGE: {
    httpStatus: 413,
    grpcStatus: GrpcStatus.RESOURCE_EXHAUSTED,
    description:
      'an HTTP/1.1 request body, or the chunk extensions framing it, is larger than the ' +
      'listener allows',
  },
  ERR_HTTP_VERSION: {
    httpStatus: 505,
    grpcStatus: GrpcStatus.UNIMPLEMENTED,
    description: 'a request names an HTTP version other than 1.0 or 1.1 on an HTTP/1.1 listener',
  },
  ERR_TRANSFER_ENCODING: {
    httpStatus: 501,
    grpcStatus: GrpcStatus.UNIMPLEMENTED,
    description: 'an HTTP/1.1 request uses a transfer coding other than chunked',
  },
  ERR_HTTP_METHOD: {
    httpStatus: 501,
    grpcStatus: GrpcStatus.UNIMPLEMENTED,
    description: 'an HTTP/1.1 request uses CONNECT; infergate is not a forward proxy',
  },
  ERR_UNKNOWN_OPERATION: {
    httpStatus: 404,
    grpcStatus: GrpcStatus.UNIMPLEMENTED,
    description: 'the HTTP method and path name no operation of an API infergate relays',
  },
  ERR_REQUEST_TIMEOUT: {
    httpStatus: 408,
    grpcStatus: GrpcStatus.DEADLINE_EXCEEDED,
    description: 'the client did not send its request headers or body within the time allowed',
  },
  ERR_UPSTREAM_TIMEOUT: {
    httpStatus: 504,
    grpcStatus: GrpcStatus.DEADLINE_EXCEEDED,
    description: 'the upstream did not answer, or stopped sending, within its configured time',
  },
  ERR_MASKING_FAILED: {
    httpStatus: 502,
    grpcStatus: GrpcStatus.INTERNAL,
    description:
      'a response could not be masked (a message the codec could not read, or more text undecided than the hold-back bound), so it was ended rather than passed on unmasked',
  },
  ERR_FILTER_EXCEPTION: {
    httpStatus: 500,
    grpcStatus: GrpcStatus.INTERNAL,
    description: 'a filter threw; this is a bug in infergate and is logged at error',
  },
  ERR_JSON_MALFORMED: {
    httpStatus: 400,
    grpcStatus: GrpcStatus.INVALID_ARGUMENT,
    description: 'a JSON body is not valid JSON (RFC 8259) or not well-formed UTF-8',
  },
  ERR_JSON_TOO_DEEP: {
    httpStatus: 400,
    grpcStatus: GrpcStatus.INVALID_ARGUMENT,
    description: 'a JSON body nests objects and arrays deeper than the gateway reads',
  },
  ERR_OPENAI_FIELD_INVALID: {
    httpStatus: 400,
    grpcStatus: GrpcStatus.INVALID_ARGUMENT,
    description:
      'an OpenAI request body is not a JSON object, or a field the gateway decides on ' +
      '(model, stream, n, token limits) has another type or appears twice',
  },
  ERR_SSE_EVENT_TOO_LARGE: {
    httpStatus: 502,
    grpcStatus: GrpcStatus.RESOURCE_EXHAUSTED,
    description: 'an upstream server-sent event is longer than the gateway buffers',
  },
  ERR_TRITON_BODY_INVALID: {
    httpStatus: 400,
    grpcStatus: GrpcStatus.INVALID_ARGUMENT,
    description:
      'a Triton / KServe v2 HTTP infer or generate body is not a JSON object, a field the ' +
      'gateway reads (id, parameters, tensor name, datatype, shape, data, binary_data_size) ' +
      'has another type or appears twice, or its binary tensor data does not match the sizes ' +
      'its JSON header declares',
  },
  ERR_CLIENT_CERT_MISSING: {
    httpStatus: 401,
    grpcStatus: GrpcStatus.UNAUTHENTICATED,
    description: 'the connection presented no client certificate where one is required',
  },
  ERR_CLIENT_CERT_INVALID: {
    httpStatus: 401,
    grpcStatus: GrpcStatus.UNAUTHENTICATED,
    description:
      'the client certificate does not chain to a trusted CA, is expired, not yet valid or ' +
      'revoked',
  },
  ERR_TOKEN_MISSING: {
    httpStatus: 401,
    grpcStatus: GrpcStatus.UNAUTHENTICATED,
    description: 'the request carries no bearer token in `authorization`',
  },
  ERR_TOKEN_INVALID: {
    httpStatus: 401,
    grpcStatus: GrpcStatus.UNAUTHENTICATED,
    description:
      'the bearer token is malformed, signed with an algorithm or key that is not trusted, ' +
      'expired, not yet valid, issued by or for someone else, or revoked',
  },
  ERR_TOKEN_NOT_BOUND: {
    httpStatus: 401,
    grpcStatus: GrpcStatus.UNAUTHENTICATED,
    description:
      'the bearer token is not bound to the client certificate of the connection (RFC 8705 ' +
      '`cnf` / `x5t#S256` missing or different)',
  },
  ERR_PERMISSION_DENIED: {
    httpStatus: 403,
    grpcStatus: GrpcStatus.PERMISSION_DENIED,
    description: 'no role of the caller grants this operation on this model',
  },
  ERR_LIMIT_EXCEEDED: {
    httpStatus: 403,
    grpcStatus: GrpcStatus.PERMISSION_DENIED,
    description:
      "the request asks for more than the caller's roles allow (max tokens, n, batch size, " +
      'request size)',
  },
  ERR_IDENTITY_UNAVAILABLE: {
    httpStatus: 503,
    grpcStatus: GrpcStatus.UNAVAILABLE,
    description:
      'the keys needed to check a token could not be fetched, or the shared revocations are ' +
      'stale; the request is refused rather than let through unchecked',
  },
  ERR_PKI_MATERIAL_INVALID: {
    httpStatus: 500,
    grpcStatus: GrpcStatus.INTERNAL,
    description:
      'a certificate, private key, CA bundle or CRL is missing, unreadable, malformed, or ' +
      'does not belong with the rest of its set',
  },
  ERR_AUDIT_UNAVAILABLE: {
    httpStatus: 503,
    grpcStatus: GrpcStatus.UNAVAILABLE,
    description:
      'the audit log cannot be written (disk full, permissions, database down); the request ' +
      'is refused rather than served unrecorded',
  },
  ERR_AUDIT_STORE_INVALID: {
    httpStatus: 500,
    grpcStatus: GrpcStatus.INTERNAL,
    description:
      'an audit store could not be opened: a directory or database that cannot be read, or ' +
      'a log whose stored frames are damaged beyond a torn last frame',
  },
  ERR_AUDIT_KEY_INVALID: {
    httpStatus: 500,
    grpcStatus: GrpcStatus.INTERNAL,
    description:
      'an audit signing, verifying or sealing key is missing, unreadable, or of the wrong type',
  },
  ERR_REVIEW_STORE_UNAVAILABLE: {
    httpStatus: 503,
    grpcStatus: GrpcStatus.UNAVAILABLE,
    description:
      'the review store cannot be reached (database down, network); a request that needs ' +
      'review is refused rather than served unreviewed',
  },
  ERR_REVIEW_STORE_INVALID: {
    httpStatus: 500,
    grpcStatus: GrpcStatus.INTERNAL,
    description:
      'the review store refuses the gateway: its table cannot be created, its credentials or ' +
      'grants are wrong, a stored review cannot be read, a review id is stored twice, or a ' +
      'change skips a version',
  },
  ERR_REVIEW_REQUIRED: {
    httpStatus: 403,
    grpcStatus: GrpcStatus.PERMISSION_DENIED,
    description:
      'a review rule holds the request until a reviewer approves it; the message and the ' +
      '`x-infergate-review-id` header name the review to retry with',
  },
  ERR_REVIEW_DENIED: {
    httpStatus: 403,
    grpcStatus: GrpcStatus.PERMISSION_DENIED,
    description: 'a reviewer denied the request a review rule held',
  },
  ERR_REVIEW_GRANT_INVALID: {
    httpStatus: 403,
    grpcStatus: GrpcStatus.PERMISSION_DENIED,
    description:
      'the review a retry names grants nothing to it: not approved, already used, expired, or ' +
      'approved for another requester or another request',
  },
} as const satisfies Record<string, ErrorCodeSpec>;

/** A stable error code, as found in logs, local replies and audit records. */
export type ErrorCode = keyof typeof ERROR_CODES;
