// Validates a JSON document (RFC 8259) held in a Buffer in one pass and reports every scalar
// with its path and byte range, so codecs find text and facts without building the document.

import { ProxyError } from '../errors/proxy-error';
import type { JsonPath, JsonPathKey } from './json-path';
import { readPlainKey } from './json-key-cache';
import { decodeJsonString, JSON_SIMPLE_ESCAPES, readHex4 } from './json-scalar-decoder';
import { utf8SequenceEnd } from './json-utf8';

/** The kinds of scalar value (RFC 8259 §3); `boolean` covers both `true` and `false`. */
export type JsonScalarKind = 'string' | 'number' | 'boolean' | 'null';

/** The two structured types (RFC 8259 §4, §5). */
export type JsonContainerKind = 'object' | 'array';

/**
 * What a scan tells its caller, in document order. `path` is the scanner's own stack, valid
 * only during the call: copy it (or format it) to keep it. A visitor may throw to stop the scan;
 * whatever it throws reaches the caller of `scanJson` unchanged.
 */
export interface JsonVisitor {
  /**
   * Called for every scalar. For a string, `[start, end)` is its wire bytes inside the quotes and
   * `escaped` tells whether they hold a backslash escape; for a number or literal it is the token.
   */
  scalar(path: JsonPath, kind: JsonScalarKind, start: number, end: number, escaped: boolean): void;
  /** Called when an object or array closes, with its path and how many members it had. */
  close?(path: JsonPath, kind: JsonContainerKind, members: number): void;
}

/** Limits of one scan. */
export interface JsonScanOptions {
  /** How many objects and arrays may be open at once, an integer of 1 or more. */
  readonly maxDepth?: number;
}

/** Nesting accepted when the caller sets no limit; OpenAI request bodies nest about 6 deep. */
export const DEFAULT_JSON_MAX_DEPTH = 64;

/**
 * Scans `buf` as one JSON text (RFC 8259 §2: one value with optional whitespace around it),
 * calling `visitor` for every scalar and every closed container, without building any value:
 * object keys are the only strings it decodes. Runs in time linear in `buf.length`, with no
 * recursion, so no input can exhaust the stack. Throws ProxyError `ERR_JSON_MALFORMED` for an
 * empty body, anything outside the grammar (a BOM, NaN, comments, trailing commas, a leading
 * zero, a raw control byte in a string, content after the value) or bytes that are not
 * well-formed UTF-8 (§8.1), and `ERR_JSON_TOO_DEEP` past `maxDepth`. Visitor calls made before
 * an error stand: a caller must discard what it gathered when the scan throws.
 */
