// Percentiles and summaries over recorded latency samples.

/** A latency distribution in milliseconds; every field is NaN when there were no samples. */
export interface LatencySummary {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/**
 * The `p`-th percentile (0-100] of ascending `sorted` by the nearest-rank method: the smallest
 * sample with at least p% of the samples at or below it. NaN for no samples.
 */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Summarizes samples (in any order; the input is not modified). */
export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  let total = 0;
  for (const sample of sorted) total += sample;

  return {
    count: sorted.length,
    mean: sorted.length === 0 ? Number.NaN : total / sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!,
  };
}

/** Events per second over `elapsedMs`; NaN for an empty span. */
export function ratePerSecond(events: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (events * 1_000) / elapsedMs : Number.NaN;
}
