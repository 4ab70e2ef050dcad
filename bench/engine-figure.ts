// What an engine section (masking, audit) reports: figures timed in the bench process, each with
// its target, if any, and whether the run met it.

/** What a figure must reach: at least `value` (throughput) or below `value` (time per call). */
export interface EngineTarget {
  readonly bound: 'atLeast' | 'below';
  readonly value: number;
}

/** Units of engine figures; `frames` counts audit frames or holdback events. */
export type EngineUnit = 'MB/s' | 'ns/chunk' | 'bytes' | 'frames' | 'frames/s' | 'ms';

/** One measured figure of an engine, with its target and whether this run met it. */
export interface EngineFigure {
  readonly key: string;
  readonly label: string;
  readonly unit: EngineUnit;
  readonly value: number;
  /** Absent for a figure reported without a target (a reference or a count). */
  readonly target?: EngineTarget;
  readonly met?: boolean;
}

/** Whether `value` reaches `target`. */
export function meetsTarget(target: EngineTarget, value: number): boolean {
  return target.bound === 'atLeast' ? value >= target.value : value < target.value;
}

/** A figure with `met` filled in from its target; without a target, neither is set. */
export function engineFigure(
  key: string,
  label: string,
  unit: EngineUnit,
  value: number,
  target?: EngineTarget,
): EngineFigure {
  if (target === undefined) return { key, label, unit, value };
  return { key, label, unit, value, target, met: meetsTarget(target, value) };
}

/**
 * Seconds per call of `call`, the best of `passes` passes of `calls` calls each, so a pass slowed
 * by the JIT or by a neighbour on the machine does not count.
 */
export function bestSecondsPerCall(passes: number, calls: number, call: () => void): number {
  let best = Infinity;
  for (let pass = 0; pass < passes; pass += 1) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < calls; i += 1) call();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9 / calls);
  }
  return best;
}

/** The audit engine section: its figures, and where its segment files were written. */
export interface AuditSection {
  /** File system type and mount point of the segment files' directory, or `unknown`. */
  readonly storage: string;
  readonly figures: readonly EngineFigure[];
}

/** What the engine sections of a run measured; a section the run skipped is absent. */
export interface EngineSections {
  readonly masking?: readonly EngineFigure[];
  readonly audit?: AuditSection;
}
