// The texts of a JSON document as masking pieces: views of the wire bytes where they are the
// text, decoded copies where JSON escapes stand between (a `\u0034` is a digit the wire hides).

import { decodeJsonString } from './json-scalar-decoder';
import type { JsonTextSpan } from './json-path';
import type { FrameTexts, TextPiece } from '../masking/frame-holdback';

/** A span and the stream its text continues, if any. */
export interface StreamedSpan extends JsonTextSpan {
  readonly stream: string | undefined;
}

/** An escaped span's decoded copy and the bytes it had before masking. */
interface DecodedSpan {
  readonly span: JsonTextSpan;
  readonly piece: TextPiece;
  readonly original: Buffer;
  /** The decoded text, which may hold lone surrogates that its UTF-8 form cannot. */
  readonly text: string;
}

/**
 * The pieces of `spans`, which index `wire`. A span without escapes is masked in place; one
 * with escapes is decoded, masked as text, and only if the mask changed it, re-encoded into a
 * new copy of the frame by `finish`, which `rebuild` turns into the message to forward.
 */
export function jsonTextPieces<M>(
  wire: Buffer,
  spans: readonly StreamedSpan[],
  rebuild: (message: M, frame: Buffer) => M,
): Pick<FrameTexts<M>, 'pieces' | 'finish'> {
  const pieces: TextPiece[] = [];
  const decoded: DecodedSpan[] = [];
  for (const span of spans) {
    if (!span.escaped) {
      pieces.push({ bytes: wire.subarray(span.start, span.end), stream: span.stream });
      continue;
    }
    const text = decodeJsonString(wire, span.start, span.end);
    const bytes = Buffer.from(text, 'utf8');
    const piece = { bytes, stream: span.stream };
    pieces.push(piece);
    decoded.push({ span, piece, original: Buffer.from(bytes), text });
  }
  if (decoded.length === 0) return { pieces };
  return {
    pieces,
    finish: (message) => {
      const changed = decoded.filter(({ piece, original }) => !piece.bytes.equals(original));
      return changed.length === 0 ? message : rebuild(message, reencode(wire, changed));
    },
  };
}

/**
 * `wire` with each changed span's masked text written back as a JSON string body. JSON.stringify
 * escapes what JSON requires (quote, backslash, control characters) and writes the rest as it
 * is; masking only puts ASCII over whole digits, so the text is still well-formed UTF-8.
 */
function reencode(wire: Buffer, changed: readonly DecodedSpan[]): Buffer {
  const parts: Buffer[] = [];
  let pos = 0;
  for (const { span, piece, text } of changed) {
    parts.push(wire.subarray(pos, span.start));
    parts.push(Buffer.from(JSON.stringify(maskedText(text, piece.bytes)).slice(1, -1), 'utf8'));
    pos = span.end;
  }
  parts.push(wire.subarray(pos));
  return Buffer.concat(parts);
}

/**
 * `text` with the masks of `masked`, its UTF-8 form after masking: character by character, a
 * character whose bytes masking left alone is taken from `text`, so a lone surrogate (which
 * JSON allows as an escape, and UTF-8 turns into U+FFFD) comes back as it was; one it masked
 * becomes its mask bytes, which are ASCII.
 */
function maskedText(text: string, masked: Buffer): string {
  let out = '';
  let pos = 0;
  for (const character of text) {
    const length = Buffer.byteLength(character, 'utf8');
    const original = Buffer.from(character, 'utf8');
    const bytes = masked.subarray(pos, pos + length);
    out += bytes.equals(original) ? character : bytes.toString('latin1');
    pos += length;
  }
  return out;
}
