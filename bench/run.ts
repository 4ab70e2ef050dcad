// `npm run bench`: what infergate, its card-data masking, its audit trail and TLS with tokens cost
// on the gRPC and HTTP paths, against the demo server and nginx, and what the masking engine and
// the audit log do alone.

import os from 'node:os';
import { runAlternatingRounds, type ScenarioResult } from './alternating-rounds';
import { measureAuditEngine } from './audit-engine';
import {
  BENCH_USAGE,
  BenchUsageError,
  parseBenchArgs,
  type BenchCommand,
  type BenchSettings,
} from './bench-settings';
import { cpuRoleOf, selectTargets, type TargetName } from './bench-targets';
import { errorSum, errorTotals, measuredTargets } from './comparison';
import type { EngineSections } from './engine-figure';
import { latencyChart } from './latency-chart';
import { measureMaskingEngine } from './masking-engine';
import { detectNginx, type NginxInstall } from './nginx-target';
import { readCpuTimes } from './process-cpu';
import { treeRssBytes } from './process-memory';
import { BenchProcesses } from './processes';
import { formatTable } from './report-table';
import { writeResults } from './report-json';
import { requirementChecks } from './requirement-checks';
import { resultsFile, writeResultsFile } from './results-files';
import type { Scenario, TargetClients } from './scenario';
import { createScenarios, selectScenarios } from './scenario-catalog';
import { closeTargetClients, httpConnectionsFor, openTargetClients } from './target-clients';
import { startTargets, type Targets } from './target-processes';
import { BenchTempDirs } from './temp-dirs';

/** Exit codes: 0 clean run, 1 a target failed to start or a call failed, 2 bad usage. */
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;
/** 128 + SIGINT, as a shell reports an interrupted command. */
const EXIT_INTERRUPTED = 130;

/** What a run does: its settings, which engine sections it times, and the scenarios, in order. */
interface BenchPlan {
  readonly settings: BenchSettings;
  /** The masking engine section. */
  readonly engine: boolean;
  /** The audit engine section. */
  readonly audit: boolean;
  readonly scenarios: readonly Scenario[];
}

/** What one run owns: its child processes and the temporary directories they and it write. */
interface BenchResources {
  readonly processes: BenchProcesses;
  readonly tempDirs: BenchTempDirs;
}

/** What the scenarios part of a run measured, the command lines it ran, and nginx as found. */
interface ScenarioRun {
  readonly results: ScenarioResult[];
  readonly commands: Record<string, readonly string[]>;
  readonly nginx: NginxInstall | undefined;
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
  for (const [index, scenario] of plan.scenarios.entries()) {
    progress(`scenario ${index + 1}/${plan.scenarios.length}: ${scenario.title}`);
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
    for (const endpoint of targets.endpoints) {
      const pid = targets.pids.get(cpuRoleOf(endpoint.target))!;
      const readRss = () => treeRssBytes(pid);
      clients[endpoint.target] = await openTargetClients(endpoint, channels, connections, readRss);
    }
    return clients;
  } catch (err) {
    await closeClients(clients);
    throw err;
  }
}

/** nginx on PATH unless --no-nginx; says on stderr when it is left out and why. */
async function findNginx(settings: BenchSettings): Promise<NginxInstall | undefined> {
  if (!settings.nginx) {
    progress('nginx skipped (--no-nginx): no nginx column');
    return undefined;
  }
  const nginx = await detectNginx();
  progress(nginx === undefined ? 'nginx not installed: no nginx column' : nginx.version);
  return nginx;
}

/**
 * Starts the targets (nginx where it is installed), opens their clients and runs the scenarios;
 * always closes the clients.
 */
async function measureScenarios(plan: BenchPlan, owned: BenchResources): Promise<ScenarioRun> {
  const { settings } = plan;
  const nginx = await findNginx(settings);
  const options = { logLevel: settings.gatewayLogLevel, progress, tempDirs: owned.tempDirs, nginx };
  const chosen = selectTargets({ ...settings, nginx: nginx !== undefined });
  const targets = await startTargets(owned.processes, chosen, options);
  const clients = await openClients(plan, targets);
  try {
    const results = await runScenarios(plan, targets, clients);
    return { results, commands: targets.commands, nginx };
  } finally {
    await closeClients(clients);
  }
}

