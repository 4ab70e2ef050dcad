// One client connection on the HTTP listener: parses requests, runs one exchange at a time,
// enforces the header, request and idle timeouts, and refuses pipelining cleanly.

import type { Socket } from 'node:net';
import {
  Http1RequestParser,
  type Http1RequestHead,
  type Http1RequestSink,
} from '../../codecs/http1-request-parser';
import { isProxyError, ProxyError } from '../../errors/proxy-error';
import { LocalReply } from '../../pipeline/local-reply';
import type { Session } from '../../pipeline/session';
import { HttpCall, type HttpCallOwner } from './http-call';
import type { HttpCallContext } from './http-call-context';
import { errorBody } from './http-error-body';
import { HttpResponseWriter } from './http-response-writer';

/** Limits and timeouts of the HTTP listener, from its configuration. */
export interface HttpConnectionLimits {
  readonly maxBodyBytes: number;
  readonly maxHeaderBytes: number;
  readonly maxHeaderCount: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly idleTimeoutMs: number;
}

const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n');

/**
 * A connection carries requests one after another (keep-alive). Bytes of a next request that
 * arrive before the current response is complete are pipelining: the current exchange is
 * answered with `connection: close` and the connection closes, so the client retries the
 * unanswered request on a new connection (RFC 9112 §9.3.2) and no response can be attributed
 * to the wrong request.
 */
export class HttpConnection implements HttpCallOwner, Http1RequestSink {
  private readonly parser: Http1RequestParser;
  private call: HttpCall | undefined;
  private requestComplete = false;
  private pipelined = false;
  /** No further request: the exchange in flight, or one about to arrive, is the last. */
  closing = false;
  /** False once the rest of the input is of no use: after an error, a refusal or the end. */
  private reading = true;
  private timer: NodeJS.Timeout | undefined;
  private timerKind: 'idle' | 'headers' | 'request' | undefined;

  constructor(
    readonly socket: Socket,
    readonly session: Session,
    private readonly limits: HttpConnectionLimits,
    private readonly context: HttpCallContext,
  ) {
    this.parser = new Http1RequestParser(limits);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.onClosed());
    socket.on('error', (err) => context.logger.debug({ err }, 'http client socket error'));
    this.arm('headers', limits.headersTimeoutMs);
  }

  /** True while an exchange is in flight; an idle connection can be closed at once. */
  get busy(): boolean {
    return this.call !== undefined;
  }

  /**
   * Makes the exchange in flight the last and closes after it. Only a connection idle between
   * two requests is closed at once. One whose request is on its way (accepted just before the
   * drain began, or mid-headers or mid-body) keeps reading it, and that request is answered
   * with `connection: close` instead of being cut: its client has sent it already, or is about
   * to. The header and request timeouts and the listener's drain bound still apply.
   */
  shutdown(): void {
    this.closing = true;
    if (this.busy || this.timerKind !== 'idle') return;
    this.reading = false;
    this.socket.end();
  }

  onHead(head: Http1RequestHead): void {
    this.arm('request', this.limits.requestTimeoutMs);
    this.call = new HttpCall(this.context, this, head);
    if (head.expectContinue) this.socket.write(CONTINUE);
    this.call.start();
  }

  onBody(chunk: Buffer): void {
    this.call?.onRequestBody(chunk);
  }

  onEnd(): void {
    this.requestComplete = true;
    this.disarm();
    this.call?.onRequestEnd();
  }

  onCallFinished(reusable: boolean): void {
    this.call = undefined;
    if (!reusable || !this.requestComplete || this.pipelined || this.closing) {
      // Limitation: a reply given before the request body was read closes the connection
      // instead of reading and discarding the rest of the body.
      this.closing = true;
      this.reading = false;
      this.socket.end();
      return;
    }
    this.requestComplete = false;
    this.parser.reset();
    this.arm('idle', this.limits.idleTimeoutMs);
  }

  private onData(chunk: Buffer): void {
    if (!this.reading) return;
    if (this.requestComplete) return this.refusePipelining();
    if (this.timerKind === 'idle') this.arm('headers', this.limits.headersTimeoutMs);
    let consumed: number;
    try {
      consumed = this.parser.push(chunk, this);
    } catch (err) {
      return this.rejectRequest(err);
    }
    if (consumed < chunk.length) this.refusePipelining();
  }

  private refusePipelining(): void {
    this.pipelined = true;
    this.closing = true;
    this.reading = false;
    this.socket.pause();
  }

  /** The request cannot be parsed: answer with its error, if no response has begun, and close. */
  private rejectRequest(err: unknown): void {
    const error = isProxyError(err)
      ? err
      : new ProxyError('ERR_HTTP_MALFORMED', 'malformed request');
    this.closing = true;
    this.reading = false;
    this.disarm();
    const reply = LocalReply.fromError(error);
    if (this.call !== undefined) return this.call.rejectRequest(reply);
    this.answerAndClose(reply);
  }

  private answerAndClose(reply: LocalReply): void {
    const writer = new HttpResponseWriter(this.socket);
    const headers = [
      ['content-type', 'application/json'],
      ['connection', 'close'],
    ] as const;
    writer.writeComplete(reply.error.httpStatus, headers, errorBody(undefined, reply));
    this.socket.end();
  }

  private onTimeout(): void {
    const kind = this.timerKind;
    this.timerKind = undefined;
    if (kind === 'idle' || (kind === 'headers' && this.socket.bytesRead === 0)) {
      this.socket.end();
      return;
    }
    const limitMs =
      kind === 'headers' ? this.limits.headersTimeoutMs : this.limits.requestTimeoutMs;
    const message = `request not received within ${limitMs} ms`;
    this.rejectRequest(new ProxyError('ERR_REQUEST_TIMEOUT', message));
  }

  private onClosed(): void {
    this.disarm();
    this.call?.onClientGone();
    this.call = undefined;
  }

  private arm(kind: 'idle' | 'headers' | 'request', ms: number): void {
    clearTimeout(this.timer);
    this.timerKind = kind;
    this.timer = setTimeout(() => this.onTimeout(), ms);
  }

  private disarm(): void {
    clearTimeout(this.timer);
    this.timerKind = undefined;
  }
}
