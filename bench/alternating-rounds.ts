// Runs a scenario's rounds alternating between targets, so drift on the machine hits both.

import type { BenchSettings } from './bench-settings';
import { addCpuTimes, cpuTimesBetween, type CpuTimes } from './process-cpu';
import {
  emptySamples,
  mergeSamples,
  type RoundSamples,
  type Scenario,
  type TargetClients,
} from './scenario';
import { ratePerSecond } from './stats';

/** Width of the scenario id column of progress lines (`http-stream-c16`). */
const ID_WIDTH = 15;

/** The two things measured: the demo server called directly, and called through infergate. */
export type TargetName = 'direct' | 'infergate';

/** Targets in the order each round visits them. */
export const TARGET_NAMES: readonly TargetName[] = ['direct', 'infergate'];

/** One measured round of one target, kept to show drift between rounds. */
export interface RoundRecord {
  readonly round: number;
  readonly completed: number;
  readonly errors: number;
  readonly elapsedMs: number;
  /** Completed calls or streams per second in this round. */
  readonly rate: number;
}

/** Everything measured for one target in one scenario. */
export interface TargetResult {
  /** All measured rounds merged; warm-up rounds are not included. */
  readonly samples: RoundSamples;
  readonly rounds: RoundRecord[];
  /** CPU ms per process role over the measured rounds; undefined where it is not readable. */
  cpuMs: CpuTimes | undefined;
}

/** A scenario's results for both targets. */
export interface ScenarioResult {
  readonly scenario: Scenario;
  readonly targets: Record<TargetName, TargetResult>;
}

/** What a scenario run needs besides the scenario and the settings. */
export interface RoundContext {
  readonly clients: Record<TargetName, TargetClients>;
  /** CPU ms used so far by the client and each child process. */
  readonly readCpu: () => CpuTimes;
  /** Throws when the run must stop, for instance because a child process died. */
  readonly checkHealthy: () => void;
  /** Writes one progress line (to stderr). */
  readonly progress: (line: string) => void;
}

function emptyResult(): TargetResult {
  return { samples: emptySamples([]), rounds: [], cpuMs: undefined };
}

async function warmUp(scenario: Scenario, settings: BenchSettings, context: RoundContext) {
  if (settings.warmupMs === 0) return;
  for (const target of TARGET_NAMES) {
    context.progress(`${scenario.id.padEnd(ID_WIDTH)} warm-up    ${target}`);
    await scenario.runRound(context.clients[target], settings.warmupMs);
    context.checkHealthy();
  }
}

async function measureRound(
  scenario: Scenario,
  target: TargetName,
  round: number,
  settings: BenchSettings,
  context: RoundContext,
): Promise<{ samples: RoundSamples; cpuMs: CpuTimes }> {
  const before = context.readCpu();
  const samples = await scenario.runRound(context.clients[target], settings.durationMs);
  const cpuMs = cpuTimesBetween(before, context.readCpu());

  const rate = ratePerSecond(samples.completed, samples.elapsedMs).toFixed(1);
  const unit = scenario.figures[0]?.unit ?? '/s';
  context.progress(
    `${scenario.id.padEnd(ID_WIDTH)} round ${round}/${settings.rounds}  ${target.padEnd(9)} ` +
      `${rate.padStart(9)} ${unit}  errors ${samples.errors}` +
      (samples.firstError === undefined ? '' : ` (first: ${samples.firstError})`),
  );
  return { samples, cpuMs };
}

/**
 * Runs one unrecorded warm-up round per target, then `settings.rounds` measured rounds per
 * target in the order direct, infergate, direct, infergate, ...; merges each target's rounds.
 * Rejects only when `checkHealthy` throws; failed calls are counted, not thrown.
 */
export async function runAlternatingRounds(
  scenario: Scenario,
  settings: BenchSettings,
  context: RoundContext,
): Promise<ScenarioResult> {
  const targets = { direct: emptyResult(), infergate: emptyResult() };
  await warmUp(scenario, settings, context);

  for (let round = 1; round <= settings.rounds; round += 1) {
    for (const target of TARGET_NAMES) {
      const { samples, cpuMs } = await measureRound(scenario, target, round, settings, context);
      context.checkHealthy();
      const result = targets[target];
      mergeSamples(result.samples, samples);
      result.cpuMs = addCpuTimes(result.cpuMs, cpuMs);
      const { completed, errors, elapsedMs } = samples;
      const rate = ratePerSecond(completed, elapsedMs);
      result.rounds.push({ round, completed, errors, elapsedMs, rate });
    }
  }
  return { scenario, targets };
}
