// Tells a worker that keeps dying just after its start from one that died once.

/** A worker that dies sooner than this after it was forked has not managed to run. */
export const QUICK_DEATH_MS = 10_000;

/** Quick deaths in a row, in one slot, after which replacing its worker again is pointless. */
export const CRASH_LOOP_DEATHS = 5;

/** What counts as a crash loop. */
export interface CrashLoopLimits {
  readonly quickDeathMs: number;
  readonly deaths: number;
}

/**
 * Counts each slot's quick deaths in a row. A worker that lived longer than `quickDeathMs`
 * resets its slot's count, so occasional crashes over a long run never add up to a loop.
 */
export class CrashLoopGuard {
  private readonly quickDeaths = new Map<number, number>();

  constructor(
    private readonly limits: CrashLoopLimits = {
      quickDeathMs: QUICK_DEATH_MS,
      deaths: CRASH_LOOP_DEATHS,
    },
  ) {}

  /**
   * Records that `slot`'s worker died `uptimeMs` after it was forked. Returns the slot's quick
   * deaths in a row when they reach the limit (a crash loop), else undefined.
   */
  recordDeath(slot: number, uptimeMs: number): number | undefined {
    const quick = uptimeMs < this.limits.quickDeathMs;
    const count = quick ? (this.quickDeaths.get(slot) ?? 0) + 1 : 0;
    this.quickDeaths.set(slot, count);
    return count >= this.limits.deaths ? count : undefined;
  }
}
