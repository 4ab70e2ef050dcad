// The JSON results file: every figure, the engine sections', the requirement's targets, the
// settings, and a description of the machine.

import os from 'node:os';
import type { ScenarioResult, TargetResult } from './alternating-rounds';
import type { BenchSettings } from './bench-settings';
import { TARGET_NAMES } from './bench-targets';
import {
  compareFigures,
  cpuMicrosPerCompleted,
  cpuPercent,
  distributions,
  errorTotals,
} from './comparison';
import type { EngineSections } from './engine-figure';
import type { NginxInstall } from './nginx-target';
import type { RequirementCheck } from './requirement-checks';
import { resultsFile, writeResultsFile } from './results-files';
import { OPEN_STREAMS } from './rss-streams-scenario';
import { httpConnectionsFor } from './target-clients';
import { ECHO_PAYLOAD_BYTES, STREAM_TOKENS } from './scenario-figures';
import { fileSystemOf } from './temp-dirs';

/**
 * Bumped whenever a field changes meaning, so old result files can still be told apart.
 * 2: HTTP scenarios, `protocol` per scenario, settings.scenarios, cpuMicrosPerCompleted,
 * files named bench-*.json.
 * 3: the `masked` target (targets, figures' masked, maskedAdded and maskedRatio, errors, the
 * `maskedGateway` CPU role and command), settings.masked, `engine`. The plain gateway runs
 * `--mask none`, so its figures compare with version 2 files from before masking was on.
 * 4: the `audited` target (targets, figures' audited, auditedAdded, auditedRatio and
 * auditedDirectRatio, errors, the `auditedGateway` CPU role and command), settings.audited,
 * `auditEngine`, machine.tempDir, and the stream figures streamP50 and streamP99 (series
 * `streamMs`); the CPU rows of the table changed, not their JSON.
 * 5: the `secured` and `nginx` targets (targets, figures' secured, securedAdded,
 * securedDirectRatio, nginx, nginxAdded, nginxRatio and securedNginxRatio, errors, the
 * `securedGateway` and `nginx` CPU roles and commands), settings.secured and settings.nginx,
 * `nginx`, `requirements`, `chart`; the c32 and c16 scenarios became c64 (new ids), and the
 * scenarios `tls-handshakes` and `rss-streams` (figure kind `memory`) were added.
 */
const RESULTS_FORMAT_VERSION = 5;

/** When and how the run went, besides the per-scenario results. */
export interface RunFacts {
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly settings: BenchSettings;
  /** The child processes' command lines, as run. */
  readonly commands: Record<string, readonly string[]>;
  /** nginx as found on PATH; undefined when it is not installed. */
  readonly nginx: NginxInstall | undefined;
  readonly checks: readonly RequirementCheck[];
  /** The chart written beside the JSON file; undefined when there was nothing to chart. */
  readonly chartFile: string | undefined;
}

/** The machine the run measured, as far as Node can tell; the load average is at the end. */
function describeMachine() {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpuCount: cpus.length,
    availableParallelism: os.availableParallelism(),
    totalMemoryBytes: os.totalmem(),
    loadAverageAtEnd: os.loadavg(),
    nodeVersion: process.version,
    platform: process.platform,
    arch: process.arch,
    osRelease: os.release(),
    /** Where the audit section and the audited gateway write their segment files. */
    tempDir: { path: os.tmpdir(), fileSystem: fileSystemOf(os.tmpdir()) },
  };
}

function targetJson(target: TargetResult) {
  const { completed, errors, elapsedMs, firstError } = target.samples;
  return {
    completed,
    errors,
    elapsedMs,
    firstError: firstError ?? null,
    distributionsMs: distributions(target),
    cpuMs: target.cpuMs ?? null,
    cpuPercent: cpuPercent(target),
    cpuMicrosPerCompleted: cpuMicrosPerCompleted(target),
    rounds: target.rounds,
  };
}

function scenarioJson(result: ScenarioResult) {
  const { scenario, targets } = result;
  const perTarget: Record<string, ReturnType<typeof targetJson>> = {};
  for (const name of TARGET_NAMES) {
    const target = targets[name];
    if (target !== undefined) perTarget[name] = targetJson(target);
  }
  return {
    id: scenario.id,
    protocol: scenario.protocol,
    title: scenario.title,
    concurrency: scenario.concurrency,
    figures: compareFigures(result),
    targets: perTarget,
  };
}

/**
 * Writes bench/results/bench-<timestamp>.json (creating the folder) and returns its path.
 * Throws when the file cannot be written. NaN figures (no samples) are written as null, and so are
 * `engine` (masking) and `auditEngine` when the run skipped that section, `nginx` where it is not
 * installed and `chart` when none was written.
 */
export function writeResults(
  facts: RunFacts,
  engines: EngineSections,
  results: readonly ScenarioResult[],
): string {
  const httpConnections = httpConnectionsFor(results.map((result) => result.scenario));
  const document = {
    formatVersion: RESULTS_FORMAT_VERSION,
    benchmark: 'infergate',
    startedAt: facts.startedAt.toISOString(),
    finishedAt: facts.finishedAt.toISOString(),
    settings: {
      ...facts.settings,
      unaryPayloadBytes: ECHO_PAYLOAD_BYTES,
      streamTokens: STREAM_TOKENS,
      openStreams: OPEN_STREAMS,
      httpConnectionsPerTarget: httpConnections,
    },
    commands: facts.commands,
    machine: describeMachine(),
    nginx: facts.nginx ?? null,
    errors: errorTotals(results),
    engine: engines.masking ?? null,
    auditEngine: engines.audit ?? null,
    requirements: facts.checks.map((check) => ({
      ...check,
      value: check.value ?? null,
      limit: check.limit ?? null,
    })),
    chart: facts.chartFile ?? null,
    scenarios: results.map(scenarioJson),
  };
  return writeResultsFile(
    resultsFile(facts.startedAt, 'json'),
    `${JSON.stringify(document, null, 2)}\n`,
  );
}
