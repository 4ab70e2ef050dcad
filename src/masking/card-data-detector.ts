// Finds the card data that travels with a card number: security codes and expiry dates next to
// their keyword or right after a card number, and track data. It only stops at ASCII digits.

import {
  ContextBytes,
  isAlphanumeric,
  keywordBefore,
  MAX_KEYWORD_LOOKBEHIND_BYTES,
} from './card-data-keywords';
import type { Finding } from './findings';
import {
  MAX_TRACK_LOOKAHEAD_BYTES,
  MIN_TRACK_PAN_DIGITS,
  readTrack,
  TRACK_UNDECIDED,
} from './track-data';

/** Bytes before the scanned text a caller keeps so keywords and card ends can be read. */
export const MAX_DATA_LOOKBEHIND_BYTES = MAX_KEYWORD_LOOKBEHIND_BYTES;

/** The most undecided text this scan leaves: a track read from its first digit. */
export const MAX_DATA_PENDING_BYTES = MAX_TRACK_LOOKAHEAD_BYTES + 2;

// Limitation: only ASCII digits make a code, a code counts as after a card only within three
// bytes of it, and a 3-digit number right after a card ("… 1111 100 USD") is masked as one.

/** Bytes at most between a card number (or an expiry after one) and a code that follows it. */
const MAX_ANCHOR_GAP_BYTES = 3;

/** Where a scan starts; offsets are into the text, negative ones read `before`. */
export interface DataScanStart {
  readonly from: number;
  /** Codes may start only before it: where the card-number scan stopped deciding. */
  readonly limit: number;
  readonly final: boolean;
  readonly before: Uint8Array;
  /** The card numbers found so far that end at or after `from - 3`, sorted. */
  readonly cards: readonly Finding[];
  /** End of an expiry date that followed a card number, else -Infinity. */
  readonly anchorEnd: number;
}

/** What a (possibly partial) scan found, where its decided text ends and its anchor. */
export interface DataDetection {
  readonly findings: readonly Finding[];
  readonly decidedEnd: number;
  readonly anchorEnd: number;
}

/** The shape of a code read at a digit: what it may be, and where it ends. */
interface CodeShape {
  readonly end: number;
  readonly digits: number;
  readonly expiry: boolean;
}

const UNDECIDED = null;

/** A code has at most four digits per part; reading one more tells a longer number apart. */
const MAX_CODE_DIGITS = 4;

/**
 * Every security code, expiry date and track datum in `text`, a whole UTF-8 text whose card
 * numbers are `cards` (see `findCardNumbers`), in order. A code is a security code of 3-4 digits
 * or an expiry date (MM/YY, MM/YYYY, MM-YY, MM-YYYY, YYYY-MM, with a month 01-12), standing
 * alone (no digit or letter glued on, and not followed by a separator and more digits), and
 * - labelled by its keyword (see `keywordBefore`), or
 * - right after a card number, within three bytes of spaces, tabs, `,`, `;`, `|` or `/`: an
 *   expiry date, or a security code of 3 digits (4 after an Amex, whose CID has four). A code
 *   right after such an expiry date counts too ("4111… 12/30 123").
 * Threat: PCI DSS forbids keeping a security code after authorisation at all, so a number a
 * label or a card number vouches for is masked whole, and a bare "123" never is. `from` may skip
 * a start of the text that holds no ASCII digit (see `ScanStop.firstLead`).
 */
export function findCardData(
  text: Uint8Array,
  cards: readonly Finding[],
  from = 0,
): readonly Finding[] {
  const start = { from, limit: text.length, final: true, before: EMPTY, cards, anchorEnd: -1 };
  return detectCardData(text, { ...start, anchorEnd: -Infinity }).findings;
}

/** `findCardData` for a stream: decides what starts before `start.limit` where it can. */
export function detectCardData(text: Uint8Array, start: DataScanStart): DataDetection {
  // Most text holds no ASCII digit: then nothing is built at all.
  const first = skipToAsciiDigit(text, Math.max(start.from, 0), start.limit);
  if (first >= start.limit) {
    return { findings: NO_FINDINGS, decidedEnd: start.limit, anchorEnd: start.anchorEnd };
  }
  return new CardDataScan(text, { ...start, from: first }).run();
}

/** The first ASCII digit from `pos`, or `limit`; four bytes a step, as the digit scan skips. */
function skipToAsciiDigit(text: Uint8Array, pos: number, limit: number): number {
  let at = pos;
  while (
    at + 4 <= limit &&
    (ASCII_DIGITS[text[at]!]! |
      ASCII_DIGITS[text[at + 1]!]! |
      ASCII_DIGITS[text[at + 2]!]! |
      ASCII_DIGITS[text[at + 3]!]!) ===
      0
  ) {
    at += 4;
  }
  while (at < limit && ASCII_DIGITS[text[at]!] === 0) at++;
  return at;
}

