// Runs a scenario's rounds alternating between targets, so drift on the machine hits all alike.

import type { BenchSettings } from './bench-settings';
import type { TargetName } from './bench-targets';
import { addCpuTimes, cpuTimesBetween, type CpuTimes } from './process-cpu';
import {
  emptySamples,
  mergeSamples,
  type RoundSamples,
  type Scenario,
  type TargetClients,
} from './scenario';
import { ratePerSecond } from './stats';

/** Width of the scenario id column of progress lines (`http-stream-c64`). */
const ID_WIDTH = 15;

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

/** A scenario's results for each target the run measured; the others are absent. */
export interface ScenarioResult {
  readonly scenario: Scenario;
  readonly targets: Partial<Record<TargetName, TargetResult>>;
}

/** What a scenario run needs besides the scenario and the settings. */
export interface RoundContext {
  /** The targets to measure, in the order each round visits them. */
  readonly targets: readonly TargetName[];
  readonly clients: Partial<Record<TargetName, TargetClients>>;
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

/** The clients of `target`; a target listed in the context without clients is a bug. */
function clientsOf(context: RoundContext, target: TargetName): TargetClients {
  const clients = context.clients[target];
  if (clients === undefined) throw new Error(`no clients for the ${target} target`);
  return clients;
}

async function warmUp(scenario: Scenario, settings: BenchSettings, context: RoundContext) {
  if (settings.warmupMs === 0 || scenario.measuredOnce === true) return;
  for (const target of context.targets) {
    context.progress(`${scenario.id.padEnd(ID_WIDTH)} warm-up    ${target}`);
    await scenario.runRound(clientsOf(context, target), settings.warmupMs);
    context.checkHealthy();
  }
}

/** Measured rounds per target: --rounds, or one for a scenario whose round is a fixed workload. */
function roundsOf(scenario: Scenario, settings: BenchSettings): number {
  return scenario.measuredOnce === true ? 1 : settings.rounds;
}

/** The round's first figure (its rate, or a fixed workload's headline) with its unit. */
function headline(scenario: Scenario, samples: RoundSamples): string {
  const figure = scenario.figures[0]!;
  const value = scenario.measure(samples)[figure.key] ?? Number.NaN;
  return `${value.toFixed(1).padStart(9)} ${figure.unit}`;
}

async function measureRound(
  scenario: Scenario,
  target: TargetName,
  round: number,
  settings: BenchSettings,
  context: RoundContext,
): Promise<{ samples: RoundSamples; cpuMs: CpuTimes }> {
  const before = context.readCpu();
  const samples = await scenario.runRound(clientsOf(context, target), settings.durationMs);
  const cpuMs = cpuTimesBetween(before, context.readCpu());

  context.progress(
    `${scenario.id.padEnd(ID_WIDTH)} round ${round}/${roundsOf(scenario, settings)}  ` +
      `${target.padEnd(9)} ${headline(scenario, samples)}  errors ${samples.errors}` +
      (samples.firstError === undefined ? '' : ` (first: ${samples.firstError})`),
  );
  return { samples, cpuMs };
}

/** Adds one measured round to a target's result. */
function recordRound(result: TargetResult, round: number, samples: RoundSamples, cpuMs: CpuTimes) {
  mergeSamples(result.samples, samples);
  result.cpuMs = addCpuTimes(result.cpuMs, cpuMs);
  const { completed, errors, elapsedMs } = samples;
  const rate = ratePerSecond(completed, elapsedMs);
  result.rounds.push({ round, completed, errors, elapsedMs, rate });
}

/**
 * Runs one unrecorded warm-up round per target, then `settings.rounds` measured rounds per
 * target, visiting `context.targets` in turn (direct, infergate, masked, audited, secured, nginx,
 * direct, ...); a `measuredOnce` scenario gets one measured round per target and no warm-up.
 * Merges each target's rounds. Rejects only when `checkHealthy` throws (or a listed target has
 * no clients); failed calls are counted, not thrown.
 */
export async function runAlternatingRounds(
  scenario: Scenario,
  settings: BenchSettings,
  context: RoundContext,
): Promise<ScenarioResult> {
  const targets: Partial<Record<TargetName, TargetResult>> = {};
  for (const target of context.targets) targets[target] = emptyResult();
  await warmUp(scenario, settings, context);

  for (let round = 1; round <= roundsOf(scenario, settings); round += 1) {
    for (const target of context.targets) {
      const { samples, cpuMs } = await measureRound(scenario, target, round, settings, context);
      context.checkHealthy();
      recordRound(targets[target]!, round, samples, cpuMs);
    }
  }
  return { scenario, targets };
}
