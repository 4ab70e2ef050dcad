// The streaming masker: masks card numbers in one stream's text as it arrives in chunks,
// holding a chunk back only while its text may still be part of a card number.

import { maskHeldRange } from './held-chunks';
import {
  detectCardData,
  MAX_DATA_LOOKBEHIND_BYTES,
  MAX_DATA_PENDING_BYTES,
} from './card-data-detector';
import { detectCardNumbers } from './card-detector';
import { skipToDigitLead } from './digit-scanner';
import { maskFinding, type FindingObserver } from './card-masker';
import { MAX_RUN_PENDING_BYTES, RunState } from './digit-run';
import type { Finding } from './findings';
import {
  emptyMaskCounts,
  resolveMaskOptions,
  type MaskCounts,
  type MaskOptions,
  type ResolvedMaskOptions,
} from './mask-options';

/** The most undecided text a StreamMasker holds: a run's window or a track's lookahead. */
export const MAX_PENDING_BYTES = Math.max(MAX_RUN_PENDING_BYTES, MAX_DATA_PENDING_BYTES);

const EMPTY = Buffer.alloc(0);

/** Bytes before the undecided text kept to read a keyword or tell whether a run is glued. */
const CONTEXT_BYTES = MAX_DATA_LOOKBEHIND_BYTES;

/** How far before the undecided text a card number may end and still anchor a code. */
const ANCHOR_BYTES = 3;

/**
 * Masks one stream of text, seen as one continuous text across its chunks (a chunk may end
 * inside a UTF-8 character or a card number). For every text and every split of it into chunks,
 * the concatenated output equals `maskCardData` of the whole text: the scan resumes only where
 * the text is undecided, the start of a run that has not ended yet.
 *
 * Chunks come back as the same Buffer objects, masked in place, in order. A chunk is released by
 * the `push` that decides its last byte; held chunks are all released by `end`. The undecided
 * text is at most MAX_PENDING_BYTES, so `heldBytes` is at most that plus the decided start of the
 * first held chunk. After `end` the masker starts a new text.
 */
export class StreamMasker {
  private readonly options: ResolvedMaskOptions;
  private readonly held: Buffer[] = [];
  /** Stream offset of each held chunk's first byte. */
  private readonly heldStarts: number[] = [];
  private heldTotal = 0;
  /** A copy of the undecided text, which starts at stream offset `pendingStart`. */
  private pending: Buffer = EMPTY;
  private pendingStart = 0;
  /** Where each scan resumes, at or after `pendingStart`; the card-number scan's state. */
  private cardStart = 0;
  private dataStart = 0;
  private runState = RunState.None;
  /** Card numbers that may still anchor a code, and an expiry that follows one; stream offsets. */
  private cards: Finding[] = [];
  private anchorEnd = -Infinity;
  /** The original bytes just before the undecided text. */
  private readonly before = new ContextWindow(CONTEXT_BYTES);
  private pushedBytes = 0;
  private readonly maskCounts = emptyMaskCounts();

  /**
   * `observe` sees each finding, with the original text around it, before it is masked. Throws
   * ProxyError `ERR_CONFIG_INVALID` for bad options (see `resolveMaskOptions`).
   */
  constructor(
    options: MaskOptions | ResolvedMaskOptions = {},
    private readonly observe?: FindingObserver,
  ) {
    this.options = resolveMaskOptions(options);
  }

  /** Bytes of the chunks held now. */
  get heldBytes(): number {
    return this.heldTotal;
  }

  /** Bytes of undecided text held now, at most MAX_PENDING_BYTES. */
  get pendingBytes(): number {
    return this.pending.length;
  }

  /** Card numbers masked so far in this text, by kind. */
  get counts(): Readonly<MaskCounts> {
    return this.maskCounts;
  }

  /** Takes the next chunk of the text; returns the chunks that may leave now, in order. */
  push(chunk: Buffer): Buffer[] {
    if (this.held.length === 0 && chunk.length === 0) return [chunk];
    if (this.held.length === 0 && this.runState === RunState.None && mayNotBeginDigit(chunk)) {
      return this.passDecided(chunk);
    }
    this.hold(chunk);

    const text = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    this.decide(text, false);

    return this.releaseDecided();
  }

  /** Ends the text: decides what was undecided and returns every held chunk, in order. */
  end(): Buffer[] {
    if (this.pending.length > 0 || this.held.length > 0) this.decide(this.pending, true);
    const rest = this.held.splice(0);

    this.heldStarts.length = 0;
    this.heldTotal = 0;
    this.pending = EMPTY;
    this.pendingStart = 0;
    this.cardStart = 0;
    this.dataStart = 0;
    this.runState = RunState.None;
    this.cards = [];
    this.anchorEnd = -Infinity;
    this.before.clear();
    this.pushedBytes = 0;
    return rest;
  }

  /**
   * Passes a chunk that follows decided text and holds no byte that may begin a digit: no card
   * data can start in it, and as it ends no run, it leaves nothing undecided. This is what a
   * full scan of it decides, without a scan's allocations, for most tokens of a stream.
   */
  private passDecided(chunk: Buffer): Buffer[] {
    this.before.append(chunk, chunk.length);
    this.pushedBytes += chunk.length;
    this.pendingStart = this.pushedBytes;
    this.cardStart = this.pushedBytes;
    this.dataStart = this.pushedBytes;
    if (this.cards.length > 0) this.keepAnchors(NO_FINDINGS, 0);
    return [chunk];
  }

