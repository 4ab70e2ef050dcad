// Finds runs of decimal digits in UTF-8 text, joined by the gaps a card number may have, and
// tells a streaming caller where the text stops being decided.

import {
  decodeCodePoint,
  digitValue,
  DIGIT_LEAD_BYTES,
  isGroupSeparator,
  isInvisible,
  mayBeginDigit,
  MAX_DIGIT_BYTES,
  MAX_GAP_CHARACTER_BYTES,
  UTF8_CUT,
  UTF8_INVALID,
} from './digit-characters';
import { MIN_CARD_DIGITS } from './card-brands';

/**
 * Digits a run may hold and still be looked at. A longer run (a long number, a table of digits
 * joined by single spaces) is left alone whole, which is what bounds the streaming holdback.
 */
// Limitation: card numbers written one after another with single separators between them (four
// or more grouped cards on one line, 64+ digits in one run) are left unmasked; the run has to be
// split at card boundaries instead before the engine guards a real stream.
export const MAX_RUN_DIGITS = 64;

/** Invisible characters allowed in one gap between two digits, besides one separator. */
export const MAX_GAP_INVISIBLES = 4;

/** The longest gap between two digits: one separator and the invisible characters. */
export const MAX_GAP_BYTES = MAX_GAP_CHARACTER_BYTES * (1 + MAX_GAP_INVISIBLES);

/**
 * The most undecided text a streaming caller ever holds: a whole run of the longest digits with
 * the longest gaps, its trailing gap, and a character cut by the end of the text.
 */
export const MAX_PENDING_BYTES =
  MAX_RUN_DIGITS * (MAX_DIGIT_BYTES + MAX_GAP_BYTES) + MAX_DIGIT_BYTES;

/**
 * One run as the scanner reports it. Its arrays are the scanner's scratch space, valid only
 * during the `onRun` call: indexes below `digitCount` and `groupCount` are meaningful.
 */
export interface DigitRun {
  /** Byte offset of the first digit and just past the last one. */
  readonly start: number;
  readonly end: number;
  readonly digitCount: number;
  readonly digitStarts: Int32Array;
  readonly digitEnds: Int32Array;
  /** Digit values 0-9, whatever the script. */
  readonly digitValues: Uint8Array;
  /** Groups are the digits between separators (invisible characters do not split a group). */
  readonly groupCount: number;
  /** Per group, the index just past its last digit. */
  readonly groupEnds: Uint8Array;
  /** Per group but the last, the code point of the separator after it. */
  readonly separators: Int32Array;
}

/** Where a scan starts and what it may assume about the text around it. */
export interface ScanStart {
  /** Offset of the first byte to scan; a character boundary outside any run. */
  readonly from: number;
  /** True when the text ends here; false when more may follow (a stream). */
  readonly final: boolean;
  /** True when `from` is just past a digit of a run already longer than MAX_RUN_DIGITS. */
  readonly inLongRun: boolean;
  /** Up to two bytes that precede `text[0]`, read to tell whether a run is glued to a word. */
  readonly before: Uint8Array;
}

/** Where a scan stopped: everything before `decidedEnd` is decided. */
export interface ScanStop {
  /** `text.length` for a final scan; else where the undecided tail starts. */
  readonly decidedEnd: number;
  /** True when the undecided tail continues a run longer than MAX_RUN_DIGITS. */
  readonly inLongRun: boolean;
}

/** `readGap` results other than the packed code point of the digit after the gap. */
const GAP_ENDS_RUN = -1;
const GAP_CUT = -2;
const BACKSLASH = 0x5c;
const UNDERSCORE = 0x5f;

/**
 * Walks the text and calls `onRun` for every run that could hold a card number: 13 to
 * MAX_RUN_DIGITS digits, each gap between two digits at most one separator and
 * MAX_GAP_INVISIBLES invisible characters, and not glued to a word. Glued means an ASCII letter,
 * digit or underscore right before the first digit (a letter that ends a backslash escape such
 * as JSON's `\n` does not count) or an ASCII letter or underscore right after the last: the run
 * is then part of a hex literal, hash, UUID, IBAN or identifier. Non-ASCII letters do not glue,
 * because Chinese and Japanese text puts no space between a label and a number. `onRun` must
 * not start another scan.
 */
export function scanDigitRuns(
  text: Uint8Array,
  start: ScanStart,
  onRun: (run: DigitRun) => void,
): ScanStop {
  return SCANNER.scan(text, start, onRun);
}

/** Scratch space reused by every scan; scans never nest, as `onRun` may not start one. */
class DigitRunScanner implements DigitRun {
  start = 0;
  end = 0;
  digitCount = 0;
  groupCount = 0;
  readonly digitStarts = new Int32Array(MAX_RUN_DIGITS);
  readonly digitEnds = new Int32Array(MAX_RUN_DIGITS);
  readonly digitValues = new Uint8Array(MAX_RUN_DIGITS);
  readonly groupEnds = new Uint8Array(MAX_RUN_DIGITS);
  readonly separators = new Int32Array(MAX_RUN_DIGITS);
  private text: Uint8Array = new Uint8Array(0);
  private before: Uint8Array = new Uint8Array(0);
  private final = true;
  private onRun: (run: DigitRun) => void = () => undefined;
  /** Set by `readGap` when it finds a digit: the separator it crossed (0: none), the digit. */
  private gapSeparator = 0;
  private gapEnd = 0;
  /** Set when a scan stops early: the undecided tail. */
  private stop: ScanStop = { decidedEnd: 0, inLongRun: false };

