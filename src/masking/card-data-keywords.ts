// The words that label a security code or an expiry date, matched backwards from the code they
// label, so a scan only looks for them where a digit is.

/** What a keyword labels. */
export type KeywordKind = 'cvv' | 'expiry';

/**
 * Labels of a security code (PCI DSS calls it card verification code or value; brands name it
 * CVV2, CVC2, CID, CAV2) and of an expiry date, lowercase. JSON keys in snake case are listed
 * because a label glued with `_` is still a label. Bare "valid" is not one ("valid 12/25 hours").
 */
const KEYWORDS: readonly (readonly [string, KeywordKind])[] = [
  ['card verification value', 'cvv'],
  ['card verification code', 'cvv'],
  ['card verification', 'cvv'],
  ['security code', 'cvv'],
  ['security_code', 'cvv'],
  ['cvv2', 'cvv'],
  ['cvc2', 'cvv'],
  ['cav2', 'cvv'],
  ['cvv', 'cvv'],
  ['cvc', 'cvv'],
  ['cid', 'cvv'],
  ['expiration date', 'expiry'],
  ['expiration_date', 'expiry'],
  ['expiry date', 'expiry'],
  ['expiry_date', 'expiry'],
  ['exp date', 'expiry'],
  ['exp_date', 'expiry'],
  ['expiration', 'expiry'],
  ['valid through', 'expiry'],
  ['valid thru', 'expiry'],
  ['expires', 'expiry'],
  ['expiry', 'expiry'],
  ['exp.', 'expiry'],
  ['exp', 'expiry'],
];

/** The longest keyword and the longest gap between it and its code, in bytes. */
const MAX_KEYWORD_BYTES = Math.max(...KEYWORDS.map(([word]) => word.length));
const MAX_LABEL_GAP_BYTES = 8;

/** Bytes before a code that a keyword match may read: gap, "is", keyword and its boundary. */
export const MAX_KEYWORD_LOOKBEHIND_BYTES = MAX_LABEL_GAP_BYTES * 2 + 2 + MAX_KEYWORD_BYTES + 1;

/**
 * A text that may begin before offset 0 (a stream's kept context). One class rather than a
 * closure per scan: a fresh closure each scan is a new call target, which throws away the
 * optimised code of every function that reads through it.
 */
export class ContextBytes {
  constructor(
    readonly text: Uint8Array,
    readonly before: Uint8Array,
  ) {}

  /** Byte `pos`, reading `before` for negative offsets; -1 outside both. */
  at(pos: number): number {
    if (pos >= 0) return pos < this.text.length ? this.text[pos]! : -1;
    const index = this.before.length + pos;
    return index >= 0 ? this.before[index]! : -1;
  }
}

/**
 * The kind the keyword just before offset `code` labels, or undefined. Between keyword and code
 * there may be spaces, tabs, `:`, `=`, quotes (a JSON key) and the word "is", any letter case.
 */
export function keywordBefore(bytes: ContextBytes, code: number): KeywordKind | undefined {
  let end = skipGap(bytes, code);
  if (end === code) return undefined;
  if (lower(bytes.at(end - 1)) === 0x73 && lower(bytes.at(end - 2)) === 0x69) {
    if (bytes.at(end) === 0x20 && bytes.at(end - 3) === 0x20) end = skipGap(bytes, end - 2);
  }
  // Most numbers follow no keyword: one table read rules out every word at once.
  if (KEYWORD_LAST_BYTES[lower(bytes.at(end - 1)) & 0xff] === 0) return undefined;
  const candidates = KEYWORDS_BY_LAST_BYTE[lower(bytes.at(end - 1)) & 0xff]!;
  for (let i = 0; i < candidates.length; i++) {
    const [word, kind] = candidates[i]!;
    if (endsWith(bytes, end, word)) return kind;
  }
  return undefined;
}

/** The lowercase bytes a keyword may end with. */
const KEYWORD_LAST_BYTES = new Uint8Array(256);
for (const [word] of KEYWORDS) KEYWORD_LAST_BYTES[word.charCodeAt(word.length - 1)] = 1;

/**
 * KEYWORDS split by last byte, each list in table order so the first match is the same: a word
 * with another last byte cannot end at `end`, and trying all of them is most of a label's cost.
 */
const KEYWORDS_BY_LAST_BYTE: readonly (readonly (readonly [string, KeywordKind])[])[] = Array.from(
  { length: 256 },
  (_, byte) => KEYWORDS.filter(([word]) => word.charCodeAt(word.length - 1) === byte),
);

/** Walks back over the gap chars before `pos`, at most MAX_LABEL_GAP_BYTES. */
function skipGap(bytes: ContextBytes, pos: number): number {
  let at = pos;
  while (pos - at < MAX_LABEL_GAP_BYTES && isGapByte(bytes.at(at - 1))) at--;
  return at;
}

/** Whether `word` ends at `end`, any letter case, with no letter or digit before it. */
function endsWith(bytes: ContextBytes, end: number, word: string): boolean {
  const start = end - word.length;
  for (let i = 0; i < word.length; i++) {
    if (lower(bytes.at(start + i)) !== word.charCodeAt(i)) return false;
  }
  return !isAlphanumeric(bytes.at(start - 1));
}

function isGapByte(byte: number): boolean {
  return (
    byte === 0x20 ||
    byte === 0x09 ||
    byte === 0x3a ||
    byte === 0x3d ||
    byte === 0x22 ||
    byte === 0x27
  );
}

function lower(byte: number): number {
  return byte >= 0x41 && byte <= 0x5a ? byte + 0x20 : byte;
}

/** ASCII letters and digits: what would make a keyword part of a longer word. */
export function isAlphanumeric(byte: number): boolean {
  const folded = lower(byte);
  return (folded >= 0x61 && folded <= 0x7a) || (byte >= 0x30 && byte <= 0x39);
}
