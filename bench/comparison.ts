// Turns the targets' samples into compared figures: each target's value, added time, ratios.

import type { ScenarioResult, TargetResult } from './alternating-rounds';
import { TARGET_NAMES, type TargetName } from './bench-targets';
import type { FigureKind, FigureSpec } from './scenario';
import { summarize, type LatencySummary } from './stats';

/** One figure of a scenario for every measured target. */
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
  /** Through the masking gateway; absent when the run skipped it (--no-masked). */
  readonly masked?: number;
  /** Latency only: the time masking adds (masked - infergate), in the figure's unit. */
  readonly maskedAdded?: number;
  /** masked / infergate, the cost of masking alone: read as `ratio` is. */
  readonly maskedRatio?: number;
  /** Through the masking and auditing gateway; absent when the run skipped it (--no-audited). */
  readonly audited?: number;
  /**
   * Latency only, with `masked` measured: the time the audit trail adds (audited - masked), in
   * the figure's unit.
   */
  readonly auditedAdded?: number;
  /** audited / masked, the cost of the audit trail alone; absent without `masked`. */
  readonly auditedRatio?: number;
  /** audited / direct, the cost of the whole deployed gateway against the model server. */
  readonly auditedDirectRatio?: number;
  /** Through the gateway with every control on; absent when the run skipped it (--no-secured). */
  readonly secured?: number;
  /** Latency only: the time all controls together add (secured - direct), in the figure's unit. */
  readonly securedAdded?: number;
  /** secured / direct, what every control together costs against the model server. */
  readonly securedDirectRatio?: number;
  /** Through nginx; absent when nginx is not installed or was skipped (--no-nginx). */
  readonly nginx?: number;
  /** Latency only: the time nginx adds (nginx - direct), in the figure's unit. */
  readonly nginxAdded?: number;
  /** nginx / direct, what a plain reverse proxy costs: the reference for secured / direct. */
  readonly nginxRatio?: number;
  /** secured / nginx, with both measured. */
  readonly securedNginxRatio?: number;
}

/** A target's figure values; every figure NaN for a target the run did not measure. */
function targetValues(result: ScenarioResult, target: TargetName): Record<string, number> {
  const measured = result.targets[target];
  return measured === undefined ? {} : result.scenario.measure(measured.samples);
}

/** The masked target's value and its comparison with the plain gateway's, when measured. */
function maskedFields(spec: FigureSpec, masked: number | undefined, infergate: number) {
  if (masked === undefined) return {};
  const added = spec.kind === 'latency' ? { maskedAdded: masked - infergate } : {};
  return { masked, ...added, maskedRatio: masked / infergate };
}

/** The audited target's value and its comparisons with masked (when measured) and direct. */
function auditedFields(
  spec: FigureSpec,
  audited: number | undefined,
  masked: number | undefined,
  direct: number,
) {
  if (audited === undefined) return {};
  const vsMasked =
    masked === undefined
      ? {}
      : {
          ...(spec.kind === 'latency' ? { auditedAdded: audited - masked } : {}),
          auditedRatio: audited / masked,
        };
  return { audited, ...vsMasked, auditedDirectRatio: audited / direct };
}

/** The secured target's value and its comparisons with direct and, when measured, nginx. */
function securedFields(
  spec: FigureSpec,
  secured: number | undefined,
  direct: number,
  nginx: number | undefined,
) {
  if (secured === undefined) return {};
  const added = spec.kind === 'latency' ? { securedAdded: secured - direct } : {};
  const vsNginx = nginx === undefined ? {} : { securedNginxRatio: secured / nginx };
  return { secured, ...added, securedDirectRatio: secured / direct, ...vsNginx };
}

/** nginx's value and its comparison with direct, when measured. */
function nginxFields(spec: FigureSpec, nginx: number | undefined, direct: number) {
  if (nginx === undefined) return {};
  const added = spec.kind === 'latency' ? { nginxAdded: nginx - direct } : {};
  return { nginx, ...added, nginxRatio: nginx / direct };
}

/** `target`'s value of every figure, or undefined when the run did not measure `target`. */
function optionalValues(result: ScenarioResult, target: TargetName) {
  return result.targets[target] === undefined ? undefined : targetValues(result, target);
}

/** The compared figures of a scenario, in the scenario's order. */
export function compareFigures(result: ScenarioResult): FigureComparison[] {
  const direct = targetValues(result, 'direct');
  const infergate = targetValues(result, 'infergate');
  const masked = optionalValues(result, 'masked');
  const audited = optionalValues(result, 'audited');
  const secured = optionalValues(result, 'secured');
  const nginx = optionalValues(result, 'nginx');
  const valueOf = (values: Record<string, number> | undefined, key: string) =>
    values === undefined ? undefined : (values[key] ?? Number.NaN);

  return result.scenario.figures.map((spec) => {
    const { key, label, kind, unit } = spec;
    const a = direct[key] ?? Number.NaN;
    const b = infergate[key] ?? Number.NaN;
    const c = valueOf(masked, key);
    const s = valueOf(secured, key);
    const n = valueOf(nginx, key);
    const added = kind === 'latency' ? { added: b - a } : {};
    return {
      key,
      label,
      kind,
      unit,
      direct: a,
      infergate: b,
      ...added,
      ratio: b / a,
      ...maskedFields(spec, c, b),
      ...auditedFields(spec, valueOf(audited, key), c, a),
      ...securedFields(spec, s, a, n),
      ...nginxFields(spec, n, a),
    };
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

/** The targets measured in any of `results`, in round order. */
export function measuredTargets(results: readonly ScenarioResult[]): TargetName[] {
  return TARGET_NAMES.filter((name) => results.some((result) => result.targets[name]));
}

/** Failed calls or streams per measured target over all scenarios. */
export function errorTotals(
  results: readonly ScenarioResult[],
): Partial<Record<TargetName, number>> {
  const totals: Partial<Record<TargetName, number>> = {};
  for (const name of measuredTargets(results)) {
    let errors = 0;
    for (const { targets } of results) errors += targets[name]?.samples.errors ?? 0;
    totals[name] = errors;
  }
  return totals;
}

/** Failed calls or streams of all targets together. */
export function errorSum(totals: Partial<Record<TargetName, number>>): number {
  return Object.values(totals).reduce((sum, errors) => sum + (errors ?? 0), 0);
}
