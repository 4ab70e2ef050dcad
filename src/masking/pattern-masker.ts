// Operators' own masking patterns (account numbers, employee ids, keys of their own systems):
// compiled once, matched over a text's bytes and masked in place like card data.

import { ProxyError } from '../errors/proxy-error';
import { MAX_PATTERN_LENGTH, maxPatternLength } from './pattern-length';

/** An operator's pattern, compiled and bounded. */
export interface MaskPattern {
  /** The name counts are kept under; it appears in logs and audit records, never the text. */
  readonly name: string;
  /** Global, without the `u` flag: it runs over the text decoded byte for byte (latin1). */
  readonly regex: RegExp;
  /** The most bytes one match can span (see `maxPatternLength`). */
  readonly maxLength: number;
}

/** Matches masked so far, by pattern name. */
export type PatternCounts = Record<string, number>;

/**
 * Compiles `source` (JavaScript regular expression syntax). Patterns run over bytes, so each
 * byte is one character and a pattern is written in ASCII. Throws ProxyError
 * `ERR_CONFIG_INVALID` for a pattern that does not compile, has no bound on its length or one
 * above MAX_PATTERN_LENGTH (a stream holds that much back), or can only match the empty text.
 */
export function compileMaskPattern(name: string, source: string, ignoreCase = false): MaskPattern {
  let regex: RegExp;
  try {
    regex = new RegExp(source, ignoreCase ? 'gi' : 'g');
  } catch (err) {
    throw new ProxyError('ERR_CONFIG_INVALID', `pattern "${name}" does not compile`, {
      cause: err,
    });
  }
  const maxLength = maxPatternLength(source);
  if (typeof maxLength === 'string') {
    throw new ProxyError('ERR_CONFIG_INVALID', `pattern "${name}": ${maxLength}`);
  }
  if (maxLength > MAX_PATTERN_LENGTH) {
    const reason = `can match ${maxLength} bytes; at most ${MAX_PATTERN_LENGTH} are allowed`;
    throw new ProxyError('ERR_CONFIG_INVALID', `pattern "${name}" ${reason}`);
  }
  if (maxLength === 0) {
    throw new ProxyError('ERR_CONFIG_INVALID', `pattern "${name}" can only match empty text`);
  }
  return { name, regex, maxLength };
}

/** A match to mask: stream or text offsets of its first byte and just past its last. */
export interface PatternMatch {
  readonly pattern: number;
  readonly start: number;
  readonly end: number;
}

/**
 * Finds the matches of `pattern` in `text` (latin1) that start at `from` or after and before
 * `limit`, leftmost first, each search resuming after the previous match, as a global search
 * of the whole text would. Returns where the next search starts: after the last match, or
 * `limit` when no match starts before it. Empty matches mask nothing and are skipped.
 */
export function scanPattern(
  text: string,
  pattern: MaskPattern,
  index: number,
  from: number,
  limit: number,
  found: PatternMatch[],
): number {
  const { regex } = pattern;
  regex.lastIndex = from;
  let next = from;
  for (let match = regex.exec(text); match !== null; match = regex.exec(text)) {
    if (match.index >= limit) break;
    const end = match.index + match[0].length;
    if (end === match.index) {
      regex.lastIndex = end + 1;
      continue;
    }
    found.push({ pattern: index, start: match.index, end });
    next = end;
  }
  return Math.max(next, Math.min(limit, text.length));
}

/**
 * Masks every match of `patterns` in `text`, in place, each masked byte becoming `maskByte`.
 * Every pattern is matched against the text as it came, so the order of patterns does not
 * matter. Returns the matches masked, by pattern name.
 */
export function maskPatterns(
  text: Buffer,
  patterns: readonly MaskPattern[],
  maskByte: number,
): PatternCounts {
  const counts: PatternCounts = {};
  if (patterns.length === 0 || text.length === 0) return counts;
  const latin1 = text.toString('latin1');
  const found: PatternMatch[] = [];
  patterns.forEach((pattern, index) => {
    scanPattern(latin1, pattern, index, 0, Infinity, found);
  });
  for (const match of found) {
    writeWholeCharacters(text, match.start, match.end, (start, end) => {
      text.fill(maskByte, start, end);
    });
    countMatch(counts, patterns[match.pattern]!.name);
  }
  return counts;
}

/** Adds one match of `name` to `counts`. */
export function countMatch(counts: PatternCounts, name: string): void {
  counts[name] = (counts[name] ?? 0) + 1;
}

/** Adds `counts` into `into`, name by name. */
export function addPatternCounts(into: PatternCounts, counts: Readonly<PatternCounts>): void {
  for (const [name, count] of Object.entries(counts)) into[name] = (into[name] ?? 0) + count;
}

/**
 * Calls `write` with the part of bytes [start, end) of `text` that holds whole UTF-8
 * characters: a match that begins or ends inside a multi-byte character leaves that character
 * as it is, so masking never makes the text invalid UTF-8. Reads only bytes inside the match.
 */
export function writeWholeCharacters(
  text: Uint8Array,
  start: number,
  end: number,
  write: (start: number, end: number) => void,
): void {
  let from = start;
  while (from < end && isContinuation(text[from]!)) from++;
  let to = from;
  let pos = from;
  while (pos < end) {
    const length = sequenceLength(text[pos]!);
    if (pos + length > end) break;
    pos += length;
    to = pos;
  }
  if (to > from) write(from, to);
}

function isContinuation(byte: number): boolean {
  return (byte & 0xc0) === 0x80;
}

/** The bytes of the UTF-8 sequence a byte leads; 1 for ASCII and for a byte that leads none. */
function sequenceLength(byte: number): number {
  if (byte >= 0xf0 && byte <= 0xf4) return 4;
  if (byte >= 0xe0) return byte <= 0xef ? 3 : 1;
  if (byte >= 0xc2) return 2;
  return 1;
}
