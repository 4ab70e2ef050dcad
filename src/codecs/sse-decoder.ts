// Splits a text/event-stream byte stream into its events as they arrive, keeping each event's
// wire bytes (WHATWG HTML §9.2.5 "Parsing an event stream", §9.2.6 "Interpreting").

import { ProxyError } from '../errors/proxy-error';
import { parseSseBlock, type SseEventBytes } from './sse-event';

export type { SseByteRange, SseEventBytes } from './sse-event';

/** Called once per event, in stream order. */
export type SseEventSink = (event: SseEventBytes) => void;

/** Limits of one decoder. */
export interface SseDecoderOptions {
  /** The longest event, in bytes, the decoder buffers; default `DEFAULT_SSE_MAX_EVENT_BYTES`. */
  readonly maxEventBytes?: number;
}

/** 1 MiB: far above one chunk of generated text, small enough to bound memory per stream. */
export const DEFAULT_SSE_MAX_EVENT_BYTES = 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;

/**
 * Reassembles SSE events across transport chunks, whose boundaries are independent of event
 * boundaries. Every byte of the stream belongs to exactly one `SseEventBytes.bytes` or to what
 * `end` returns, in order, so a relay forwards the stream by forwarding those. An event that
 * arrives inside one chunk is handed on as a view of that chunk; an event spanning chunks is
 * copied once, when it completes, into a buffer of its exact size. Chunks must not be reused by
 * the caller after `push`, since unfinished events keep views of them until they complete.
 */
export class SseDecoder {
  private readonly maxEventBytes: number;
  /** Views of the unfinished event's bytes from earlier chunks. */
  private parts: Buffer[] = [];
  private partBytes = 0;
  /** §9.2.5: CR, LF and CRLF end lines; state of the line-end search across chunks. */
  private atLineStart = true;
  private afterCr = false;
  /** The event in `parts` is complete, but its final CR may yet be followed by an LF. */
  private awaitingLf = false;
  private streamStart = true;
  private lastSink: SseEventSink | undefined;
  private eventId = '';

  constructor(options: SseDecoderOptions = {}) {
    this.maxEventBytes = options.maxEventBytes ?? DEFAULT_SSE_MAX_EVENT_BYTES;
  }

  /**
   * The last event ID buffer (§9.2.6 `id` field): it persists across events until an `id` field
   * changes it, and is what a reconnecting client sends as `Last-Event-ID`.
   */
  get lastEventId(): string {
    return this.eventId;
  }

  /**
   * Feeds one chunk, calling `onEvent` for each event it completes. Throws ProxyError
   * `ERR_SSE_EVENT_TOO_LARGE` when an event passes `maxEventBytes`; the decoder is unusable after.
   * An event ending in a blank line that is a lone CR as the chunk's last byte is held until the
   * next byte shows whether an LF belongs to it (a CRLF split by the transport).
   */
  push(chunk: Buffer, onEvent: SseEventSink): void {
    this.lastSink = onEvent;
    if (chunk.length === 0) return;

    let start = 0;
    if (this.awaitingLf) {
      start = chunk[0] === LF ? 1 : 0;
      this.emit(chunk, 0, start, onEvent);
    }
    start = this.scan(chunk, start, onEvent);

    if (start < chunk.length) this.keep(chunk.subarray(start));
  }

  /**
   * Ends the stream. A complete event still held for a possible LF goes to `onEvent`, or to the
   * sink of the last `push` when none is given. Returns the bytes of an unfinished event (no
   * closing blank line, §9.2.5: never dispatched) for the caller to forward as they are, or
   * undefined when every byte belonged to an event. The decoder starts a new stream after.
   */
  end(onEvent?: SseEventSink): Buffer | undefined {
    const sink = onEvent ?? this.lastSink;
    if (this.awaitingLf && sink !== undefined) this.emit(Buffer.alloc(0), 0, 0, sink);
    const rest = this.parts.length === 0 ? undefined : joinParts(this.parts, this.partBytes);

    this.reset();
    this.streamStart = true;
    this.eventId = '';
    return rest;
  }

  // Limitation: a stream that ends lines with a lone CR and flushes each event on its own sees
  // every event one chunk late, held until the next byte rules out an LF (see `push`).
  /** Emits the events that end in `chunk` from `from`; returns where the unfinished tail starts. */
  private scan(chunk: Buffer, from: number, onEvent: SseEventSink): number {
    let start = from;
    // Only line ends change the state, so the scan jumps between them with indexOf (memchr); a
    // CR is rare, so its position is kept until the scan passes it.
    let cr = chunk.indexOf(CR, from);
    for (let i = from; i < chunk.length; i++) {
      if (cr !== -1 && cr < i) cr = chunk.indexOf(CR, i);
      const lf = chunk.indexOf(LF, i);
      const end = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
      if (end !== i) {
        this.atLineStart = false;
        this.afterCr = false;
      }
      if (end === -1) break;
      i = end;
      if (chunk[i] === LF) {
        if (this.afterCr) this.afterCr = false;
        else if (this.atLineStart) start = this.emit(chunk, start, i + 1, onEvent);
        else this.atLineStart = true;
      } else if (!this.atLineStart) {
        this.atLineStart = true;
        this.afterCr = true;
      } else if (i + 1 === chunk.length) {
        this.awaitingLf = true;
      } else {
        if (chunk[i + 1] === LF) i++;
        start = this.emit(chunk, start, i + 1, onEvent);
      }
    }
    return start;
  }

  /** Emits the event made of `parts` and `chunk[start, end)`; returns `end`. */
  private emit(chunk: Buffer, start: number, end: number, onEvent: SseEventSink): number {
    const length = this.partBytes + end - start;
    if (length > this.maxEventBytes) throw this.tooLarge(length);
    // An event inside the chunk is a view of it.
    const bytes =
      this.parts.length === 0 ? chunk.subarray(start, end) : this.heldWith(chunk, start, end);
    const event = parseSseBlock(bytes, this.streamStart);

    this.reset();
    this.streamStart = false;
    if (event.id !== undefined) this.eventId = event.id;
    onEvent(event);
    return end;
  }

  /** The held parts of an event and `chunk[start, end)`, its end, as one buffer. */
  private heldWith(chunk: Buffer, start: number, end: number): Buffer {
    // A held event that no LF completes stays the single view it was.
    const pieces = end > start ? [...this.parts, chunk.subarray(start, end)] : this.parts;
    return joinParts(pieces, this.partBytes + end - start);
  }

  private keep(tail: Buffer): void {
    this.partBytes += tail.length;
    if (this.partBytes > this.maxEventBytes) throw this.tooLarge(this.partBytes);
    this.parts.push(tail);
  }

  private reset(): void {
    if (this.parts.length > 0) this.parts = [];
    this.partBytes = 0;
    this.atLineStart = true;
    this.afterCr = false;
    this.awaitingLf = false;
  }

  private tooLarge(length: number): ProxyError {
    return new ProxyError(
      'ERR_SSE_EVENT_TOO_LARGE',
      `server-sent event of at least ${length} bytes exceeds the limit of ` +
        `${this.maxEventBytes} bytes`,
    );
  }
}

function joinParts(parts: readonly Buffer[], length: number): Buffer {
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, length);
}
