// What masking did in one exchange: counts, fingerprints and hold-back, never the values.

import type { HoldbackStats } from './frame-holdback';
import type { MaskCounts } from './mask-options';
import type { PatternCounts } from './pattern-masker';

/**
 * The masking facts of one exchange, for the access log, metrics and audit frames. Read at any
 * time, it tells what was masked so far. Nothing in it is card data: fingerprints are keyed
 * HMACs that cannot be reversed without the key.
 */
export interface MaskingRecord {
  /** Whether the prompt and the response are masked on this exchange. */
  readonly prompts: boolean;
  readonly responses: boolean;
  /** What was masked in the request messages and in the response, by kind. */
  readonly promptCounts: Readonly<MaskCounts>;
  readonly responseCounts: Readonly<MaskCounts>;
  /** Matches of the operator's own patterns, by pattern name. */
  readonly promptPatternCounts: Readonly<PatternCounts>;
  readonly responsePatternCounts: Readonly<PatternCounts>;
  /** Keyed fingerprints of the card numbers seen, each once, at most MAX_FINGERPRINTS. */
  readonly fingerprints: readonly string[];
  /** How much of the response was held back, and for how long. */
  readonly held: HoldbackStats;
}

/** The most fingerprints one exchange records; a bulk extraction is flagged by its counts. */
export const MAX_FINGERPRINTS = 64;
