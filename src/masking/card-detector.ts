// Decides which digit runs are card numbers (PAN): the grouping a person writes them in, the
// Luhn check digit and a brand's prefix and length, and reports them as byte ranges.

import { brandOf, MAX_CARD_DIGITS, MIN_CARD_DIGITS, type CardBrand } from './card-brands';
import { RunState, type DigitRun, type ScanStart, type ScanStop } from './digit-run';
import { scanDigitRuns } from './digit-scanner';
import type { Finding } from './findings';
import { passesLuhnDigits } from './luhn';

export type { FindingKind } from './findings';

/** A card number found in a text: its first and last digit, every digit, and its brand. */
export interface CardFinding extends Finding {
  readonly kind: 'pan';
  readonly brand: CardBrand;
}

/** What a (possibly partial) detection found, and where the decided text ends. */
export interface DetectionResult extends ScanStop {
  readonly findings: readonly CardFinding[];
}

/** Shortest first group and the bounds of the other groups of a grouped card number. */
const MIN_FIRST_GROUP_DIGITS = 4;
const MAX_GROUP_DIGITS = 6;
const MIN_MIDDLE_GROUP_DIGITS = 3;
const MIN_LAST_GROUP_DIGITS = 2;

/** `judgeStart` result when the start's candidates reach the open group of a window. */
const UNDECIDED = -2;
/** `judgeStart` result when no candidate at the start is a card number. */
const NO_CARD = -1;

/** The start of a scan of a whole text. */
export const WHOLE_TEXT: ScanStart = {
  from: 0,
  final: true,
  state: RunState.None,
  before: new Uint8Array(0),
};
const NO_FINDINGS: readonly CardFinding[] = Object.freeze([]);

/**
 * Every card number in `text`, a whole UTF-8 text, in order and never overlapping. A card
 * number is a run of digits (see `scanDigitRuns`) or part of one: consecutive groups of the run
 * written either
 * - as one group of 13-19 digits with nothing but invisible characters inside, or
 * - grouped: groups of at most six digits joined by one and the same separator, the first group
 *   of 4-6 digits, middle groups 3-6, the last 2-6 (4-4-4-4, 4-6-5, 4-6-4, 4-4-4-4-3).
 * and it passes the Luhn check and fits a brand (see `brandOf`). Groups are never split. Starts
 * are tried group by group from the left, and at one start the shortest card number wins, so a
 * table of card numbers on one line, a card followed by a year or a count before a card are all
 * found. The grouping rule is what keeps "1 2 3 4 …", phone numbers (+44 20 7946 0958), dates,
 * IP addresses and thousands (1 234 567) out; a group of more than 19 digits is never a card.
 */
export function findCardNumbers(text: Uint8Array): readonly CardFinding[] {
  return detectCardNumbers(text, WHOLE_TEXT).findings;
}

/**
 * `findCardNumbers` for a stream: scans `text` from `start.from` and reports the findings in
 * the decided part, with where it ends (see `ScanStop`). Scanning the undecided tail again
 * with what follows it decides it exactly as a scan of the whole text would.
 */
export function detectCardNumbers(text: Uint8Array, start: ScanStart): DetectionResult {
  found = undefined;
  const stop = scanDigitRuns(text, start, judgeRun);
  const findings = found ?? NO_FINDINGS;
  found = undefined;
  return { findings, decidedEnd: stop.decidedEnd, state: stop.state, firstLead: stop.firstLead };
}

/**
 * The findings of the scan under way. Module state rather than a closure per scan: a fresh
 * judge each scan is a new call target, which throws away the scanner's optimised code. Scans
 * never nest (see `scanDigitRuns`), so one slot is enough.
 */
let found: CardFinding[] | undefined;