  private hold(chunk: Buffer): void {
    this.held.push(chunk);
    this.heldStarts.push(this.pushedBytes);
    this.heldTotal += chunk.length;
    this.pushedBytes += chunk.length;
  }

  /**
   * Scans `text`, the undecided text onward: card numbers from where their scan stopped, then the
   * other card data up to where card numbers are decided (a code's anchor must be known). Both
   * read the original bytes, so masking waits until both are done.
   */
  private decide(text: Buffer, final: boolean): void {
    const base = this.pendingStart;
    const before = this.before.bytes();
    const cards = detectCardNumbers(text, {
      from: this.cardStart - base,
      final,
      state: this.runState,
      before,
    });
    const known = this.knownCards(cards.findings, base);
    const data = detectCardData(text, {
      from: this.dataStart - base,
      limit: cards.decidedEnd,
      final,
      before,
      cards: known,
      anchorEnd: this.anchorEnd - base,
    });

    // Track data may end past where card numbers are decided, so each scan keeps its own cursor.
    const decidedEnd = Math.min(cards.decidedEnd, data.decidedEnd);
    this.cardStart = base + cards.decidedEnd;
    this.dataStart = base + data.decidedEnd;
    this.runState = cards.state;
    this.anchorEnd = base + data.anchorEnd;
    this.before.append(text, decidedEnd);
    this.pending = decidedEnd === text.length ? EMPTY : Buffer.from(text.subarray(decidedEnd));
    this.pendingStart = base + decidedEnd;
    this.keepAnchors(cards.findings, base);

    if (this.observe !== undefined) {
      for (const finding of cards.findings) this.observe(text, finding);
      for (const finding of data.findings) this.observe(text, finding);
    }
    this.mask(cards.findings, base);
    this.mask(data.findings, base);
  }

  /** The cards kept from earlier pushes and the new ones, as offsets into the text at `base`. */
  private knownCards(found: readonly Finding[], base: number): readonly Finding[] {
    if (this.cards.length === 0) return found;
    return [...this.cards.map((card) => shifted(card, -base)), ...found];
  }

  /** Keeps the cards that may still anchor a code past the undecided text's start. */
  private keepAnchors(found: readonly Finding[], base: number): void {
    const oldest = this.pendingStart - ANCHOR_BYTES;
    const kept = this.cards.filter((card) => card.end >= oldest);
    for (const card of found) if (base + card.end >= oldest) kept.push(shifted(card, base));
    this.cards = kept;
  }

  private mask(findings: readonly Finding[], textStart: number): void {
    for (const finding of findings) {
      maskFinding(finding, this.options, (start, end) => {
        this.write(textStart + start, textStart + end);
      });
      this.maskCounts[finding.kind]++;
    }
  }

  /** Writes the mask byte over stream bytes [start, end), which may span held chunks. */
  private write(start: number, end: number): void {
    maskHeldRange(this.held, this.heldStarts, start, end, this.options.maskByte);
  }

  /** Removes and returns the held chunks that lie wholly before the undecided text. */
  private releaseDecided(): Buffer[] {
    let count = 0;
    while (
      count < this.held.length &&
      this.heldStarts[count]! + this.held[count]!.length <= this.pendingStart
    ) {
      this.heldTotal -= this.held[count]!.length;
      count++;
    }
    this.heldStarts.splice(0, count);
    return this.held.splice(0, count);
  }
}

/** Whether no byte of `chunk` may begin a digit (ASCII or not), so no run can start in it. */
function mayNotBeginDigit(chunk: Buffer): boolean {
  return skipToDigitLead(chunk, 0, chunk.length) === chunk.length;
}

const NO_FINDINGS: readonly Finding[] = Object.freeze([]);

/** `card` with its start and end moved by `delta` (anchoring reads only those and its brand). */
function shifted(card: Finding, delta: number): Finding {
  return { ...card, start: card.start + delta, end: card.end + delta };
}

/**
 * The last `size` bytes of a text, kept in one buffer that is shifted in place, so the small
 * chunks of a token stream cost no allocation. The bytes lie right-aligned in the buffer.
 */
class ContextWindow {
  private readonly buffer: Buffer;
  private length = 0;

  constructor(private readonly size: number) {
    this.buffer = Buffer.alloc(size);
  }

  /** The kept bytes; a view that the next `append` or `clear` changes. */
  bytes(): Buffer {
    return this.buffer.subarray(this.size - this.length);
  }

  /**
   * Appends `text[0, end)`, keeping the last `size` bytes. Byte by byte: a window is a few dozen
   * bytes and a token a few, where a view of the text to copy from costs more than the copy.
   */
  append(text: Uint8Array, end: number): void {
    const { buffer, size } = this;
    const kept = Math.min(end, size);
    buffer.copyWithin(0, kept, size);
    for (let i = 0; i < kept; i++) buffer[size - kept + i] = text[end - kept + i]!;
    this.length = Math.min(size, this.length + kept);
  }

  clear(): void {
    this.length = 0;
  }
}
