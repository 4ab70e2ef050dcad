// The characters a card number is made of, read straight from UTF-8: decimal digits of every
// script, the separators allowed between digit groups, and the invisible characters ignored.

/**
 * The first code point (value 0) of every run of ten decimal digits, general category Nd, as of
 * Unicode 17.0, sorted. The Unicode stability policy guarantees that Nd characters come in
 * contiguous runs of ten ordered by value, so a digit's value is its distance from its run's
 * zero. Runs longer than ten (U+1D7CE, the mathematical digits) are listed per ten.
 */
export const DECIMAL_DIGIT_ZEROS: readonly number[] = [
  0x30, 0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6, 0xd66, 0xde6,
  0xe50, 0xed0, 0xf20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90, 0x1b50,
  0x1bb0, 0x1c40, 0x1c50, 0xa620, 0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10, 0x104a0,
  0x10d30, 0x10d40, 0x11066, 0x110f0, 0x11136, 0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650, 0x116c0,
  0x116d0, 0x116da, 0x11730, 0x118e0, 0x11950, 0x11bf0, 0x11c50, 0x11d50, 0x11da0, 0x11de0, 0x11f50,
  0x16130, 0x16a60, 0x16ac0, 0x16b50, 0x16d70, 0x1ccf0, 0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6,
  0x1e140, 0x1e2f0, 0x1e4f0, 0x1e5f1, 0x1e950, 0x1fbf0,
];

/** The longest UTF-8 encoding of a digit (the supplementary-plane digits take four bytes). */
export const MAX_DIGIT_BYTES = 4;

/** The longest UTF-8 encoding of a separator or an invisible character. */
export const MAX_GAP_CHARACTER_BYTES = 3;

/** `decodeCodePoint` result: the bytes at the position are not well-formed UTF-8. */
export const UTF8_INVALID = -1;

/** `decodeCodePoint` result: a well-formed prefix of a sequence that the buffer cuts short. */
export const UTF8_CUT = -2;

/**
 * Lead bytes that may begin a decimal digit: ASCII digits and the lead bytes of every non-ASCII
 * digit. The scanner's fast path skips any other byte without decoding it.
 */
export const DIGIT_LEAD_BYTES: Uint8Array = digitLeadBytes();

/**
 * Whether the bytes from `pos` to `limit`, a well-formed but cut UTF-8 sequence, may still
 * become a digit. A stream cut inside an emoji or a CJK character is then released at once.
 */
export function mayBeginDigit(bytes: Uint8Array, pos: number, limit: number): boolean {
  let key = limit - pos;
  for (let i = pos; i < limit; i++) key = key * 256 + bytes[i]!;
  return DIGIT_PREFIXES.has(key);
}

/**
 * Decodes the code point at `pos` (which must be below `limit`) and returns it packed as
 * `codePoint * 8 + byteLength`, or UTF8_INVALID for bytes outside the Unicode Standard's
 * Table 3-7 (well-formed UTF-8), or UTF8_CUT when `limit` cuts a well-formed prefix short.
 */
export function decodeCodePoint(bytes: Uint8Array, pos: number, limit: number): number {
  const lead = bytes[pos]!;
  if (lead < 0x80) return lead * 8 + 1;
  if (lead >= 0xc2 && lead <= 0xdf) return continued(bytes, pos, limit, lead & 0x1f, 1, 0x80, 0xbf);
  if (lead >= 0xe0 && lead <= 0xef) {
    // E0 below A0 would be overlong; ED from A0 would encode a surrogate (Table 3-7).
    const low = lead === 0xe0 ? 0xa0 : 0x80;
    const high = lead === 0xed ? 0x9f : 0xbf;
    return continued(bytes, pos, limit, lead & 0x0f, 2, low, high);
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    // F0 below 90 would be overlong; F4 from 90 would pass U+10FFFF (Table 3-7).
    const low = lead === 0xf0 ? 0x90 : 0x80;
    const high = lead === 0xf4 ? 0x8f : 0xbf;
    return continued(bytes, pos, limit, lead & 0x07, 3, low, high);
  }
  return UTF8_INVALID;
}

