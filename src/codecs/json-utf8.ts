// UTF-8 well-formedness for JSON text (RFC 8259 §8.1 requires UTF-8; the Unicode Standard,
// Table 3-7 "Well-Formed UTF-8 Byte Sequences", defines which sequences are UTF-8).

/**
 * Returns the offset just past the multi-byte UTF-8 sequence that starts at `pos`, or -1 when
 * the bytes there are not well-formed UTF-8: a stray continuation byte, an overlong form, an
 * encoded surrogate (U+D800-U+DFFF), a code point past U+10FFFF, or a sequence cut by `limit`.
 * The byte at `pos` must be 0x80 or above; ASCII is the caller's fast path.
 */
export function utf8SequenceEnd(bytes: Buffer, pos: number, limit: number): number {
  const lead = bytes[pos]!;
  if (lead >= 0xc2 && lead <= 0xdf) return continuations(bytes, pos + 1, 1, limit, 0x80, 0xbf);
  if (lead >= 0xe0 && lead <= 0xef) {
    // E0 would be overlong below A0; ED would encode a surrogate from A0 (Table 3-7).
    const low = lead === 0xe0 ? 0xa0 : 0x80;
    const high = lead === 0xed ? 0x9f : 0xbf;
    return continuations(bytes, pos + 1, 2, limit, low, high);
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    // F0 would be overlong below 90; F4 would pass U+10FFFF from 90 (Table 3-7).
    const low = lead === 0xf0 ? 0x90 : 0x80;
    const high = lead === 0xf4 ? 0x8f : 0xbf;
    return continuations(bytes, pos + 1, 3, limit, low, high);
  }
  return -1;
}

/** Checks `count` continuation bytes from `pos`; the first one must lie in [low, high]. */
function continuations(
  bytes: Buffer,
  pos: number,
  count: number,
  limit: number,
  low: number,
  high: number,
): number {
  if (pos + count > limit) return -1;
  const first = bytes[pos]!;
  if (first < low || first > high) return -1;
  for (let i = 1; i < count; i++) {
    const next = bytes[pos + i]!;
    if (next < 0x80 || next > 0xbf) return -1;
  }
  return pos + count;
}
