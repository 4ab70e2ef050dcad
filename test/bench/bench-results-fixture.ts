// Builds scenario results as a run would leave them, from chosen samples, for the report's tests.

import type { ScenarioResult, TargetResult } from '../../bench/alternating-rounds';
import type { TargetName } from '../../bench/bench-targets';
import type { Scenario } from '../../bench/scenario';

/** What one target did in a scenario: completed calls over `elapsedMs`, and its series in ms. */
export interface TargetSamples {
  readonly completed: number;
  readonly elapsedMs?: number;
  readonly series?: Record<string, number[]>;
}

/** A target's result holding `samples` as one measured round (1 s unless said). */
export function targetResult(samples: TargetSamples): TargetResult {
  const elapsedMs = samples.elapsedMs ?? 1_000;
  const { completed } = samples;
  return {
    samples: { completed, errors: 0, elapsedMs, series: samples.series ?? {} },
    rounds: [{ round: 1, completed, errors: 0, elapsedMs, rate: (completed * 1_000) / elapsedMs }],
    cpuMs: undefined,
  };
}

/** `scenario`'s result with each named target's samples. */
export function scenarioResult(
  scenario: Scenario,
  targets: Partial<Record<TargetName, TargetSamples>>,
): ScenarioResult {
  const results: Partial<Record<TargetName, TargetResult>> = {};
  for (const [name, samples] of Object.entries(targets)) {
    results[name as TargetName] = targetResult(samples);
  }
  return { scenario, targets: results };
}

/** `count` samples spread evenly from `lowMs` to `highMs`. */
export function spread(lowMs: number, highMs: number, count = 100): number[] {
  return Array.from(
    { length: count },
    (_, index) => lowMs + ((highMs - lowMs) * index) / (count - 1),
  );
}