  scan(text: Uint8Array, start: ScanStart, onRun: (run: DigitRun) => void): ScanStop {
    this.text = text;
    this.before = start.before;
    this.final = start.final;
    this.onRun = onRun;
    let pos = start.from;
    if (start.inLongRun) {
      this.digitCount = MAX_RUN_DIGITS + 1;
      pos = this.followRun(-1, pos);
      if (pos < 0) return this.stop;
    }
    return this.scanFrom(pos);
  }

  /** The fast path: skips every byte that cannot begin a digit without decoding it. */
  private scanFrom(from: number): ScanStop {
    const { text } = this;
    const limit = text.length;
    let pos = from;
    while (pos < limit) {
      while (pos < limit && DIGIT_LEAD_BYTES[text[pos]!] === 0) pos++;
      if (pos === limit) break;
      const packed = text[pos]! < 0x80 ? text[pos]! * 8 + 1 : decodeCodePoint(text, pos, limit);
      if (packed === UTF8_CUT && !this.final && mayBeginDigit(text, pos, limit)) {
        return { decidedEnd: pos, inLongRun: false };
      }
      if (packed < 0 || digitValue(packed >> 3) < 0) {
        pos++;
        continue;
      }
      this.digitCount = 0;
      this.groupCount = 0;
      pos = this.followRun(pos, pos, packed);
      if (pos < 0) return this.stop;
    }
    return { decidedEnd: limit, inLongRun: false };
  }

  /**
   * Reads a run from the digit `packed` at `pos` (or, without one, from the gap at `pos` of a
   * long run) to its end and reports it; returns the offset after its last digit, or -1 with
   * `stop` set when the text ends before the run does.
   */
  private followRun(runStart: number, pos: number, packed = 0): number {
    let end = pos;
    for (;;) {
      if (packed !== 0) {
        this.addDigit(end, end + (packed & 7), digitValue(packed >> 3));
        end += packed & 7;
      }
      packed = this.readGap(end);
      if (packed === GAP_CUT) return this.pend(runStart, end);
      if (packed === GAP_ENDS_RUN) break;
      if (this.gapSeparator !== 0) this.closeGroup(this.gapSeparator);
      end = this.gapEnd;
    }

    this.closeGroup(0);
    this.start = runStart;
    this.end = end;
    const reportable = this.digitCount >= MIN_CARD_DIGITS && this.digitCount <= MAX_RUN_DIGITS;
    if (reportable && !this.glued(runStart, end)) this.onRun(this);
    return end;
  }

  private addDigit(start: number, end: number, value: number): void {
    const index = this.digitCount++;
    if (index >= MAX_RUN_DIGITS) return;
    this.digitStarts[index] = start;
    this.digitEnds[index] = end;
    this.digitValues[index] = value;
  }

  private closeGroup(separator: number): void {
    if (this.digitCount > MAX_RUN_DIGITS) return;
    this.groupEnds[this.groupCount] = this.digitCount;
    this.separators[this.groupCount] = separator;
    this.groupCount++;
  }

  /** Records where an unfinished run leaves the text undecided; returns -1. */
  private pend(runStart: number, lastDigitEnd: number): number {
    const long = this.digitCount > MAX_RUN_DIGITS;
    this.stop = { decidedEnd: long ? lastDigitEnd : runStart, inLongRun: long };
    return -1;
  }

  /**
   * Reads the gap after the digit ending at `pos`: the packed digit that continues the run, or
   * GAP_ENDS_RUN, or GAP_CUT when a non-final text ends before the gap is decided.
   */
  private readGap(pos: number): number {
    const { text } = this;
    let separator = 0;
    let invisibles = 0;
    for (let at = pos; ;) {
      const packed = at < text.length ? decodeCodePoint(text, at, text.length) : UTF8_CUT;
      if (packed === UTF8_CUT) return this.final ? GAP_ENDS_RUN : GAP_CUT;
      if (packed === UTF8_INVALID) return GAP_ENDS_RUN;
      const codePoint = packed >> 3;
      if (digitValue(codePoint) >= 0) {
        this.gapSeparator = separator;
        this.gapEnd = at;
        return packed;
      }
      if (invisibles < MAX_GAP_INVISIBLES && isInvisible(codePoint)) invisibles++;
      else if (separator === 0 && isGroupSeparator(codePoint)) separator = codePoint;
      else return GAP_ENDS_RUN;
      at += packed & 7;
    }
  }

  /** Whether the run [start, end) is glued to an ASCII word on either side (see scanDigitRuns). */
  private glued(start: number, end: number): boolean {
    const previous = this.byteAt(start - 1);
    if (isWordByte(previous) && !(isLetter(previous) && this.byteAt(start - 2) === BACKSLASH)) {
      return true;
    }
    const next = this.byteAt(end);
    return isLetter(next) || next === UNDERSCORE;
  }

  /** The byte at `pos`, reading `before` for negative offsets; -1 outside both. */
  private byteAt(pos: number): number {
    if (pos >= 0) return pos < this.text.length ? this.text[pos]! : -1;
    const index = this.before.length + pos;
    return index >= 0 ? this.before[index]! : -1;
  }
}

function isLetter(byte: number): boolean {
  return (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a);
}

function isWordByte(byte: number): boolean {
  return isLetter(byte) || (byte >= 0x30 && byte <= 0x39) || byte === UNDERSCORE;
}

const SCANNER = new DigitRunScanner();
