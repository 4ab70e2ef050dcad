// The shapes a digit run is handed over in, window by window, and the bounds that keep a run's
// holdback constant however long the run is.

import { MAX_CARD_DIGITS } from './card-brands';
import { MAX_DIGIT_BYTES, MAX_GAP_CHARACTER_BYTES } from './digit-characters';

/** Invisible characters allowed in one gap between two digits, besides one separator. */
export const MAX_GAP_INVISIBLES = 4;

/** The longest gap between two digits: one separator and the invisible characters. */
export const MAX_GAP_BYTES = MAX_GAP_CHARACTER_BYTES * (1 + MAX_GAP_INVISIBLES);

/**
 * Digits the window of a run holds. A longer run is judged in windows: when the window is full
 * the judge decides the groups it can and the scanner drops them, so a run of any length (a
 * table of card numbers on one line) is looked at whole while memory and holdback stay bounded.
 */
export const WINDOW_DIGITS = 64;

/** Most digits the judge leaves undecided: a card number's digits and the group after them. */
export const MAX_UNDECIDED_DIGITS = MAX_CARD_DIGITS + 6;

/**
 * The most undecided text a streaming caller ever holds for a run: the undecided digits with the
 * longest gaps, the trailing gap, and a character cut by the end of the text.
 */
export const MAX_RUN_PENDING_BYTES =
  MAX_UNDECIDED_DIGITS * (MAX_DIGIT_BYTES + MAX_GAP_BYTES) + MAX_DIGIT_BYTES;

/**
 * The window of one run as the scanner hands it to the judge. Its arrays are the scanner's scratch
 * space, valid only during the call: indexes below `digitCount` and `groupCount` are meaningful.
 * Groups are the digits between separators (invisible characters do not split a group).
 */
export interface DigitRun {
  readonly digitCount: number;
  readonly digitStarts: Int32Array;
  readonly digitEnds: Int32Array;
  /** Digit values 0-9, whatever the script. */
  readonly digitValues: Uint8Array;
  /** Closed groups; mid-run, the digits after the last one form the open group. */
  readonly groupCount: number;
  /** Per group, the index just past its last digit. */
  readonly groupEnds: Uint8Array;
  /** Per closed group, the code point of the separator after it (0 after a run's last group). */
  readonly separators: Int32Array;
  /** True when the run has ended: every group is closed and the last is the run's last. */
  readonly ended: boolean;
  /** True when an ended run is glued to a word on its right (see `scanDigitRuns`). */
  readonly gluedRight: boolean;
}

/**
 * Judges a window: returns how many leading groups it decided (all of them once the run ended).
 * The decision on a group may depend only on the groups from it onward, which is what makes a
 * window's split points invisible in the result.
 */
export type RunJudge = (run: DigitRun) => number;

/** What the text at `ScanStart.from` continues. */
export const enum RunState {
  /** Outside any run. */
  None = 0,
  /** The digit at `from` begins a group of a run already under way. */
  Group = 1,
  /** `from` is just past a digit of a group longer than any card number. */
  LongGroup = 2,
  /** `from` is just past a digit of a run glued to a word on its left, ignored whole. */
  Ignored = 3,
}

/** Where a scan starts and what it may assume about the text around it. */
export interface ScanStart {
  /** Offset of the first byte to scan; a character boundary. */
  readonly from: number;
  /** True when the text ends here; false when more may follow (a stream). */
  readonly final: boolean;
  readonly state: RunState;
  /** Up to two bytes that precede `text[0]`, read to tell whether a run is glued to a word. */
  readonly before: Uint8Array;
}

/** Where a scan stopped: everything before `decidedEnd` is decided. */
export interface ScanStop {
  /** `text.length` for a final scan; else where the undecided tail starts. */
  readonly decidedEnd: number;
  /** What the undecided tail continues. */
  readonly state: RunState;
  /**
   * No byte before it, from `ScanStart.from`, may begin a digit (ASCII or not): where the first
   * run could start, or the text's length. A later scan for ASCII digits may start there.
   */
  readonly firstLead: number;
}
