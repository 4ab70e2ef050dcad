// `npm run bench`: what infergate and its card-data masking cost on the gRPC and HTTP paths,
// against the demo server, and what the masking engine does alone.

import { runAlternatingRounds, type ScenarioResult } from './alternating-rounds';
import {
  BENCH_USAGE,
  BenchUsageError,
  parseBenchArgs,
  type BenchCommand,
  type BenchSettings,
} from './bench-settings';
import { selectTargets, type TargetName } from './bench-targets';
import { errorSum, errorTotals } from './comparison';
import { measureMaskingEngine, type EngineFigure } from './masking-engine';
import { readCpuTimes } from './process-cpu';
import { BenchProcesses } from './processes';
import { formatTable } from './report-table';
import { writeResults } from './report-json';
import type { Scenario, TargetClients } from './scenario';
import { createScenarios, selectScenarios } from './scenario-catalog';
import { closeTargetClients, httpConnectionsFor, openTargetClients } from './target-clients';
import { startTargets, type Targets } from './target-processes';

/** Exit codes: 0 clean run, 1 a target failed to start or a call failed, 2 bad usage. */
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;
/** 128 + SIGINT, as a shell reports an interrupted command. */
const EXIT_INTERRUPTED = 130;

/** What a run does: its settings, whether it times the engine, and the scenarios, in run order. */
interface BenchPlan {
  readonly settings: BenchSettings;
  readonly engine: boolean;
  readonly scenarios: readonly Scenario[];
}

/** What the scenarios part of a run measured, and the command lines it ran. */
interface ScenarioRun {
  readonly results: ScenarioResult[];
  readonly commands: Record<string, readonly string[]>;
}

type ClientsByTarget = Partial<Record<TargetName, TargetClients>>;

function progress(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

/** Runs every planned scenario in turn against every target's clients. */
async function runScenarios(
  plan: BenchPlan,
  targets: Targets,
  clients: ClientsByTarget,
): Promise<ScenarioResult[]> {
  const checkHealthy = () => {
    for (const child of targets.children) {
      if (child.exited()) throw new Error(`${child.name} exited during the run`);
    }
  };
  const context = {
    targets: targets.endpoints.map((endpoint) => endpoint.target),
    clients,
    readCpu: () => readCpuTimes(targets.pids),
    checkHealthy,
    progress,
  };

  const results: ScenarioResult[] = [];
  for (const scenario of plan.scenarios) {
    results.push(await runAlternatingRounds(scenario, plan.settings, context));
  }
  return results;
}

async function closeClients(clients: ClientsByTarget): Promise<void> {
  for (const opened of Object.values(clients)) await closeTargetClients(opened);
}

/** Opens every target's clients alike; on a failure closes those already open, then rejects. */
async function openClients(plan: BenchPlan, targets: Targets): Promise<ClientsByTarget> {
  const { channels } = plan.settings;
  const connections = httpConnectionsFor(plan.scenarios);
  const clients: ClientsByTarget = {};
  try {
    for (const { target, label, addresses } of targets.endpoints) {
      clients[target] = await openTargetClients(label, addresses, channels, connections);
    }
    return clients;
  } catch (err) {
    await closeClients(clients);
    throw err;
  }
}

/** Starts the targets, opens their clients and runs the scenarios; always closes the clients. */
async function measureScenarios(plan: BenchPlan, processes: BenchProcesses): Promise<ScenarioRun> {
  const { settings } = plan;
  const options = { logLevel: settings.gatewayLogLevel, progress };
  const targets = await startTargets(processes, selectTargets(settings.masked), options);
  const clients = await openClients(plan, targets);
  try {
    return { results: await runScenarios(plan, targets, clients), commands: targets.commands };
  } finally {
    await closeClients(clients);
  }
}

/** Times the masking engine alone, before any child starts, so it has a core to itself. */
function measureEngine(): EngineFigure[] {
  progress('timing the masking engine alone (best of 5 passes per figure)');
  return measureMaskingEngine(progress);
}

/** Measures what the plan asks, prints and writes the results; resolves with the exit code. */
async function runBench(plan: BenchPlan, processes: BenchProcesses): Promise<number> {
  const { settings } = plan;
  const startedAt = new Date();

  const engine = plan.engine ? measureEngine() : undefined;
  const { results, commands } =
    plan.scenarios.length > 0
      ? await measureScenarios(plan, processes)
      : { results: [], commands: {} };

  process.stdout.write(`${formatTable(settings, engine, results)}\n`);
  const facts = { startedAt, finishedAt: new Date(), settings, commands };
  progress(`results written to ${writeResults(facts, engine, results)}`);
  return errorSum(errorTotals(results)) === 0 ? 0 : EXIT_FAILURE;
}

/** Ctrl-C or SIGTERM stops the children before exiting; a second signal exits at once. */
function stopOnSignals(processes: BenchProcesses): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(EXIT_INTERRUPTED);
    stopping = true;
    progress(`${signal}: stopping the demo server and the gateways`);
    void processes.stopAll().finally(() => process.exit(EXIT_INTERRUPTED));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** The parsed command line with its scenarios picked; throws BenchUsageError on bad usage. */
function planBench(args: readonly string[]): BenchPlan | 'help' {
  const command: BenchCommand = parseBenchArgs(args);
  if (command.help) return 'help';
  const { engine, scenarios } = selectScenarios(createScenarios(), command.settings.scenarios);
  return { settings: command.settings, engine, scenarios };
}

/** Parses `args`, runs the benchmark, and always stops the child processes it started. */
async function main(args: readonly string[]): Promise<number> {
  let plan;
  try {
    plan = planBench(args);
  } catch (err) {
    if (!(err instanceof BenchUsageError)) throw err;
    process.stderr.write(`bench: ${err.message}\n\n${BENCH_USAGE}\n`);
    return EXIT_USAGE;
  }
  if (plan === 'help') {
    process.stdout.write(`${BENCH_USAGE}\n`);
    return 0;
  }

  const processes = new BenchProcesses();
  stopOnSignals(processes);
  try {
    return await runBench(plan, processes);
  } catch (err) {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_FAILURE;
  } finally {
    await processes.stopAll();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = EXIT_FAILURE;
  },
);