const ASCII_DIGITS = new Uint8Array(256).fill(1, 0x30, 0x3a);
const NO_FINDINGS: readonly Finding[] = Object.freeze([]);

const EMPTY = new Uint8Array(0);

class CardDataScan {
  private readonly findings: Finding[] = [];
  private card = 0;
  private anchorEnd: number;
  private anchorAmex = false;
  readonly bytes: ContextBytes;

  constructor(
    private readonly text: Uint8Array,
    private readonly start: DataScanStart,
  ) {
    this.anchorEnd = start.anchorEnd;
    this.bytes = new ContextBytes(text, start.before);
  }

  run(): DataDetection {
    const { text } = this;
    const { limit } = this.start;
    let pos = this.start.from;
    while (pos < limit) {
      pos = skipToAsciiDigit(text, pos, limit);
      if (pos >= limit) break;
      const next = this.visitNumber(pos);
      if (next === UNDECIDED) return this.result(pos);
      pos = next;
    }
    return this.result(Math.min(Math.max(pos, limit), text.length));
  }

  /** Decides the number starting at digit `pos`; returns where to go on, or UNDECIDED. */
  private visitNumber(pos: number): number | typeof UNDECIDED {
    if (isDigit(this.bytes.at(pos - 1))) return pos + 1;
    const card = this.cardAt(pos);
    const end = asciiDigitsEnd(this.text, pos);
    if (this.isQuiet(pos, end) || this.isPlain(pos, end)) {
      return card !== undefined && card.start <= pos ? card.end : end;
    }
    // Track data first: its PAN is often a card number too, and the data after it is not.
    const track = readTrack(this.bytes, pos, this.text.length, this.start.final);
    if (track === TRACK_UNDECIDED) return UNDECIDED;
    if (track !== undefined) return this.add(track);
    if (card !== undefined && card.start <= pos) return card.end;

    const shape = this.readShape(pos);
    if (shape === UNDECIDED) return UNDECIDED;
    if (shape !== undefined) {
      const kind = this.kindOf(pos, shape);
      if (kind !== undefined) return this.add(codeFinding(kind, pos, shape.end));
    }
    return digitsEnd(this.bytes, pos);
  }

  /**
   * Whether the ASCII digits [pos, end) are neither labelled nor long enough to begin a track:
   * then no code can start there whatever its shape, as a code needs a keyword or a card number
   * (or an expiry after one) right before it. Both are read backwards, from bytes already
   * decided, so this holds in a stream too; a number that the end of a non-final text cuts short
   * is left to the full reads. Most numbers of digit-dense text are settled here.
   */
  private isQuiet(pos: number, end: number): boolean {
    if (end - pos >= MIN_TRACK_PAN_DIGITS) return false;
    if (end >= this.text.length && !this.start.final) return false;
    return !this.anchored(pos) && keywordBefore(this.bytes, pos) === undefined;
  }

  /** Whether a card number, or an expiry date after one, ends right before `pos`. */
  private anchored(pos: number): boolean {
    const cardEnd = this.card > 0 ? this.start.cards[this.card - 1]!.end : -Infinity;
    return isAnchorGap(this.bytes, Math.max(cardEnd, this.anchorEnd), pos);
  }

  /**
   * Whether the ASCII digits [pos, end) can be neither track data nor a code, read from what
   * follows them. Not a code: 1, 2 or 5 digits with no `/` or `-` after, or more than 5. Not a
   * track: no `^` or `=` after. Near the end of a non-final text it answers false, as the full
   * reads may be undecided.
   */
  private isPlain(pos: number, end: number): boolean {
    const { text } = this;
    if (end >= text.length || (end + 2 > text.length && !this.start.final)) return false;
    const next = text[end]!;
    if (next === 0x5e || next === 0x3d) return false;
    const digits = end - pos;
    if (digits > 5) return true;
    return !(digits === 3 || digits === 4 || next === 0x2f || next === 0x2d);
  }

  /** The first card number that ends after `pos` (moving past earlier ones), if any. */
  private cardAt(pos: number): Finding | undefined {
    const { cards } = this.start;
    while (this.card < cards.length && cards[this.card]!.end <= pos) {
      this.anchorAmex = cards[this.card]!.brand === 'amex';
      this.card++;
    }
    // Reading past the end of an array leaves V8's fast path, and most scans have no card.
    return this.card < cards.length ? cards[this.card] : undefined;
  }

