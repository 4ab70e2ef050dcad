// Finds runs of decimal digits in UTF-8 text, joined by the gaps a card number may have, hands
// them to a judge a window of groups at a time, and tells a streaming caller where the text stops
// being decided.

import { MAX_CARD_DIGITS, MIN_CARD_DIGITS } from './card-brands';
import {
  decodeCodePoint,
  digitValue,
  DIGIT_LEAD_BYTES,
  isGroupSeparator,
  isInvisible,
  mayBeginDigit,
  UTF8_CUT,
  UTF8_INVALID,
} from './digit-characters';
import {
  MAX_GAP_INVISIBLES,
  RunState,
  WINDOW_DIGITS,
  type DigitRun,
  type RunJudge,
  type ScanStart,
  type ScanStop,
} from './digit-run';

/** `readGap` results other than the packed code point of the digit after the gap. */
const GAP_ENDS_RUN = -1;
const GAP_CUT = -2;
const BACKSLASH = 0x5c;
const UNDERSCORE = 0x5f;

/**
 * Walks the text and hands `judge` every run of digits in windows, each gap between two digits
 * at most one separator and MAX_GAP_INVISIBLES invisible characters. A run glued to an ASCII
 * word on its left (an ASCII letter, digit or underscore right before its first digit, except a
 * letter ending a backslash escape such as JSON's `\n`) is part of a hex literal, hash, UUID,
 * IBAN or identifier and is ignored whole. Glued on the right (an ASCII letter or underscore
 * after the last digit) is reported as `gluedRight`: the right end is known only when the run
 * ends, and a streaming caller may not wait for that. Non-ASCII letters do not glue, because
 * Chinese and Japanese text puts no space between a label and a number. A group longer than a
 * card number is never handed over. `judge` must not start another scan.
 */
export function scanDigitRuns(text: Uint8Array, start: ScanStart, judge: RunJudge): ScanStop {
  return SCANNER.scan(text, start, judge);
}

/** Scratch space reused by every scan; scans never nest, as `judge` may not start one. */
class DigitRunScanner implements DigitRun {
  digitCount = 0;
  groupCount = 0;
  ended = false;
  gluedRight = false;
  readonly digitStarts = new Int32Array(WINDOW_DIGITS);
  readonly digitEnds = new Int32Array(WINDOW_DIGITS);
  readonly digitValues = new Uint8Array(WINDOW_DIGITS);
  readonly groupEnds = new Uint8Array(WINDOW_DIGITS + 1);
  readonly separators = new Int32Array(WINDOW_DIGITS + 1);
  private text: Uint8Array = new Uint8Array(0);
  private before: Uint8Array = new Uint8Array(0);
  private final = true;
  private judge: RunJudge = () => 0;
  /** How the run being read is kept: Group stores its digits, the others only follow it. */
  private mode = RunState.None;
  /** Set by `readGap` when it finds a digit: the separator it crossed (0: none), the digit. */
  private gapSeparator = 0;
  private gapEnd = 0;
  /** Set when a scan stops early: the undecided tail. */
  private stop: ScanStop = { decidedEnd: 0, state: RunState.None, firstLead: 0 };
  /** The first offset the fast path stopped at (see `ScanStop.firstLead`). */
  private firstLead = 0;

  scan(text: Uint8Array, start: ScanStart, judge: RunJudge): ScanStop {
    this.text = text;
    this.before = start.before;
    this.final = start.final;
    this.judge = judge;
    let pos = start.from;
    this.firstLead = start.state === RunState.None ? text.length : pos;
    if (start.state !== RunState.None) {
      pos = this.followRun(pos, start.state);
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
      pos = skipToDigitLead(text, pos, limit);
      if (pos === limit) break;
      if (this.firstLead > pos) this.firstLead = pos;
      const packed = text[pos]! < 0x80 ? text[pos]! * 8 + 1 : decodeCodePoint(text, pos, limit);
      if (packed === UTF8_CUT && !this.final && mayBeginDigit(text, pos, limit)) {
        return { decidedEnd: pos, state: RunState.None, firstLead: this.firstLead };
      }
      if (packed < 0 || digitValue(packed >> 3) < 0) {
        pos++;
        continue;
      }
      const lone = loneShortGroupEnd(text, pos, limit);
      if (lone >= 0) {
        pos = lone;
        continue;
      }
      if (this.gluedLeft(pos)) {
        pos = this.followRun(pos, RunState.Ignored);
      } else {
        const end = this.followAsciiRun(pos);
        pos = end >= 0 ? end : this.followRun(pos, RunState.Group);
      }
      if (pos < 0) return this.stop;
    }
    return { decidedEnd: limit, state: RunState.None, firstLead: this.firstLead };
  }

