// Byte classes of HTTP/1.1 message syntax: tokens (RFC 9110 §5.6.2) and field values (§5.5).

/** Carriage return. */
export const CR = 0x0d;
/** Line feed: every line of an HTTP/1.1 head ends with one (RFC 9112 §2.2). */
export const LF = 0x0a;
/** Space. */
export const SP = 0x20;
/** Horizontal tab. */
export const HTAB = 0x09;
/** The colon that ends a field name (RFC 9112 §5.1). */
export const COLON = 0x3a;

/** The tchar punctuation of RFC 9110 §5.6.2; letters and digits are added in the table. */
const TOKEN_PUNCTUATION = "!#$%&'*+-.^_`|~";

/** 1 for each byte that is a tchar (RFC 9110 §5.6.2), 0 otherwise. */
export const TOKEN_BYTES: Uint8Array = buildTokenTable();

/**
 * 1 for each byte allowed inside a field value: VCHAR, obs-text, SP and HTAB (RFC 9110 §5.5).
 * Security: every other control byte is refused, not only the NUL, CR and LF that §5.5 requires,
 * because an upstream that reads a stray control byte differently from us is a smuggling vector.
 */
export const FIELD_VALUE_BYTES: Uint8Array = buildFieldValueTable();

/**
 * 1 for each byte allowed in a request-target: the visible ASCII of RFC 3986, without '#'
 * since a fragment is never sent (RFC 9112 §3.2).
 */
export const TARGET_BYTES: Uint8Array = buildTargetTable();

function buildTokenTable(): Uint8Array {
  const table = new Uint8Array(256);
  for (let byte = 0x30; byte <= 0x39; byte++) table[byte] = 1;
  for (let byte = 0x41; byte <= 0x5a; byte++) table[byte] = 1;
  for (let byte = 0x61; byte <= 0x7a; byte++) table[byte] = 1;
  for (let i = 0; i < TOKEN_PUNCTUATION.length; i++) table[TOKEN_PUNCTUATION.charCodeAt(i)] = 1;
  return table;
}

function buildFieldValueTable(): Uint8Array {
  const table = new Uint8Array(256);
  table.fill(1, 0x20, 0x7f);
  table.fill(1, 0x80, 0x100);
  table[HTAB] = 1;
  return table;
}

function buildTargetTable(): Uint8Array {
  const table = new Uint8Array(256);
  table.fill(1, 0x21, 0x7f);
  table[0x23] = 0;
  return table;
}

/** True when `bytes[start, end)` is a non-empty token (RFC 9110 §5.6.2). */
export function isToken(bytes: Buffer, start: number, end: number): boolean {
  if (start >= end) return false;
  for (let i = start; i < end; i++) if (TOKEN_BYTES[bytes[i]!] === 0) return false;
  return true;
}

/** True for optional whitespace, SP or HTAB (RFC 9110 §5.6.3). */
export function isOws(byte: number | undefined): boolean {
  return byte === SP || byte === HTAB;
}

/** True when `bytes[start, end)` holds an ASCII upper-case letter, so lower-casing is needed. */
export function hasUpperCase(bytes: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const byte = bytes[i]!;
    if (byte >= 0x41 && byte <= 0x5a) return true;
  }
  return false;
}

/**
 * True when the comma-separated list `value` (RFC 9110 §5.6.1) has a member equal to `member`,
 * compared case-insensitively; `member` must be lower case. Allocates nothing.
 */
export function listIncludes(value: string, member: string): boolean {
  let start = 0;
  while (start <= value.length) {
    let end = value.indexOf(',', start);
    if (end === -1) end = value.length;
    const from = skipOws(value, start, end, 1);
    const to = skipOws(value, end, from, -1);
    if (to - from === member.length && equalsLowerCase(value, from, member)) return true;
    start = end + 1;
  }
  return false;
}

/** The members of the comma-separated list `value`, trimmed, empty ones kept (RFC 9110 §5.6.1). */
export function listMembers(value: string): string[] {
  const members: string[] = [];
  let start = 0;
  while (start <= value.length) {
    let end = value.indexOf(',', start);
    if (end === -1) end = value.length;
    const from = skipOws(value, start, end, 1);
    members.push(value.slice(from, skipOws(value, end, from, -1)));
    start = end + 1;
  }
  return members;
}

/**
 * Moves from `at` towards `limit` past OWS. Forward (`step` 1) returns the first other index;
 * backward (`step` -1) returns the index just after the last other character.
 */
function skipOws(value: string, at: number, limit: number, step: 1 | -1): number {
  const peek = step === 1 ? 0 : -1;
  while (at !== limit && isOws(value.charCodeAt(at + peek))) at += step;
  return at;
}

function equalsLowerCase(value: string, from: number, member: string): boolean {
  for (let i = 0; i < member.length; i++) {
    const code = value.charCodeAt(from + i);
    const lower = code >= 0x41 && code <= 0x5a ? code + 0x20 : code;
    if (lower !== member.charCodeAt(i)) return false;
  }
  return true;
}