/** The judge of every scan: decides group by group from the left (see `findCardNumbers`). */
function judgeRun(run: DigitRun): number {
  let group = 0;
  while (group < run.groupCount || (!run.ended && group === run.groupCount)) {
    const last = judgeStart(run, group);
    if (last === UNDECIDED) return group;
    if (last === NO_CARD) {
      group++;
      continue;
    }
    (found ??= []).push(toFinding(run, groupStart(run, group), run.groupEnds[last]!));
    group = last + 1;
  }
  return group;
}

// Limitation: after masking, kept digits and the groups next to them can form a new candidate
// that a second pass would mask (starts inside a card number are not tried again).

/**
 * The last group of the shortest card number starting at `first`, NO_CARD, or UNDECIDED when
 * that depends on the open group of an unfinished window. Looks at most 19 digits ahead, which
 * is what bounds the undecided text.
 */
function judgeStart(run: DigitRun, first: number): number {
  if (first >= run.groupCount) return UNDECIDED;
  const size = groupSize(run, first);
  if (size >= MIN_CARD_DIGITS && size <= MAX_CARD_DIGITS) {
    return isCard(run, first, first) ? first : NO_CARD;
  }
  if (size < MIN_FIRST_GROUP_DIGITS || size > MAX_GROUP_DIGITS) return NO_CARD;
  return judgeChain(run, first, run.separators[first]!, size);
}

/** Extends the chain from `first` group by group while it can still be card grouping. */
function judgeChain(run: DigitRun, first: number, separator: number, firstSize: number): number {
  let digits = firstSize;
  for (let group = first + 1; ; group++) {
    if (group >= run.groupCount) return run.ended || openTooLong(run) ? NO_CARD : UNDECIDED;
    if (run.separators[group - 1] !== separator) return NO_CARD;
    const size = groupSize(run, group);
    digits += size;
    if (size > MAX_GROUP_DIGITS || digits > MAX_CARD_DIGITS) return NO_CARD;
    const fits = digits >= MIN_CARD_DIGITS && size >= MIN_LAST_GROUP_DIGITS;
    if (fits && isCard(run, first, group)) return group;
    if (size < MIN_MIDDLE_GROUP_DIGITS) return NO_CARD;
  }
}

/** Whether the open group of an unfinished window is already too long to join a chain. */
function openTooLong(run: DigitRun): boolean {
  return run.digitCount - groupStart(run, run.groupCount) > MAX_GROUP_DIGITS;
}

/** Whether groups [first, last] pass Luhn and fit a brand, not glued to a word on the right. */
function isCard(run: DigitRun, first: number, last: number): boolean {
  if (run.ended && run.gluedRight && last === run.groupCount - 1) return false;
  return brandOfDigits(run, groupStart(run, first), run.groupEnds[last]!) !== undefined;
}

/** The brand of digits [first, end) of the window when they pass Luhn and fit one. */
function brandOfDigits(run: DigitRun, first: number, end: number): CardBrand | undefined {
  if (!passesLuhnDigits(run.digitValues, first, end)) return undefined;
  let digits = '';
  for (let i = first; i < end; i++) digits += DIGIT_CHARACTERS[run.digitValues[i]!];
  return brandOf(digits);
}

/** The finding for digits [first, end) of the window, which `isCard` accepted. */
function toFinding(run: DigitRun, first: number, end: number): CardFinding {
  // Plain loops: Array.from over a typed array view costs more than the whole scan here.
  const digitStarts: number[] = [];
  const digitEnds: number[] = [];
  for (let i = first; i < end; i++) {
    digitStarts.push(run.digitStarts[i]!);
    digitEnds.push(run.digitEnds[i]!);
  }
  return {
    kind: 'pan',
    brand: brandOfDigits(run, first, end)!,
    start: digitStarts[0]!,
    end: digitEnds[end - first - 1]!,
    digitStarts,
    digitEnds,
  };
}

const DIGIT_CHARACTERS = '0123456789';

function groupStart(run: DigitRun, group: number): number {
  return group === 0 ? 0 : run.groupEnds[group - 1]!;
}

function groupSize(run: DigitRun, group: number): number {
  return run.groupEnds[group]! - groupStart(run, group);
}
