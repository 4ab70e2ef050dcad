// `npm run bench`: what infergate costs on the gRPC path, measured against the demo server.

import { runAlternatingRounds, type ScenarioResult } from './alternating-rounds';
import { BENCH_USAGE, BenchUsageError, parseBenchArgs, type BenchSettings } from './bench-settings';
import { errorTotals } from './comparison';
import {
  closeClients,
  createClients,
  waitForClients,
  type InferenceClient,
} from './inference-client';
import { readCpuTimes } from './process-cpu';
import { BenchProcesses, type BenchProcess } from './processes';
import { formatTable } from './report-table';
import { writeResults } from './report-json';
import type { Scenario } from './scenario';
import { streamScenario } from './stream-scenario';
import { unaryScenario } from './unary-scenario';

/** Exit codes: 0 clean run, 1 a target failed to start or a call failed, 2 bad usage. */
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;
/** 128 + SIGINT, as a shell reports an interrupted command. */
const EXIT_INTERRUPTED = 130;

const SCENARIOS: readonly Scenario[] = [
  unaryScenario(1),
  unaryScenario(32),
  streamScenario(1),
  streamScenario(16),
];

/** The running demo server and gateway, with the addresses clients connect to. */
interface Targets {
  readonly demo: BenchProcess;
  readonly gateway: BenchProcess;
  readonly demoAddress: string;
  readonly gatewayAddress: string;
  readonly commands: Record<string, readonly string[]>;
}

function progress(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

async function startTargets(processes: BenchProcesses, settings: BenchSettings): Promise<Targets> {
  const demoArgs = ['demo-server', '--port', '0', '--token-delay-ms', '0'];
  const demo = await processes.start('demo-server', demoArgs, ['demo']);
  const demoAddress = demo.addresses.get('demo')!;
  progress(`demo server listening on ${demoAddress} (pid ${demo.pid})`);

  const gatewayArgs = ['start', '--upstream', `grpc://${demoAddress}`, '--grpc-port', '0'];
  gatewayArgs.push('--admin-port', '0', '--log-level', settings.gatewayLogLevel);
  const gateway = await processes.start('gateway', gatewayArgs, ['grpc', 'admin']);
  const gatewayAddress = gateway.addresses.get('grpc')!;
  progress(`infergate listening on ${gatewayAddress} (pid ${gateway.pid})`);
  const commands = { demo: demoArgs, gateway: gatewayArgs };
  return { demo, gateway, demoAddress, gatewayAddress, commands };
}

/** Runs every scenario in turn against both targets' clients. */
async function runScenarios(
  settings: BenchSettings,
  targets: Targets,
  clients: { direct: InferenceClient[]; infergate: InferenceClient[] },
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
  for (const scenario of SCENARIOS) {
    results.push(await runAlternatingRounds(scenario, settings, context));
  }
  return results;
}

/** Starts both targets, measures, prints and writes the results; resolves with the exit code. */
async function runBench(settings: BenchSettings, processes: BenchProcesses): Promise<number> {
  const startedAt = new Date();
  const targets = await startTargets(processes, settings);
  const clients = {
    direct: createClients(targets.demoAddress, settings.channels),
    infergate: createClients(targets.gatewayAddress, settings.channels),
  };
  try {
    await waitForClients('demo server', clients.direct);
    await waitForClients('infergate', clients.infergate);
    const results = await runScenarios(settings, targets, clients);

    process.stdout.write(`${formatTable(settings, results)}\n`);
    const facts = { startedAt, finishedAt: new Date(), settings, commands: targets.commands };
    progress(`results written to ${writeResults(facts, results)}`);
    const totals = errorTotals(results);
    return totals.direct + totals.infergate === 0 ? 0 : EXIT_FAILURE;
  } finally {
    closeClients(clients.direct);
    closeClients(clients.infergate);
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

/** Parses `args`, runs the benchmark, and always stops the child processes it started. */
async function main(args: readonly string[]): Promise<number> {
  let command;
  try {
    command = parseBenchArgs(args);
  } catch (err) {
    if (!(err instanceof BenchUsageError)) throw err;
    process.stderr.write(`bench: ${err.message}\n\n${BENCH_USAGE}\n`);
    return EXIT_USAGE;
  }
  if (command.help) {
    process.stdout.write(`${BENCH_USAGE}\n`);
    return 0;
  }

  const processes = new BenchProcesses();
  stopOnSignals(processes);
  try {
    return await runBench(command.settings, processes);
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