  /**
   * Follows a run from `pos` (a digit in Group state, else just past one) to its end, handing
   * windows to the judge; returns the offset after its last digit, or -1 with `stop` set when
   * the text ends before the run does.
   */
  private followRun(pos: number, state: RunState): number {
    this.mode = state;
    this.resetWindow();
    let end = pos;
    let packed = state === RunState.Group ? decodeCodePoint(this.text, pos, this.text.length) : 0;
    for (;;) {
      if (packed !== 0) end = this.takeDigit(end, packed);
      packed = this.readGap(end);
      if (packed === GAP_CUT) return this.pend(end);
      if (packed === GAP_ENDS_RUN) break;
      if (this.gapSeparator !== 0) this.crossSeparator(this.gapSeparator);
      end = this.gapEnd;
    }

    if (this.mode === RunState.Group) this.judgeEnded(end);
    return end;
  }

  /**
   * Reads a run of ASCII digits and ASCII separators from the digit at `pos` and judges it: most
   * runs are such, and this read decodes nothing and asks nothing of each gap. A run with fewer
   * digits than a card number is passed without building a window; for a longer one the window
   * it hands the judge is the one `followRun` would build. Returns the offset past the run's last
   * digit, or -1 when the run needs `followRun`: a non-ASCII byte after a digit or a separator
   * (it may be a digit or an invisible character), the end of a non-final text, a group longer
   * than a card number, more digits than a window holds.
   */
  private followAsciiRun(pos: number): number {
    const { text } = this;
    const limit = text.length;
    let count = 0;
    let groups = 0;
    let at = pos;
    for (;;) {
      const first = at;
      let byte = 0;
      while (at < limit) {
        byte = text[at]!;
        if (byte < 0x30 || byte > 0x39) break;
        // A group longer than a card number is followed by `followRun`, which decides the
        // groups before it first.
        if (at - first === MAX_CARD_DIGITS) return -1;
        at++;
      }
      count += at - first;
      if (count > WINDOW_DIGITS) return -1;
      if (at >= limit) {
        if (this.final) break;
        return -1;
      }
      if (byte >= 0x80) return -1;
      if (!isGroupSeparator(byte)) break;
      if (at + 1 >= limit) {
        if (this.final) break;
        return -1;
      }
      const next = text[at + 1]!;
      if (next >= 0x80) return -1;
      if (next < 0x30 || next > 0x39) break;
      this.groupEnds[groups] = count;
      this.separators[groups] = byte;
      groups++;
      at++;
    }
    // Fewer digits than the shortest card number: the judge could find nothing in the run.
    if (count < MIN_CARD_DIGITS) return at;
    this.storeAsciiDigits(pos, at);
    this.mode = RunState.Group;
    this.digitCount = count;
    this.groupCount = groups;
    this.judgeEnded(at);
    return at;
  }

  /** Stores the ASCII digits of [start, end) in the window, skipping the separators. */
  private storeAsciiDigits(start: number, end: number): void {
    const { text, digitStarts, digitEnds, digitValues } = this;
    let count = 0;
    for (let at = start; at < end; at++) {
      const value = text[at]! - 0x30;
      if (value < 0 || value > 9) continue;
      digitStarts[count] = at;
      digitEnds[count] = at + 1;
      digitValues[count] = value;
      count++;
    }
  }

  /** Reads the digit `packed` at `pos`, storing it in Group mode; returns the offset past it. */
  private takeDigit(pos: number, packed: number): number {
    const end = pos + (packed & 7);
    if (this.mode !== RunState.Group) return end;
    const open = this.digitCount - this.groupStart(this.groupCount);
    if (open === MAX_CARD_DIGITS) {
      // The group is longer than any card number: decide the groups before it, then follow it.
      this.judge(this);
      this.mode = RunState.LongGroup;
      return end;
    }
    if (this.digitCount === WINDOW_DIGITS) this.dropDecided();
    const index = this.digitCount++;
    this.digitStarts[index] = pos;
    this.digitEnds[index] = end;
    this.digitValues[index] = digitValue(packed >> 3);
    return end;
  }

  /** Closes the open group at a separator; after a long group, a fresh window starts. */
  private crossSeparator(separator: number): void {
    if (this.mode === RunState.LongGroup) {
      this.mode = RunState.Group;
      this.resetWindow();
      return;
    }
    if (this.mode !== RunState.Group) return;
    this.groupEnds[this.groupCount] = this.digitCount;
    this.separators[this.groupCount] = separator;
    this.groupCount++;
  }