export function scanJson(buf: Buffer, visitor: JsonVisitor, options: JsonScanOptions = {}): void {
  new JsonScan(buf, visitor, options.maxDepth ?? DEFAULT_JSON_MAX_DEPTH).run();
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const LITERALS: ReadonlyMap<number, { text: string; kind: JsonScalarKind }> = new Map([
  [0x74, { text: 'true', kind: 'boolean' }],
  [0x66, { text: 'false', kind: 'boolean' }],
  [0x6e, { text: 'null', kind: 'null' }],
]);

/** One scan: a position and a stack of open containers with their member counts. */
class JsonScan {
  private pos = 0;
  private readonly path: JsonPathKey[] = [];
  /** Per open container, innermost last: true for an array. */
  private readonly arrays: boolean[] = [];
  private readonly members: number[] = [];
  /** Whether the string `scanString` read last holds an escape. */
  private escaped = false;

  constructor(
    private readonly buf: Buffer,
    private readonly visitor: JsonVisitor,
    private readonly maxDepth: number,
  ) {}

  run(): void {
    this.skipWhitespace();
    if (this.pos === this.buf.length) throw this.malformed('a JSON value');

    // Each turn reads one value; a container that opens with members leaves its first member's
    // value to the next turn, and `afterValue` closes containers until one expects a member.
    for (;;) {
      if (this.value()) continue;
      if (!this.afterValue()) break;
    }

    this.skipWhitespace();
    if (this.pos !== this.buf.length) throw this.malformed('the end of the body');
  }

  /** Reads the value at `pos`; true when it opened a container whose first member is next. */
  private value(): boolean {
    const byte = this.buf[this.pos];
    if (byte === OPEN_OBJECT) return this.open(false);
    if (byte === OPEN_ARRAY) return this.open(true);
    this.scalar();
    return false;
  }

  private open(isArray: boolean): boolean {
    if (this.arrays.length >= this.maxDepth) {
      throw new ProxyError(
        'ERR_JSON_TOO_DEEP',
        `JSON body nests deeper than ${this.maxDepth} levels at byte ${this.pos}`,
      );
    }
    this.pos++;
    this.arrays.push(isArray);
    this.members.push(0);
    this.skipWhitespace();

    if (this.buf[this.pos] === (isArray ? CLOSE_ARRAY : CLOSE_OBJECT)) {
      this.pos++;
      this.closeContainer();
      return false;
    }
    this.path.push(this.memberKey());
    return true;
  }

  /** After a value: closes finished containers; true when another member's value is next. */
  private afterValue(): boolean {
    while (this.arrays.length > 0) {
      this.skipWhitespace();
      const isArray = this.arrays[this.arrays.length - 1]!;
      const byte = this.buf[this.pos];
      if (byte === COMMA) {
        this.pos++;
        this.skipWhitespace();
        this.path[this.path.length - 1] = this.memberKey();
        return true;
      }
      if (byte !== (isArray ? CLOSE_ARRAY : CLOSE_OBJECT)) {
        throw this.malformed(isArray ? "',' or ']'" : "',' or '}'");
      }
      this.pos++;
      this.path.pop();
      this.closeContainer();
    }
    return false;
  }

  /** Counts a member of the innermost container and returns its index, or reads its key. */
  private memberKey(): JsonPathKey {
    const top = this.arrays.length - 1;
    const index = this.members[top]!++;
    if (this.arrays[top]) return index;

    if (this.buf[this.pos] !== QUOTE) throw this.malformed('an object key');
    const start = this.pos + 1;
    const end = this.scanString();
    const key = this.escaped
      ? decodeJsonString(this.buf, start, end)
      : readPlainKey(this.buf, start, end);
    this.skipWhitespace();
    if (this.buf[this.pos] !== COLON) throw this.malformed("':'");
    this.pos++;
    this.skipWhitespace();
    return key;
  }

  private closeContainer(): void {
    const isArray = this.arrays.pop()!;
    const members = this.members.pop()!;
    this.visitor.close?.(this.path, isArray ? 'array' : 'object', members);
  }

  private scalar(): void {
    const start = this.pos;
    const byte = this.buf[start];
    if (byte === QUOTE) {
      const end = this.scanString();
      this.visitor.scalar(this.path, 'string', start + 1, end, this.escaped);
      return;
    }
    if (byte === MINUS || isDigit(byte)) {
      this.scanNumber();
      this.visitor.scalar(this.path, 'number', start, this.pos, false);
      return;
    }
    const literal = byte === undefined ? undefined : LITERALS.get(byte);
    if (literal === undefined || !this.bytesAre(literal.text)) throw this.malformed('a JSON value');
    this.pos += literal.text.length;
    this.visitor.scalar(this.path, literal.kind, start, this.pos, false);
  }

  /**
   * Reads the string whose opening quote is at `pos` (RFC 8259 §7), checking escapes, control
   * bytes and UTF-8; leaves `pos` past the closing quote and returns that quote's offset.
   */
  private scanString(): number {
    const { buf } = this;
    const limit = buf.length;
    let pos = this.pos + 1;
    let escaped = false;
    while (pos < limit) {
      // Most of a string is plain ASCII: one table look-up a byte until something else comes.
      while (pos < limit && PLAIN_STRING_BYTES[buf[pos]!] === 1) pos++;
      if (pos === limit) break;
      const byte = buf[pos]!;
      if (byte === QUOTE) {
        this.escaped = escaped;
        this.pos = pos + 1;
        return pos;
      }
      if (byte === BACKSLASH) {
        escaped = true;
        pos = this.escapeEnd(pos);
      } else if (byte < 0x20) {
        throw this.malformedAt(pos, 'an escape, not a control byte, in a string (RFC 8259 §7)');
      } else {
        const next = utf8SequenceEnd(buf, pos, buf.length);
        if (next < 0)
          throw new ProxyError('ERR_JSON_MALFORMED', `JSON body is not UTF-8 at byte ${pos}`);
        pos = next;
      }
    }
    throw this.malformedAt(buf.length, 'a closing quote');
  }

  private escapeEnd(pos: number): number {
    const letter = this.buf[pos + 1];
    if (letter !== undefined && JSON_SIMPLE_ESCAPES.has(letter)) return pos + 2;
    if (letter === 0x75 && pos + 6 <= this.buf.length && readHex4(this.buf, pos + 2) >= 0) {
      return pos + 6;
    }
    throw this.malformedAt(pos, 'a valid escape');
  }

  /** Reads `-? int frac? exp?` (RFC 8259 §6) from `pos`. */
  private scanNumber(): void {
    if (this.buf[this.pos] === MINUS) this.pos++;
    if (this.buf[this.pos] === ZERO) this.pos++;
    else this.digits();
    if (this.buf[this.pos] === DOT) {
      this.pos++;
      this.digits();
    }
    const exponent = this.buf[this.pos];
    if (exponent === 0x65 || exponent === 0x45) {
      this.pos++;
      const sign = this.buf[this.pos];
      if (sign === PLUS || sign === MINUS) this.pos++;
      this.digits();
    }
  }

  /** Reads one or more digits. */
  private digits(): void {
    if (!isDigit(this.buf[this.pos])) throw this.malformed('a digit');
    do this.pos++;
    while (isDigit(this.buf[this.pos]));
  }

  private bytesAre(text: string): boolean {
    for (let i = 0; i < text.length; i++) {
      if (this.buf[this.pos + i] !== text.charCodeAt(i)) return false;
    }
    return true;
  }

  /** Skips the four whitespace bytes of RFC 8259 §2: space, tab, LF, CR. */
  private skipWhitespace(): void {
    const { buf } = this;
    let pos = this.pos;
    while (pos < buf.length) {
      const byte = buf[pos];
      if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) break;
      pos++;
    }
    this.pos = pos;
  }

  private malformed(expected: string): ProxyError {
    return this.malformedAt(this.pos, expected);
  }

  private malformedAt(pos: number, expected: string): ProxyError {
    const found = pos < this.buf.length ? 'byte 0x' + this.buf[pos]!.toString(16) : 'the end';
    return new ProxyError(
      'ERR_JSON_MALFORMED',
      `JSON body is malformed at byte ${pos}: expected ${expected}, found ${found}`,
    );
  }
}

/** Bytes a string holds as they are (RFC 8259 §7): ASCII from 0x20 but quote and backslash. */
const PLAIN_STRING_BYTES = new Uint8Array(256).fill(1, 0x20, 0x80);
PLAIN_STRING_BYTES[QUOTE] = 0;
PLAIN_STRING_BYTES[BACKSLASH] = 0;

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x30 && byte <= 0x39;
}
