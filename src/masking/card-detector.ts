// Decides which digit runs are card numbers (PAN): the grouping a person writes them in, the
// Luhn check digit and a brand's prefix and length, and reports them as byte ranges.

import { brandOf, MAX_CARD_DIGITS, MIN_CARD_DIGITS, type CardBrand } from './card-brands';
import { scanDigitRuns, type DigitRun, type ScanStart, type ScanStop } from './digit-scanner';
import { passesLuhn } from './luhn';

/**
 * The kinds of sensitive data a finding may report. Only card numbers so far; security codes,
 * expiry dates and track data will be further kinds, so consumers switch on `kind`.
 */
export type FindingKind = 'pan';

/** A card number found in a text. Offsets only: a finding never carries the digits. */
export interface CardFinding {
  readonly kind: 'pan';
  readonly brand: CardBrand;
  /** Byte offsets of the first digit and just past the last one. */
  readonly start: number;
  readonly end: number;
  /** Byte offsets of each digit and just past it, in order; separators lie between. */
  readonly digitStarts: readonly number[];
  readonly digitEnds: readonly number[];
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

const WHOLE_TEXT: ScanStart = { from: 0, final: true, inLongRun: false, before: new Uint8Array(0) };
const NO_FINDINGS: readonly CardFinding[] = Object.freeze([]);

/**
 * Every card number in `text`, a whole UTF-8 text, in order and never overlapping. A card
 * number is a run of digits (see `scanDigitRuns`) or part of one, written either
 * - as one group of 13-19 digits with nothing but invisible characters inside, or
 * - grouped: groups of at most six digits joined by one and the same separator, the first group
 *   of 4-6 digits, middle groups 3-6, the last 2-6 (4-4-4-4, 4-6-5, 4-6-4, 4-4-4-4-3). Leading
 *   groups of 1-3 digits are dropped ("qty 1 4111 1111 1111 1111"), groups are never split.
 * and it passes the Luhn check and fits a brand (see `brandOf`). The grouping rule is what keeps
 * "1 2 3 4 …", phone numbers (+44 20 7946 0958), dates, IP addresses and thousands (1 234 567)
 * out, and why a grouped run of more than 19 digits (4-4-4-4-4) is not a card number.
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
  let findings: CardFinding[] | undefined;
  const stop = scanDigitRuns(text, start, (run) => {
    findings = collectFindings(run, findings);
  });
  return {
    findings: findings ?? NO_FINDINGS,
    decidedEnd: stop.decidedEnd,
    inLongRun: stop.inLongRun,
  };
}

// Limitation: candidates are judged per maximal chain, so a card number whose separator chain
// runs on into more groups (4111-1111-1111-1111-2024 5678) is missed, and after masking, kept
// digits and the groups next to them can form a new candidate that a second pass would mask.

/** Adds the run's card numbers to `findings` (created on the first one) and returns it. */
function collectFindings(
  run: DigitRun,
  findings: CardFinding[] | undefined,
): CardFinding[] | undefined {
  let taken = 0;
  forEachCandidate(run, (first, last) => {
    if (first < taken) return;
    const finding = toFinding(run, first, last);
    if (finding === undefined) return;
    (findings ??= []).push(finding);
    taken = last;
  });
  return findings;
}

/**
 * Calls `visit(firstDigit, endDigit)` for each candidate of the run in order: long groups and
 * grouped chains (see `findCardNumbers`). Two chains with different separators may share
 * their boundary group; the caller keeps the first that is a card number.
 */
function forEachCandidate(run: DigitRun, visit: (first: number, end: number) => void): void {
  let group = 0;
  while (group < run.groupCount) {
    const size = groupSize(run, group);
    if (size >= MIN_CARD_DIGITS && size <= MAX_CARD_DIGITS) {
      visit(groupStart(run, group), run.groupEnds[group]!);
    }
    if (size > MAX_GROUP_DIGITS || group === run.groupCount - 1) {
      group++;
      continue;
    }
    const last = chainEnd(run, group);
    if (last > group) visitChain(run, group, last, visit);
    group = last > group ? last : group + 1;
  }
}

/** The last group of the chain that starts at `first`: short groups, one separator. */
function chainEnd(run: DigitRun, first: number): number {
  const separator = run.separators[first]!;
  let last = first;
  while (
    last + 1 < run.groupCount &&
    groupSize(run, last + 1) <= MAX_GROUP_DIGITS &&
    run.separators[last] === separator
  ) {
    last++;
  }
  return last;
}

/** Visits the chain [first, last] when, without leading short groups, it is card grouping. */
function visitChain(
  run: DigitRun,
  first: number,
  last: number,
  visit: (first: number, end: number) => void,
): void {
  let head = first;
  while (head < last && groupSize(run, head) < MIN_FIRST_GROUP_DIGITS) head++;
  if (head === last) return;

  for (let group = head + 1; group < last; group++) {
    if (groupSize(run, group) < MIN_MIDDLE_GROUP_DIGITS) return;
  }
  if (groupSize(run, last) < MIN_LAST_GROUP_DIGITS) return;
  const digits = run.groupEnds[last]! - groupStart(run, head);
  if (digits < MIN_CARD_DIGITS || digits > MAX_CARD_DIGITS) return;

  visit(groupStart(run, head), run.groupEnds[last]!);
}

/** The finding for digits [first, end) of the run when they pass Luhn and fit a brand. */
function toFinding(run: DigitRun, first: number, end: number): CardFinding | undefined {
  let digits = '';
  for (let i = first; i < end; i++) digits += DIGIT_CHARACTERS[run.digitValues[i]!];
  if (!passesLuhn(digits)) return undefined;
  const brand = brandOf(digits);
  if (brand === undefined) return undefined;

  // Plain loops: Array.from over a typed array view costs more than the whole scan here.
  const digitStarts: number[] = [];
  const digitEnds: number[] = [];
  for (let i = first; i < end; i++) {
    digitStarts.push(run.digitStarts[i]!);
    digitEnds.push(run.digitEnds[i]!);
  }
  return {
    kind: 'pan',
    brand,
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