  /** Lets the judge decide what it can of a full window and drops what it decided. */
  private dropDecided(): void {
    // At least one group goes: the judge leaves at most MAX_UNDECIDED_DIGITS undecided, far
    // fewer than a window holds, so this guard never changes a decision.
    const groups = Math.max(1, this.judge(this));
    const first = this.groupStart(groups);
    this.digitStarts.copyWithin(0, first, this.digitCount);
    this.digitEnds.copyWithin(0, first, this.digitCount);
    this.digitValues.copyWithin(0, first, this.digitCount);
    for (let i = groups; i < this.groupCount; i++) {
      this.groupEnds[i - groups] = this.groupEnds[i]! - first;
      this.separators[i - groups] = this.separators[i]!;
    }
    this.digitCount -= first;
    this.groupCount -= groups;
  }

  private judgeEnded(end: number): void {
    this.groupEnds[this.groupCount] = this.digitCount;
    this.separators[this.groupCount] = 0;
    this.groupCount++;
    this.ended = true;
    const next = this.byteAt(end);
    this.gluedRight = isLetter(next) || next === UNDERSCORE;
    this.judge(this);
  }

  /** Records where an unfinished run leaves the text undecided; returns -1. */
  private pend(lastDigitEnd: number): number {
    if (this.mode !== RunState.Group) {
      this.stop = { decidedEnd: lastDigitEnd, state: this.mode, firstLead: this.firstLead };
      return -1;
    }
    const decided = this.judge(this);
    const decidedEnd = this.digitStarts[this.groupStart(decided)]!;
    this.stop = { decidedEnd, state: RunState.Group, firstLead: this.firstLead };
    return -1;
  }

  private resetWindow(): void {
    this.digitCount = 0;
    this.groupCount = 0;
    this.ended = false;
    this.gluedRight = false;
  }

  private groupStart(group: number): number {
    return group === 0 ? 0 : this.groupEnds[group - 1]!;
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
      const byte = at < text.length ? text[at]! : 0x80;
      if (byte < 0x80) {
        // ASCII fast path: no invisible character is ASCII, so anything else ends the run.
        if (byte >= 0x30 && byte <= 0x39) {
          this.gapSeparator = separator;
          this.gapEnd = at;
          return byte * 8 + 1;
        }
        if (separator !== 0 || !isGroupSeparator(byte)) return GAP_ENDS_RUN;
        separator = byte;
        at++;
        continue;
      }
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

  /** Whether a run starting at `start` is glued to an ASCII word on its left. */
  private gluedLeft(start: number): boolean {
    const previous = this.byteAt(start - 1);
    return isWordByte(previous) && !(isLetter(previous) && this.byteAt(start - 2) === BACKSLASH);
  }

  /** The byte at `pos`, reading `before` for negative offsets; -1 outside both. */
  private byteAt(pos: number): number {
    if (pos >= 0) return pos < this.text.length ? this.text[pos]! : -1;
    const index = this.before.length + pos;
    return index >= 0 ? this.before[index]! : -1;
  }
}

/**
 * The first offset from `pos` whose byte may begin a digit, or `limit`. Four bytes a step: one
 * branch per word of prose instead of one per byte is most of the speed on clean text.
 */
export function skipToDigitLead(text: Uint8Array, pos: number, limit: number): number {
  const leads = DIGIT_LEAD_BYTES;
  let at = pos;
  while (
    at + 4 <= limit &&
    (leads[text[at]!]! | leads[text[at + 1]!]! | leads[text[at + 2]!]! | leads[text[at + 3]!]!) ===
      0
  ) {
    at += 4;
  }
  while (at < limit && leads[text[at]!] === 0) at++;
  return at;
}

/**
 * The end of the ASCII digits from `pos` when they are a whole run of one group too short for a
 * card number (the next bytes end it without any doubt), else -1. Such a run is never a card
 * whatever its state, so most numbers of digit-dense text are passed without building a window.
 * The run ends at an ASCII byte that is neither a digit nor a separator, or at a separator
 * followed by such a byte; a non-ASCII byte might be an invisible character or a digit.
 */
function loneShortGroupEnd(text: Uint8Array, pos: number, limit: number): number {
  let end = pos;
  while (end < limit && text[end]! >= 0x30 && text[end]! <= 0x39) end++;
  if (end - pos >= MIN_CARD_DIGITS || end >= limit) return -1;
  let after = text[end]!;
  if (after >= 0x80) return -1;
  if (isGroupSeparator(after)) {
    if (end + 1 >= limit) return -1;
    after = text[end + 1]!;
    if (after >= 0x80 || (after >= 0x30 && after <= 0x39)) return -1;
  }
  return end;
}

function isLetter(byte: number): boolean {
  return (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a);
}

function isWordByte(byte: number): boolean {
  return isLetter(byte) || (byte >= 0x30 && byte <= 0x39) || byte === UNDERSCORE;
}

const SCANNER = new DigitRunScanner();
