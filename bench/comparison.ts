// Turns both targets' samples into compared figures: direct, through infergate, added, ratio.

import type { ScenarioResult, TargetName, TargetResult } from './alternating-rounds';
import type { FigureKind } from './scenario';
import { summarize, type LatencySummary } from './stats';

/** One figure of a scenario for both targets. */
export interface FigureComparison {
  readonly key: string;
  readonly label: string;
  readonly kind: FigureKind;
  readonly unit: string;
  readonly direct: number;
  readonly infergate: number;
  /** Latency only: the time infergate adds (infergate - direct), in the figure's unit. */
  readonly added?: number;
  /** infergate / direct: below 1 is lost throughput, above 1 is added latency. */
  readonly ratio: number;
}

/** The compared figures of a scenario, in the scenario's order. */
export function compareFigures(result: ScenarioResult): FigureComparison[] {
  const { scenario, targets } = result;
  const direct = scenario.measure(targets.direct.samples);
  const infergate = scenario.measure(targets.infergate.samples);

  return scenario.figures.map(({ key, label, kind, unit }) => {
    const a = direct[key] ?? Number.NaN;
    const b = infergate[key] ?? Number.NaN;
    const added = kind === 'latency' ? { added: b - a } : {};
    return { key, label, kind, unit, direct: a, infergate: b, ...added, ratio: b / a };
  });
}

/** CPU use per process role over a target's measured rounds, as % of one core. */
export function cpuPercent(target: TargetResult): Record<string, number | undefined> {
  const percent: Record<string, number | undefined> = {};
  const elapsedMs = target.samples.elapsedMs;
  for (const [role, ms] of Object.entries(target.cpuMs ?? {})) {
    percent[role] = ms === undefined || elapsedMs <= 0 ? undefined : (ms / elapsedMs) * 100;
  }
  return percent;
}

/**
 * CPU time per completed call or stream over a target's measured rounds, in microseconds per
 * process role: what each process spends on one exchange, whatever the rate.
 */
export function cpuMicrosPerCompleted(target: TargetResult): Record<string, number | undefined> {
  const micros: Record<string, number | undefined> = {};
  const { completed } = target.samples;
  for (const [role, ms] of Object.entries(target.cpuMs ?? {})) {
    micros[role] = ms === undefined || completed === 0 ? undefined : (ms * 1_000) / completed;
  }
  return micros;
}

/** Distribution summaries of every recorded series of a target. */
export function distributions(target: TargetResult): Record<string, LatencySummary> {
  const summaries: Record<string, LatencySummary> = {};
  for (const [name, values] of Object.entries(target.samples.series)) {
    summaries[name] = summarize(values);
  }
  return summaries;
}

/** Failed calls or streams per target over all scenarios. */
export function errorTotals(results: readonly ScenarioResult[]): Record<TargetName, number> {
  const totals: Record<TargetName, number> = { direct: 0, infergate: 0 };
  for (const { targets } of results) {
    totals.direct += targets.direct.samples.errors;
    totals.infergate += targets.infergate.samples.errors;
  }
  return totals;
}
