// Everything a text is masked for, in one place: card data first, then the operator's patterns
// over the text the card masks leave, whole or as a stream.

import { maskCardData, type FindingObserver } from './card-masker';
import {
  addMaskCounts,
  emptyMaskCounts,
  type MaskCounts,
  type ResolvedMaskOptions,
} from './mask-options';
import {
  addPatternCounts,
  maskPatterns,
  type MaskPattern,
  type PatternCounts,
} from './pattern-masker';
import { PatternStreamMasker } from './pattern-stream-masker';
import { StreamMasker } from './stream-masker';

/** What masking looks for and how it writes. */
export interface TextMaskPolicy {
  readonly options: ResolvedMaskOptions;
  /** The operator's own patterns; empty when there are none. */
  readonly patterns: readonly MaskPattern[];
  /** Sees each card-data finding before it is masked (keyed fingerprints). */
  readonly observe?: FindingObserver;
}

/** What was masked in a text or a stream: card data by kind, pattern matches by name. */
export interface TextMaskCounts {
  readonly cards: MaskCounts;
  readonly patterns: PatternCounts;
}

/** Fresh zero counts. */
export function emptyTextMaskCounts(): TextMaskCounts {
  return { cards: emptyMaskCounts(), patterns: {} };
}

/** Adds `counts` into `into`. */
export function addTextMaskCounts(into: TextMaskCounts, counts: Readonly<TextMaskCounts>): void {
  addMaskCounts(into.cards, counts.cards);
  addPatternCounts(into.patterns, counts.patterns);
}

/** Masks a whole text in place; a clean text is not written to. Adds what it did to `counts`. */
export function maskText(text: Buffer, policy: TextMaskPolicy, counts: TextMaskCounts): void {
  addMaskCounts(counts.cards, maskCardData(text, policy.options, policy.observe).counts);
  if (policy.patterns.length === 0) return;
  addPatternCounts(counts.patterns, maskPatterns(text, policy.patterns, policy.options.maskByte));
}

/**
 * Masks one stream of text as `maskText` masks the whole: the card masker's released chunks
 * pass the pattern masker, so a chunk leaves once both have decided it. Without patterns it is
 * the card masker alone.
 */
export class StreamTextMasker {
  private readonly cards: StreamMasker;
  private readonly patterns: PatternStreamMasker | undefined;

  constructor(policy: TextMaskPolicy) {
    this.cards = new StreamMasker(policy.options, policy.observe);
    if (policy.patterns.length > 0) {
      this.patterns = new PatternStreamMasker(policy.patterns, policy.options.maskByte);
    }
  }

  get counts(): TextMaskCounts {
    return { cards: { ...this.cards.counts }, patterns: { ...this.patterns?.counts } };
  }

  /** Takes the next chunk; returns the chunks that may leave now, in order. */
  push(chunk: Buffer): Buffer[] {
    const released = this.cards.push(chunk);
    const patterns = this.patterns;
    if (patterns === undefined) return released;
    return released.flatMap((part) => patterns.push(part));
  }

  /** Ends the text; returns every chunk still held, in order. */
  end(): Buffer[] {
    const released = this.cards.end();
    const patterns = this.patterns;
    if (patterns === undefined) return released;
    const out = released.flatMap((part) => patterns.push(part));
    out.push(...patterns.end());
    return out;
  }
}
