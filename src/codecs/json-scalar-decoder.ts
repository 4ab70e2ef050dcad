// Decodes the JSON scalars `scanJson` reports, on demand: strings with their escapes (RFC 8259
// §7), numbers (§6) and the literals true, false and null (§3).

import { ProxyError } from '../errors/proxy-error';
import type { JsonScalarKind } from './json-text-scanner';

/** A decoded JSON scalar. */
export type JsonScalar = string | number | boolean | null;

const BACKSLASH = 0x5c;

/** The two-byte escapes of RFC 8259 §7: the byte after the backslash, and its text. */
export const JSON_SIMPLE_ESCAPES: ReadonlyMap<number, string> = new Map([
  [0x22, '"'],
  [0x5c, '\\'],
  [0x2f, '/'],
  [0x62, '\b'],
  [0x66, '\f'],
  [0x6e, '\n'],
  [0x72, '\r'],
  [0x74, '\t'],
]);

/**
 * Decodes the wire bytes of a JSON string, `buf[start, end)` taken inside its quotes as
 * `scanJson` reports them, into the text they encode. Every escape of RFC 8259 §7 is decoded;
 * `\uXXXX` yields one UTF-16 code unit, so an escaped surrogate pair becomes one character and
 * a lone escaped surrogate stays a lone code unit, as in `JSON.parse`. Bytes outside escapes
 * are read as UTF-8 without checking again (the scanner already did). Throws ProxyError
 * `ERR_JSON_MALFORMED` for a broken escape, so a range the scanner did not report is safe too.
 */
export function decodeJsonString(buf: Buffer, start: number, end: number): string {
  let out = '';
  let run = start;
  let pos = start;
  while (pos < end) {
    if (buf[pos] !== BACKSLASH) {
      pos++;
      continue;
    }
    out += buf.toString('utf8', run, pos) + decodeEscape(buf, pos, end);
    pos += buf[pos + 1] === 0x75 ? 6 : 2;
    run = pos;
  }

  return run === start ? buf.toString('utf8', start, end) : out + buf.toString('utf8', run, end);
}

/** Decodes the escape at `pos` (a backslash): 2 bytes, or 6 for `\uXXXX`. */
function decodeEscape(buf: Buffer, pos: number, end: number): string {
  const letter = pos + 1 < end ? buf[pos + 1]! : -1;
  const simple = JSON_SIMPLE_ESCAPES.get(letter);
  if (simple !== undefined) return simple;
  if (letter !== 0x75 || pos + 6 > end) throw malformedEscape(pos);

  const unit = readHex4(buf, pos + 2);
  if (unit < 0) throw malformedEscape(pos);
  return String.fromCharCode(unit);
}

/**
 * Reads four hexadecimal digits at `pos` as a number; -1 when any is not a hex digit. The
 * caller checks that four bytes are there.
 */
export function readHex4(buf: Buffer, pos: number): number {
  let value = 0;
  for (let i = pos; i < pos + 4; i++) {
    const digit = hexDigit(buf[i]!);
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

function hexDigit(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

function malformedEscape(pos: number): ProxyError {
  return new ProxyError('ERR_JSON_MALFORMED', `JSON string has a malformed escape at byte ${pos}`);
}

/**
 * Decodes a scalar `scanJson` reported: a string as by `decodeJsonString`, a number as the
 * nearest double (so `1e400` is Infinity and digits past 2^53 round), a literal as itself.
 */
export function decodeJsonScalar(
  buf: Buffer,
  kind: JsonScalarKind,
  start: number,
  end: number,
): JsonScalar {
  switch (kind) {
    case 'string':
      return decodeJsonString(buf, start, end);
    case 'number':
      return Number(buf.toString('latin1', start, end));
    case 'boolean':
      return buf[start] === 0x74;
    case 'null':
      return null;
  }
}