/** Reads `count` continuation bytes after the lead at `pos`; the first lies in [low, high]. */
function continued(
  bytes: Uint8Array,
  pos: number,
  limit: number,
  bits: number,
  count: number,
  low: number,
  high: number,
): number {
  let codePoint = bits;
  for (let i = 1; i <= count; i++) {
    if (pos + i >= limit) return UTF8_CUT;
    const byte = bytes[pos + i]!;
    if (i === 1 ? byte < low || byte > high : byte < 0x80 || byte > 0xbf) return UTF8_INVALID;
    codePoint = codePoint * 64 + (byte & 0x3f);
  }
  return codePoint * 8 + count + 1;
}

/** The value 0-9 of a decimal digit (general category Nd) of any script, or -1. */
export function digitValue(codePoint: number): number {
  if (codePoint < 0x80) return codePoint >= 0x30 && codePoint <= 0x39 ? codePoint - 0x30 : -1;
  let low = 0;
  let high = DECIMAL_DIGIT_ZEROS.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (DECIMAL_DIGIT_ZEROS[middle]! <= codePoint) low = middle;
    else high = middle - 1;
  }
  const offset = codePoint - DECIMAL_DIGIT_ZEROS[low]!;
  return offset >= 0 && offset <= 9 ? offset : -1;
}

/**
 * Whether a character may stand between two digit groups of a card number: the spaces people
 * and typesetters put there (space, tab, no-break, the U+2000 family, narrow no-break,
 * medium mathematical, ideographic) and the dashes and dots (ASCII, Unicode hyphens and dashes,
 * minus sign, full-width). A line break is not one: numbers on separate lines stay separate.
 */
export function isGroupSeparator(codePoint: number): boolean {
  if (codePoint < 0x80) {
    return codePoint === 0x20 || codePoint === 0x09 || codePoint === 0x2d || codePoint === 0x2e;
  }
  return (
    codePoint === 0xa0 ||
    (codePoint >= 0x2000 && codePoint <= 0x200a) ||
    (codePoint >= 0x2010 && codePoint <= 0x2013) ||
    codePoint === 0x202f ||
    codePoint === 0x205f ||
    codePoint === 0x2212 ||
    codePoint === 0x3000 ||
    codePoint === 0xff0d ||
    codePoint === 0xff0e
  );
}

/**
 * Whether a character renders as nothing and may sit anywhere between digits: zero-width space,
 * non-joiner and joiner, word joiner, the invisible operators, soft hyphen, Mongolian vowel
 * separator and the byte order mark. Threat: these are the classic way to hide a number from a
 * pattern while a reader (or a model) still sees it whole.
 */
export function isInvisible(codePoint: number): boolean {
  return (
    (codePoint >= 0x200b && codePoint <= 0x200d) ||
    (codePoint >= 0x2060 && codePoint <= 0x2064) ||
    codePoint === 0xad ||
    codePoint === 0x180e ||
    codePoint === 0xfeff
  );
}

/** Every proper prefix of a digit's UTF-8 bytes, keyed as `mayBeginDigit` keys them. */
const DIGIT_PREFIXES: ReadonlySet<number> = digitPrefixes();

function digitPrefixes(): Set<number> {
  const prefixes = new Set<number>();
  for (const zero of DECIMAL_DIGIT_ZEROS) {
    for (let codePoint = zero; codePoint <= zero + 9; codePoint++) {
      const bytes = Buffer.from(String.fromCodePoint(codePoint), 'utf8');
      for (let length = 1; length < bytes.length; length++) {
        let key = length;
        for (let i = 0; i < length; i++) key = key * 256 + bytes[i]!;
        prefixes.add(key);
      }
    }
  }
  return prefixes;
}

function digitLeadBytes(): Uint8Array {
  const leads = new Uint8Array(256);
  for (const zero of DECIMAL_DIGIT_ZEROS) {
    for (let codePoint = zero; codePoint <= zero + 9; codePoint++) {
      leads[Buffer.from(String.fromCodePoint(codePoint), 'utf8')[0]!] = 1;
    }
  }
  return leads;
}
