// One request to an HTTP upstream through undici, and its response as events for the call.

import type { Socket } from 'node:net';
import type { Dispatcher } from 'undici';
import type { HttpUpstreamPool } from '../../upstream/http-upstream-pool';

/** What the call hears from the upstream. */
export interface UpstreamResponseEvents {
  onUpstreamStart(status: number, headers: Record<string, string | string[] | undefined>): void;
  /** A body chunk; the call pauses the upstream itself when the client falls behind. */
  onUpstreamData(chunk: Buffer): void;
  onUpstreamEnd(): void;
  /** `beforeResponse`: no status line was received, so the call can still answer an error. */
  onUpstreamError(err: Error, beforeResponse: boolean): void;
}

/**
 * An undici dispatch handler that turns the upstream response into call events and carries
 * backpressure back: while the client's socket is full, the upstream socket is not read.
 */
export class UpstreamResponse implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private started = false;
  private aborted = false;
  private waitingForDrain = false;

  constructor(
    pool: HttpUpstreamPool,
    options: Dispatcher.DispatchOptions,
    private readonly events: UpstreamResponseEvents,
  ) {
    pool.dispatch(options, this);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.aborted) controller.abort(new Error('client went away'));
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    status: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    this.started = true;
    this.events.onUpstreamStart(status, headers);
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.events.onUpstreamData(chunk);
  }

  onResponseEnd(): void {
    this.events.onUpstreamEnd();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.aborted) return;
    this.events.onUpstreamError(err, !this.started);
  }

  /** Stops the upstream request; nothing more reaches the call. */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.controller?.abort(new Error('client went away'));
  }

  /** Pauses reading the upstream until `socket` (the client's) drains. */
  pauseUntilDrained(socket: Socket): void {
    if (this.waitingForDrain || this.controller === undefined) return;
    this.waitingForDrain = true;
    this.controller.pause();
    socket.once('drain', () => {
      this.waitingForDrain = false;
      this.controller?.resume();
    });
  }
}
