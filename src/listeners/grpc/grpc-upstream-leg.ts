// One upstream stream of a downstream call: a unary call has one, a ModelStreamInfer stream
// one per upstream its requests are routed to.

import {
  constants,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';
import { GrpcFrameDecoder } from '../../codecs/grpc-frame-decoder';
import { GrpcStatus } from '../../errors/error-codes';
import { isProxyError, ProxyError } from '../../errors/proxy-error';
import type { Http2SessionPool } from '../../upstream/http2-session-pool';
import { relayedResponseHeaders, statusTrailers } from './grpc-metadata';

/** What the call hears from a leg. */
export interface LegEvents {
  onLegHeaders(leg: UpstreamLeg, headers: IncomingHttpHeaders): void;
  onLegFrame(leg: UpstreamLeg, frame: Buffer, compressed: boolean): void;
  onLegError(leg: UpstreamLeg, err: unknown): void;
  onLegClosed(leg: UpstreamLeg): void;
}

/**
 * RST_STREAM codes mapped to the status a client would have seen (gRPC over HTTP/2, "Errors"):
 * REFUSED_STREAM is retryable, CANCEL is a cancellation, ENHANCE_YOUR_CALM is overload.
 */
function statusForReset(code: number): number {
  switch (code) {
    case constants.NGHTTP2_REFUSED_STREAM:
      return GrpcStatus.UNAVAILABLE;
    case constants.NGHTTP2_CANCEL:
      return GrpcStatus.CANCELLED;
    case constants.NGHTTP2_ENHANCE_YOUR_CALM:
      return GrpcStatus.RESOURCE_EXHAUSTED;
    case constants.NGHTTP2_INADEQUATE_SECURITY:
      return GrpcStatus.PERMISSION_DENIED;
    default:
      return GrpcStatus.INTERNAL;
  }
}

function statusForHttp(status: number): number {
  if (status === 401) return GrpcStatus.UNAUTHENTICATED;
  if (status === 403) return GrpcStatus.PERMISSION_DENIED;
  if (status === 404) return GrpcStatus.UNIMPLEMENTED;
  if (status === 429 || status === 502 || status === 503 || status === 504) {
    return GrpcStatus.UNAVAILABLE;
  }
  return status === 400 || status === 431 ? GrpcStatus.INTERNAL : GrpcStatus.UNKNOWN;
}

/** The upstream side of a call: the stream, its response framing, and how it ended. */
export class UpstreamLeg {
  readonly stream: ClientHttp2Stream;
  private readonly decoder: GrpcFrameDecoder;
  private headersSeen = false;
  private trailers: IncomingHttpHeaders | undefined;
  private failure: unknown;
  closed = false;
  /** Response bytes received from the upstream, framing included. */
  bytesReceived = 0;

  constructor(
    readonly pool: Http2SessionPool,
    headers: OutgoingHttpHeaders,
    maxMessageBytes: number,
    private readonly events: LegEvents,
  ) {
    this.decoder = new GrpcFrameDecoder(maxMessageBytes);
    this.stream = pool.request(headers);
    this.stream.on('response', (response, flags) => this.onResponse(response, flags));
    this.stream.on('data', (chunk: Buffer) => this.onData(chunk));
    this.stream.on('trailers', (trailers) => (this.trailers = trailers));
    this.stream.on('error', (err) => {
      this.failure ??= err;
      this.events.onLegError(this, err);
    });
    this.stream.on('close', () => {
      this.closed = true;
      this.events.onLegClosed(this);
    });
  }

  get upstreamName(): string {
    return this.pool.upstream.name;
  }

  /** Writes a request frame; false asks the caller to wait for 'drain'. */
  write(frame: Buffer): boolean {
    return this.stream.write(frame);
  }

  /** Half-closes the upstream request, after `lastFrame` when given: no more messages follow. */
  end(lastFrame?: Buffer): void {
    if (this.stream.closed || this.stream.writableEnded) return;
    if (lastFrame === undefined) this.stream.end();
    else this.stream.end(lastFrame);
  }

  /** Resets the upstream stream with CANCEL, as a client cancellation would. */
  cancel(): void {
    if (!this.stream.closed && !this.stream.destroyed) this.stream.close(constants.NGHTTP2_CANCEL);
  }

  /**
   * The trailers to relay once the leg closed: the upstream's own, or, when it sent none, the
   * status a client would have derived from the reset or the connection failure.
   */
  outcome(): { trailers: OutgoingHttpHeaders; status: number } {
    if (this.trailers !== undefined) {
      const status = Number(this.trailers['grpc-status'] ?? GrpcStatus.UNKNOWN);
      return { trailers: relayedResponseHeaders(this.trailers), status };
    }
    if (!this.headersSeen && this.failure !== undefined) {
      const message = `upstream "${this.upstreamName}" is unavailable`;
      return {
        trailers: statusTrailers(GrpcStatus.UNAVAILABLE, message),
        status: GrpcStatus.UNAVAILABLE,
      };
    }
    const status = statusForReset(this.stream.rstCode ?? constants.NGHTTP2_INTERNAL_ERROR);
    const message = `upstream "${this.upstreamName}" ended the stream without a status`;
    return { trailers: statusTrailers(status, message), status };
  }

  private onResponse(headers: IncomingHttpHeaders, flags: number): void {
    this.headersSeen = true;
    const httpStatus = Number(headers[':status']);
    if (httpStatus !== 200 && headers['grpc-status'] === undefined) {
      // Not a gRPC answer (a plain HTTP proxy or server in between): the status a gRPC client
      // derives from the HTTP status (gRPC "HTTP to gRPC Status Code Mapping").
      const message = `upstream "${this.upstreamName}" answered HTTP ${httpStatus}`;
      this.trailers = statusTrailers(statusForHttp(httpStatus), message) as IncomingHttpHeaders;
      return;
    }
    const endStream = (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    if (endStream || headers['grpc-status'] !== undefined) {
      // Trailers-Only: the status arrives in the only HEADERS frame.
      this.trailers = headers;
      return;
    }
    this.events.onLegHeaders(this, headers);
  }

  private onData(chunk: Buffer): void {
    this.bytesReceived += chunk.length;
    try {
      this.decoder.push(chunk, (frame, compressed) =>
        this.events.onLegFrame(this, frame, compressed),
      );
    } catch (err) {
      // An oversized message keeps its RESOURCE_EXHAUSTED; broken framing is the upstream's
      // fault, not the client's, so it must not surface as INVALID_ARGUMENT.
      const tooLarge = isProxyError(err) && err.code === 'ERR_MESSAGE_TOO_LARGE';
      const message = `upstream "${this.upstreamName}" sent a malformed gRPC frame`;
      this.failure = tooLarge
        ? err
        : new ProxyError('ERR_UPSTREAM_PROTOCOL', message, { cause: err });
      this.events.onLegError(this, this.failure);
    }
  }
}