/** Times the planned engine sections, before any child starts, so each has a core to itself. */
async function measureEngines(plan: BenchPlan, tempDirs: BenchTempDirs): Promise<EngineSections> {
  let masking;
  if (plan.engine) {
    progress('timing the masking engine alone (best of 5 passes per figure)');
    masking = measureMaskingEngine(progress);
  }
  let audit;
  if (plan.audit) {
    progress('timing the audit log alone (durable appends to segment files, then without I/O)');
    audit = await measureAuditEngine(tempDirs, progress);
  }
  return { masking, audit };
}

/** Writes the latency chart beside the JSON file; undefined when no scenario ran. */
function writeChart(
  startedAt: Date,
  settings: BenchSettings,
  results: readonly ScenarioResult[],
): string | undefined {
  if (results.length === 0) return undefined;
  const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'} x ${os.cpus().length}`;
  const subtitle =
    `run of ${startedAt.toISOString()} on ${machine}, ` +
    `${settings.rounds} rounds x ${settings.durationMs} ms per target`;
  const file = writeResultsFile(resultsFile(startedAt, 'svg'), latencyChart(results, subtitle));
  progress(`latency chart written to ${file}`);
  return file;
}

/** Measures what the plan asks, prints and writes the results; resolves with the exit code. */
async function runBench(plan: BenchPlan, owned: BenchResources): Promise<number> {
  const { settings } = plan;
  const startedAt = new Date();

  const engines = await measureEngines(plan, owned.tempDirs);
  const { results, commands, nginx } =
    plan.scenarios.length > 0
      ? await measureScenarios(plan, owned)
      : { results: [], commands: {}, nginx: undefined };

  const checks = requirementChecks(results, measuredTargets(results).includes('nginx'));
  process.stdout.write(`${formatTable(settings, engines, results, { nginx, checks })}\n`);
  const chartFile = writeChart(startedAt, settings, results);
  const facts = { startedAt, finishedAt: new Date(), settings, commands, nginx, checks, chartFile };
  progress(`results written to ${writeResults(facts, engines, results)}`);
  progress(`finished in ${((Date.now() - startedAt.getTime()) / 1_000).toFixed(0)} s`);
  return errorSum(errorTotals(results)) === 0 ? 0 : EXIT_FAILURE;
}

/** Stops the children, then removes the directories they wrote into. */
async function release(owned: BenchResources): Promise<void> {
  try {
    await owned.processes.stopAll();
  } finally {
    await owned.tempDirs.removeAll();
  }
}

/** Ctrl-C or SIGTERM stops the children before exiting; a second signal exits at once. */
function stopOnSignals(owned: BenchResources): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(EXIT_INTERRUPTED);
    stopping = true;
    progress(`${signal}: stopping the demo server, the gateways and nginx`);
    void release(owned).finally(() => process.exit(EXIT_INTERRUPTED));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** The parsed command line with its scenarios picked; throws BenchUsageError on bad usage. */
function planBench(args: readonly string[]): BenchPlan | 'help' {
  const command: BenchCommand = parseBenchArgs(args);
  if (command.help) return 'help';
  const { engine, audit, scenarios } = selectScenarios(
    createScenarios(),
    command.settings.scenarios,
  );
  return { settings: command.settings, engine, audit, scenarios };
}

/**
 * Parses `args`, runs the benchmark, and always stops the child processes it started and removes
 * the temporary directories it made.
 */
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

  const owned = { processes: new BenchProcesses(), tempDirs: new BenchTempDirs() };
  stopOnSignals(owned);
  try {
    return await runBench(plan, owned);
  } catch (err) {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_FAILURE;
  } finally {
    await release(owned);
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
