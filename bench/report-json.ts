// The JSON results file: every figure, the engine sections', the settings, and a description of
// the machine.

import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
import { httpConnectionsFor } from './target-clients';
import { ECHO_PAYLOAD_BYTES, STREAM_TOKENS } from './scenario-figures';
import { fileSystemOf } from './temp-dirs';

/** bench/results/ in the repository, from the compiled location dist/bench/. */
const RESULTS_DIR = path.resolve(__dirname, '..', '..', 'bench', 'results');

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
 */
const RESULTS_FORMAT_VERSION = 4;

/** When and how the run went, besides the per-scenario results. */
export interface RunFacts {
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly settings: BenchSettings;
  /** The child processes' command lines, as run. */
  readonly commands: Record<string, readonly string[]>;
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

/** The ISO 8601 basic form (20250101T120000Z): sortable, and no ':' to trouble file systems. */
function fileTimestamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/**
 * Writes bench/results/bench-<timestamp>.json (creating the folder) and returns its path.
 * Throws when the file cannot be written. NaN figures (no samples) are written as null, and so are
 * `engine` (masking) and `auditEngine` when the run skipped that section.
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
      httpConnectionsPerTarget: httpConnections,
    },
    commands: facts.commands,
    machine: describeMachine(),
    errors: errorTotals(results),
    engine: engines.masking ?? null,
    auditEngine: engines.audit ?? null,
    scenarios: results.map(scenarioJson),
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `bench-${fileTimestamp(facts.startedAt)}.json`);
  writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
  return file;
}
