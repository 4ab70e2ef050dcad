// `npm run bench`: what infergate costs on the gRPC and HTTP paths, against the demo server.

import { runAlternatingRounds, type ScenarioResult, type TargetName } from './alternating-rounds';
import {
  BENCH_USAGE,
  BenchUsageError,
  parseBenchArgs,
  type BenchCommand,
  type BenchSettings,
} from './bench-settings';
import { errorTotals } from './comparison';
import { readCpuTimes } from './process-cpu';
import { BenchProcesses, type BenchProcess } from './processes';
import { formatTable } from './report-table';
import { writeResults } from './report-json';
import type { Scenario, ScenarioProtocol, TargetClients } from './scenario';
import { createScenarios, selectScenarios } from './scenario-catalog';
import { closeTargetClients, httpConnectionsFor, openTargetClients } from './target-clients';

/** Exit codes: 0 clean run, 1 a target failed to start or a call failed, 2 bad usage. */
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;
/** 128 + SIGINT, as a shell reports an interrupted command. */
const EXIT_INTERRUPTED = 130;

/** What a run does: its settings and the scenarios --scenarios picked, in run order. */
interface BenchPlan {
  readonly settings: BenchSettings;
  readonly scenarios: readonly Scenario[];
}

/** The running demo server and gateway, with the addresses clients connect to. */
interface Targets {
  readonly demo: BenchProcess;
  readonly gateway: BenchProcess;
  /** 'host:port' of each target's gRPC and HTTP listener. */
  readonly addresses: Record<TargetName, Record<ScenarioProtocol, string>>;
  readonly commands: Record<string, readonly string[]>;
}

function progress(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

function listening(
  name: string,
  child: BenchProcess,
  addresses: Record<ScenarioProtocol, string>,
): void {
  progress(
    `${name} listening on gRPC ${addresses.grpc}, HTTP ${addresses.http} (pid ${child.pid})`,
  );
}

/** Starts the demo server (both sides), then the gateway in front of both of its sides. */
async function startTargets(processes: BenchProcesses, settings: BenchSettings): Promise<Targets> {
  const demoArgs = ['demo-server', '--port', '0', '--http-port', '0', '--token-delay-ms', '0'];
  const demo = await processes.start('demo-server', demoArgs, ['demo', 'demo-http']);
  const direct = { grpc: demo.addresses.get('demo')!, http: demo.addresses.get('demo-http')! };
  listening('demo server', demo, direct);

  const gatewayArgs = ['start', '--upstream', `grpc://${direct.grpc}`];
  gatewayArgs.push('--upstream', `http://${direct.http}`, '--grpc-port', '0', '--http-port', '0');
  gatewayArgs.push('--admin-port', '0', '--log-level', settings.gatewayLogLevel);
  // The plain proxy path: cleartext, no certificates or tokens, as the demo server is reached.
  gatewayArgs.push('--insecure');
  const gateway = await processes.start('gateway', gatewayArgs, ['grpc', 'http', 'admin']);
  const infergate = { grpc: gateway.addresses.get('grpc')!, http: gateway.addresses.get('http')! };
  listening('infergate', gateway, infergate);

  const commands = { demo: demoArgs, gateway: gatewayArgs };
  return { demo, gateway, addresses: { direct, infergate }, commands };
}

/** Runs every planned scenario in turn against both targets' clients. */
async function runScenarios(
  plan: BenchPlan,
  targets: Targets,
  clients: Record<TargetName, TargetClients>,
): Promise<ScenarioResult[]> {
  const pids = new Map([
    ['demo', targets.demo.pid],
    ['gateway', targets.gateway.pid],
  ]);
  const checkHealthy = () => {
    for (const child of [targets.demo, targets.gateway]) {
      if (child.exited()) throw new Error(`${child.name} exited during the run`);
    }
  };
  const context = { clients, readCpu: () => readCpuTimes(pids), checkHealthy, progress };

  const results: ScenarioResult[] = [];
  for (const scenario of plan.scenarios) {
    results.push(await runAlternatingRounds(scenario, plan.settings, context));
  }
  return results;
}

/** Opens both targets' clients alike; on a failure closes those already open, then rejects. */
async function openClients(
  plan: BenchPlan,
  targets: Targets,
): Promise<Record<TargetName, TargetClients>> {
  const { channels } = plan.settings;
  const connections = httpConnectionsFor(plan.scenarios);
  const { direct, infergate } = targets.addresses;
  const directClients = await openTargetClients('demo server', direct, channels, connections);
  try {
    const gatewayClients = await openTargetClients('infergate', infergate, channels, connections);
    return { direct: directClients, infergate: gatewayClients };
  } catch (err) {
    await closeTargetClients(directClients);
    throw err;
  }
}

/** Starts both targets, measures, prints and writes the results; resolves with the exit code. */
async function runBench(plan: BenchPlan, processes: BenchProcesses): Promise<number> {
  const { settings } = plan;
  const startedAt = new Date();
  const targets = await startTargets(processes, settings);
  const clients = await openClients(plan, targets);
  try {
    const results = await runScenarios(plan, targets, clients);

    process.stdout.write(`${formatTable(settings, results)}\n`);
    const facts = { startedAt, finishedAt: new Date(), settings, commands: targets.commands };
    progress(`results written to ${writeResults(facts, results)}`);
    const totals = errorTotals(results);
    return totals.direct + totals.infergate === 0 ? 0 : EXIT_FAILURE;
  } finally {
    await closeTargetClients(clients.direct);
    await closeTargetClients(clients.infergate);
  }
}

/** Ctrl-C or SIGTERM stops the children before exiting; a second signal exits at once. */
function stopOnSignals(processes: BenchProcesses): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(EXIT_INTERRUPTED);
    stopping = true;
    progress(`${signal}: stopping the demo server and the gateway`);
    void processes.stopAll().finally(() => process.exit(EXIT_INTERRUPTED));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** The parsed command line with its scenarios picked; throws BenchUsageError on bad usage. */
function planBench(args: readonly string[]): BenchPlan | 'help' {
  const command: BenchCommand = parseBenchArgs(args);
  if (command.help) return 'help';
  const scenarios = selectScenarios(createScenarios(), command.settings.scenarios);
  return { settings: command.settings, scenarios };
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
