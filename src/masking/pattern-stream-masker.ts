// Operators' patterns over one stream's text as it arrives in chunks, holding a chunk back only
// while a match may still start in it.

import { maskHeldRange } from './held-chunks';
import {
  countMatch,
  scanPattern,
  writeWholeCharacters,
  type MaskPattern,
  type PatternCounts,
  type PatternMatch,
} from './pattern-masker';

const EMPTY = Buffer.alloc(0);

/**
 * Bytes kept before the undecided text: `\b` reads the character before a match, and a search
 * that resumes after the first byte of the text must not see `^` match there.
 */
const CONTEXT_BYTES = 1;

/**
 * Masks the matches of operators' patterns in one stream of text. For every text and every
 * split of it into chunks, the output equals `maskPatterns` on the whole text: a match is
 * decided once the text reaches `maxLength` bytes past its start, because a pattern of that
 * bound reads no further; until then the chunks from the earliest possible start are held.
 * Chunks come back as the same Buffer objects, masked in place, in order; `end` releases the rest
 * and starts a new text.
 */
export class PatternStreamMasker {
  private readonly held: Buffer[] = [];
  private readonly heldStarts: number[] = [];
  /** A copy of the text from `pendingStart` on, as it came, and the byte before it. */
  private pending: Buffer = EMPTY;
  private pendingStart = 0;
  private before: Buffer = EMPTY;
  /** Per pattern, the stream offset its search resumes at. */
  private readonly cursors: number[];
  private pushedBytes = 0;
  private readonly matchCounts: PatternCounts = {};

  constructor(
    private readonly patterns: readonly MaskPattern[],
    private readonly maskByte: number,
  ) {
    this.cursors = patterns.map(() => 0);
  }

  /** Matches masked so far in this stream, by pattern name. */
  get counts(): Readonly<PatternCounts> {
    return this.matchCounts;
  }

  /** Takes the next chunk of the text; returns the chunks that may leave now, in order. */
  push(chunk: Buffer): Buffer[] {
    if (this.held.length === 0 && chunk.length === 0) return [chunk];
    this.held.push(chunk);
    this.heldStarts.push(this.pushedBytes);
    this.pushedBytes += chunk.length;

    this.decide(Buffer.concat([this.before, this.pending, chunk]), false);

    return this.release(this.pendingStart);
  }

  /** Ends the text: decides the rest and returns every held chunk, in order. */
  end(): Buffer[] {
    if (this.held.length > 0) this.decide(Buffer.concat([this.before, this.pending]), true);
    const rest = this.release(Infinity);

    this.pending = EMPTY;
    this.before = EMPTY;
    this.pendingStart = 0;
    this.pushedBytes = 0;
    this.cursors.fill(0);
    return rest;
  }

  /** Scans `text`, which starts `before.length` bytes ahead of the undecided text. */
  private decide(text: Buffer, final: boolean): void {
    const base = this.pendingStart - this.before.length;
    const latin1 = text.toString('latin1');
    const found: PatternMatch[] = [];
    this.patterns.forEach((pattern, index) => {
      const limit = final ? Infinity : text.length - pattern.maxLength;
      const from = this.cursors[index]! - base;
      this.cursors[index] = base + scanPattern(latin1, pattern, index, from, limit, found);
    });

    const decidedEnd = Math.min(...this.cursors) - base;
    this.pendingStart = base + decidedEnd;
    this.pending = Buffer.from(text.subarray(decidedEnd));
    this.before = Buffer.from(text.subarray(Math.max(0, decidedEnd - CONTEXT_BYTES), decidedEnd));
    for (const match of found) {
      writeWholeCharacters(text, match.start, match.end, (start, end) => {
        this.write(base + start, base + end);
      });
      countMatch(this.matchCounts, this.patterns[match.pattern]!.name);
    }
  }

  /** Writes the mask byte over stream bytes [start, end), which may span held chunks. */
  private write(start: number, end: number): void {
    maskHeldRange(this.held, this.heldStarts, start, end, this.maskByte);
  }

  /** The held chunks that end at or before `decidedEnd`. */
  private release(decidedEnd: number): Buffer[] {
    let count = 0;
    while (
      count < this.held.length &&
      this.heldStarts[count]! + this.held[count]!.length <= decidedEnd
    ) {
      count++;
    }
    this.heldStarts.splice(0, count);
    return this.held.splice(0, count);
  }
}
