// Recognises a stream event that repeats the previous one except for the content of one JSON
// string, so its facts need no new scan: a chat stream's deltas are such events.

import { utf8SequenceEnd } from './json-utf8';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Where the varying string's content lies in a matched frame. */
export interface TemplateSpan {
  readonly start: number;
  readonly end: number;
}

/**
 * The bytes of one remembered frame around one string's content. A frame with the same bytes
 * before and after, and between them a string content without escapes, control bytes or
 * malformed UTF-8, is the remembered document with only that string's value changed (RFC 8259
 * §7: such bytes are a string's content and nothing else), so every fact read from the
 * remembered frame except that string's value holds for it. The framing around the JSON (an
 * SSE `data:` line) is part of the compared bytes, so it is the same too.
 */
export class JsonEventTemplate {
  private before: Buffer | undefined;
  private after: Buffer | undefined;

  /** Remembers `frame` with the string content at [start, end) as the part that varies. */
  remember(frame: Buffer, start: number, end: number): void {
    this.before = Buffer.from(frame.subarray(0, start));
    this.after = Buffer.from(frame.subarray(end));
  }

  /** Forgets the remembered frame: no frame matches until the next `remember`. */
  forget(): void {
    this.before = undefined;
    this.after = undefined;
  }

  /** The varying string's content in `frame` when the frame fits; undefined otherwise. */
  match(frame: Buffer): TemplateSpan | undefined {
    const { before, after } = this;
    if (before === undefined || after === undefined) return undefined;
    const start = before.length;
    if (frame.length < start + after.length) return undefined;
    if (frame.compare(before, 0, start, 0, start) !== 0) return undefined;

    const end = plainStringEnd(frame, start, frame.length);
    if (end < 0 || frame.length - end !== after.length) return undefined;
    return sameBytes(frame, end, after) ? { start, end } : undefined;
  }
}

/**
 * Below this many bytes a loop in JavaScript compares faster than `Buffer.compare`, whose call
 * into the runtime costs about what 80 bytes of loop do; an event's tail after its text (the
 * closing of the JSON and the blank line) is usually shorter.
 */
const LOOP_COMPARE_BYTES = 64;

/** Whether `frame` holds `expected` from `offset` on. */
function sameBytes(frame: Buffer, offset: number, expected: Buffer): boolean {
  const length = expected.length;
  if (length > LOOP_COMPARE_BYTES) return frame.compare(expected, 0, length, offset) === 0;
  for (let i = 0; i < length; i++) {
    if (frame[offset + i] !== expected[i]) return false;
  }
  return true;
}

/**
 * The offset of the closing quote of string content starting at `pos`, when the content up to
 * `limit` has no escape or control byte and is well-formed UTF-8; -1 otherwise.
 */
function plainStringEnd(bytes: Buffer, pos: number, limit: number): number {
  while (pos < limit) {
    const byte = bytes[pos]!;
    if (byte === QUOTE) return pos;
    if (byte === BACKSLASH || byte < 0x20) return -1;
    if (byte < 0x80) {
      pos++;
      continue;
    }
    pos = utf8SequenceEnd(bytes, pos, limit);
    if (pos < 0) return -1;
  }
  return -1;
}
