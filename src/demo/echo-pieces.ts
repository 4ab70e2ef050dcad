// How the echo models cut a prompt into the pieces they stream: words, bytes or code points.

import { limitTokens, tokenize, type TokenLimits } from './reply-script';

/**
 * What one unit of `demo_token_bytes` counts. On gRPC a BYTES element carries any bytes, so a
 * piece may end inside a UTF-8 character, which is how a test reaches a filter that must
 * reassemble one. Over HTTP a piece is a JSON string, which cannot hold part of a character,
 * so there the unit is a Unicode code point.
 */
export type PieceUnit = 'byte' | 'codePoint';

/**
 * The words of `text` as `tokenize` cuts them, with trailing whitespace kept on the last piece
 * (a text of whitespace only is one piece), so the pieces always join to the whole text.
 */
export function wordPieces(text: string): string[] {
  const words = tokenize(text);
  const rest = text.slice(words.join('').length);
  if (rest === '') {
    return words;
  }

  const last = words.pop() ?? '';
  return [...words, last + rest];
}

/** Consecutive pieces of `size` bytes (at least 1), the last one possibly shorter. */
export function bytePieces(bytes: Buffer, size: number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) {
    pieces.push(bytes.subarray(offset, offset + size));
  }
  return pieces;
}

/**
 * Consecutive pieces of `size` code points (at least 1), the last one possibly shorter. A
 * surrogate pair is one code point and is never split.
 */
export function codePointPieces(text: string, size: number): string[] {
  const points = Array.from(text);
  const pieces: string[] = [];
  for (let offset = 0; offset < points.length; offset += size) {
    pieces.push(points.slice(offset, offset + size).join(''));
  }
  return pieces;
}

/**
 * Limits for fixed-size pieces: at most `exactTokens`, else at most `maxTokens`, pieces. Unlike
 * words, pieces are never repeated to reach `exactTokens`, so they always join to a prefix of
 * the prompt.
 */
export function prefixPieces<T>(pieces: readonly T[], limits: TokenLimits = {}): T[] {
  return pieces.slice(0, limits.exactTokens ?? limits.maxTokens);
}

/**
 * The text pieces an echo model streams for `text`: its words fitted to `limits` as the chat
 * model's tokens are, or, with `pieceCodePoints`, pieces of that many code points cut short
 * by `prefixPieces`.
 */
function echoTextPieces(
  text: string,
  pieceCodePoints: number | undefined,
  limits: TokenLimits = {},
): string[] {
  return pieceCodePoints === undefined
    ? limitTokens(wordPieces(text), limits)
    : prefixPieces(codePointPieces(text, pieceCodePoints), limits);
}

/**
 * The pieces an echo model streams for the prompt bytes, in `unit`s of `pieceSize` (words
 * when undefined), fitted to `limits` as `echoTextPieces` does. Byte pieces are cut from the
 * prompt as sent; words and code points decode it as UTF-8 first.
 */
export function echoPieces(
  prompt: Buffer,
  pieceSize: number | undefined,
  unit: PieceUnit,
  limits: TokenLimits = {},
): Buffer[] {
  if (pieceSize !== undefined && unit === 'byte') {
    return prefixPieces(bytePieces(prompt, pieceSize), limits);
  }
  // Limitation: decoding replaces invalid UTF-8 with U+FFFD, so a word or code point cut of
  // such a prompt does not join back to the bytes sent; byte pieces do.
  const pieces = echoTextPieces(prompt.toString('utf8'), pieceSize, limits);
  return pieces.map((piece) => Buffer.from(piece));
}
