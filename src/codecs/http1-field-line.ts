// Checks one header or trailer field line (RFC 9112 §5) and locates its name and value.

import { ProxyError } from '../errors/proxy-error';
import { COLON, FIELD_VALUE_BYTES, isOws, TOKEN_BYTES } from './http1-syntax';

/** Where the parts of one field line lie, as `scanFieldLine` found them; reused between lines. */
export interface FieldLineBounds {
  nameEnd: number;
  valueStart: number;
  valueEnd: number;
}

/** The section a field line belongs to, named in error messages. */
export type FieldSection = 'header' | 'trailer';

/**
 * Checks `bytes[start, end)`, one field line without its line end, and fills `bounds` (the name
 * starts at `start`). The value is trimmed of OWS (RFC 9112 §5). Throws ERR_HTTP_MALFORMED for a
 * line starting with whitespace (obs-fold, refused per RFC 9112 §5.2, or whitespace after the
 * start line per §2.2), a name that is not a token, whitespace before the colon (§5.1) or a
 * value byte outside RFC 9110 §5.5. Messages name the line by `section` and `index`, never by
 * its value, which may carry credentials.
 */
export function scanFieldLine(
  bytes: Buffer,
  start: number,
  end: number,
  section: FieldSection,
  index: number,
  bounds: FieldLineBounds,
): void {
  if (isOws(bytes[start])) malformed(section, index, 'starts with whitespace (obs-fold)');
  const nameEnd = scanName(bytes, start, end, section, index);
  let valueStart = nameEnd + 1;
  let valueEnd = end;
  while (valueStart < valueEnd && isOws(bytes[valueStart])) valueStart++;
  while (valueEnd > valueStart && isOws(bytes[valueEnd - 1])) valueEnd--;

  for (let i = valueStart; i < valueEnd; i++) {
    const byte = bytes[i]!;
    if (FIELD_VALUE_BYTES[byte] === 0) malformed(section, index, `value holds byte ${hex(byte)}`);
  }

  bounds.nameEnd = nameEnd;
  bounds.valueStart = valueStart;
  bounds.valueEnd = valueEnd;
}

/** Returns the index of the colon that ends the token name starting at `start`. */
function scanName(
  bytes: Buffer,
  start: number,
  end: number,
  section: FieldSection,
  index: number,
): number {
  let i = start;
  while (i < end && TOKEN_BYTES[bytes[i]!] === 1) i++;
  if (i === end) malformed(section, index, 'has no colon');
  if (bytes[i] === COLON) {
    if (i === start) malformed(section, index, 'has an empty name');
    return i;
  }
  // RFC 9112 §5.1: a lenient upstream could read "name :" as another field, so it is refused.
  if (isOws(bytes[i])) malformed(section, index, 'has whitespace between its name and colon');
  return malformed(section, index, `name holds byte ${hex(bytes[i]!)}, not a token character`);
}

function hex(byte: number): string {
  return `0x${byte.toString(16).padStart(2, '0')}`;
}

function malformed(section: FieldSection, index: number, problem: string): never {
  throw new ProxyError('ERR_HTTP_MALFORMED', `${section} field ${index} ${problem}`);
}