  /** What labels the code at `pos`: its keyword, or a card number (or expiry) just before. */
  private kindOf(pos: number, shape: CodeShape): 'cvv' | 'expiry' | undefined {
    const keyword = keywordBefore(this.bytes, pos);
    if (keyword !== undefined) return (keyword === 'expiry') === shape.expiry ? keyword : undefined;
    if (!this.anchored(pos)) return undefined;
    if (shape.expiry) {
      this.anchorEnd = shape.end;
      return 'expiry';
    }
    return shape.digits === (this.anchorAmex ? 4 : 3) ? 'cvv' : undefined;
  }

  /** Reads a code's shape at `pos`; undefined when it has none; UNDECIDED when cut short. */
  private readShape(pos: number): CodeShape | undefined | typeof UNDECIDED {
    const { bytes } = this;
    const first = digitsEnd(bytes, pos, MAX_CODE_DIGITS);
    if (this.cutAt(first + 2)) return UNDECIDED;
    const lead = first - pos;
    const mark = bytes.at(first);
    let end = first;
    let expiry = false;
    if ((mark === 0x2f || mark === 0x2d) && isDigit(bytes.at(first + 1))) {
      const second = digitsEnd(bytes, first + 1, MAX_CODE_DIGITS);
      expiry = isExpiry(bytes, pos, lead, second - first - 1, mark);
      if (expiry) end = second;
      else if (second >= this.text.length && !this.start.final) return UNDECIDED;
      else return undefined;
    } else if (lead < 3 || lead > 4) {
      return undefined;
    }
    if (this.cutAt(end + 2)) return UNDECIDED;
    if (!standsAlone(bytes, end, expiry)) return undefined;
    return { end, digits: lead, expiry };
  }

  /** Whether a non-final text ends before offset `pos`, so what lies there is unknown. */
  private cutAt(pos: number): boolean {
    return !this.start.final && pos > this.text.length;
  }

  private add(finding: Finding): number {
    this.findings.push(finding);
    return finding.end;
  }

  private result(decidedEnd: number): DataDetection {
    return { findings: this.findings, decidedEnd, anchorEnd: this.anchorEnd };
  }
}

function codeFinding(kind: 'cvv' | 'expiry', start: number, end: number): Finding {
  return { kind, start, end, digitStarts: [], digitEnds: [], wholeStart: start, wholeEnd: end };
}

/** Whether `lead` digits, `mark` and `trail` digits from `pos` read as an expiry date. */
function isExpiry(
  bytes: ContextBytes,
  pos: number,
  lead: number,
  trail: number,
  mark: number,
): boolean {
  if (lead === 2 && (trail === 2 || trail === 4)) return isMonth(bytes, pos);
  return lead === 4 && trail === 2 && mark === 0x2d && isMonth(bytes, pos + 5);
}

function isMonth(bytes: ContextBytes, pos: number): boolean {
  const month = (bytes.at(pos) - 0x30) * 10 + bytes.at(pos + 1) - 0x30;
  return month >= 1 && month <= 12;
}

/**
 * No letter, digit or `_` right after, and no separator with more digits ("555-0123 4"); a
 * space and digits may follow a date, as a security code does ("12/30 123").
 */
function standsAlone(bytes: ContextBytes, end: number, expiry: boolean): boolean {
  const next = bytes.at(end);
  if (isAlphanumeric(next) || next === 0x5f) return false;
  const joins = (next === 0x20 && !expiry) || next === 0x2d || next === 0x2e || next === 0x2f;
  return !(joins && isDigit(bytes.at(end + 1)));
}

/** Whether [anchor, pos) is 1-3 bytes of spaces, tabs, `,`, `;`, `|` or `/`. */
function isAnchorGap(bytes: ContextBytes, anchor: number, pos: number): boolean {
  const gap = pos - anchor;
  if (gap < 1 || gap > MAX_ANCHOR_GAP_BYTES) return false;
  for (let at = anchor; at < pos; at++) {
    const byte = bytes.at(at);
    const allowed = byte === 0x20 || byte === 0x09 || byte === 0x2c || byte === 0x3b;
    if (!allowed && byte !== 0x7c && byte !== 0x2f) return false;
  }
  return true;
}

/** The offset past the digits from `pos`, reading at most `max` + 1 of them when given. */
function digitsEnd(bytes: ContextBytes, pos: number, max = Infinity): number {
  let at = pos;
  while (at - pos <= max && isDigit(bytes.at(at))) at++;
  return at;
}

/** The end of the ASCII digits of `text` from `pos`, read in the text alone. */
function asciiDigitsEnd(text: Uint8Array, pos: number): number {
  let at = pos;
  while (at < text.length && isDigit(text[at]!)) at++;
  return at;
}

function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}
