// The audit log alone, in the bench process with no child running: durable group commit over
// real segment files, append-to-durable latency under load, and the log's and the codec's own
// costs without a store.

import pino from 'pino';
import { frameHash, genesisHash } from '../src/audit/audit-chain';
import type { AuditFrame } from '../src/audit/audit-events';
import { encodeFrame } from '../src/audit/audit-frame-codec';
import { AuditLog } from '../src/audit/audit-log';
import { generateAuditSigningKey } from '../src/audit/audit-signing';
import type { AuditStore } from '../src/audit/audit-store';
import { SegmentFileStore } from '../src/audit/segment-file-store';
import { DEFAULTS } from '../src/config/defaults';
import {
  CountingStore,
  driveClosedLoop,
  finishedEvents,
  storeWithoutIo,
  type LoadSamples,
} from './audit-load';
import {
  bestSecondsPerCall,
  engineFigure,
  type AuditSection,
  type EngineFigure,
  type EngineTarget,
} from './engine-figure';
import { ratePerSecond, summarize } from './stats';
import { fileSystemOf, type BenchTempDirs } from './temp-dirs';

/** Appends pending at once, as that many concurrent exchanges finishing would keep pending. */
const IN_FLIGHT = 256;
/** Unrecorded: the JIT settles and the first segment is made. */
const WARMUP_MS = 500;
const LOADED_MS = 2_000;
/** One append at a time: the latency floor, one write and one fdatasync per frame. */
const SINGLE_MS = 1_000;
const ENCODE_PASSES = 5;
const ENCODE_FRAMES_PER_PASS = 20_000;
const LOG_ID = 'bench-audit';

/** What the durable runs measured over the segment files. */
interface DurableRuns {
  readonly loaded: LoadSamples;
  readonly meanBatch: number;
  readonly single: LoadSamples;
}

/** A log over `store` with the gateway's default checkpoints, signed by a key made for the run. */
function openLog(store: AuditStore): Promise<AuditLog> {
  const { checkpointEveryFrames, checkpointIntervalMs, maxPendingFrames, retryIntervalMs } =
    DEFAULTS.audit;
  return AuditLog.open({
    logId: LOG_ID,
    store,
    signingKey: generateAuditSigningKey(),
    checkpointEveryFrames,
    checkpointIntervalMs,
    maxPendingFrames,
    retryIntervalMs,
    logger: pino({ level: 'silent' }),
  });
}

/** Warm-up, then IN_FLIGHT appends in flight, then one at a time, over segment files in `dir`. */
async function measureDurable(dir: string): Promise<DurableRuns> {
  const store = new CountingStore(new SegmentFileStore({ dir }));
  const log = await openLog(store);
  const next = finishedEvents();
  try {
    await driveClosedLoop(log, IN_FLIGHT, WARMUP_MS, next);
    store.reset();
    const loaded = await driveClosedLoop(log, IN_FLIGHT, LOADED_MS, next);
    const meanBatch = store.meanBatch();
    const single = await driveClosedLoop(log, 1, SINGLE_MS, next);
    return { loaded, meanBatch, single };
  } finally {
    await log.close();
  }
}

/** IN_FLIGHT appends in flight on a log whose store keeps nothing: the log's own rate. */
async function measureWithoutIo(): Promise<LoadSamples> {
  const log = await openLog(storeWithoutIo());
  const next = finishedEvents();
  try {
    await driveClosedLoop(log, IN_FLIGHT, WARMUP_MS, next);
    return await driveClosedLoop(log, IN_FLIGHT, LOADED_MS / 2, next);
  } finally {
    await log.close();
  }
}

/** Frames per second of what the log does per frame on the caller's turn: encode, then hash. */
function measureEncodeHash(): number {
  const next = finishedEvents();
  let previousHash = genesisHash(LOG_ID);
  let sequence = 0;
  const seconds = bestSecondsPerCall(ENCODE_PASSES, ENCODE_FRAMES_PER_PASS, () => {
    sequence += 1;
    const timeUnixMicros = Math.floor((performance.timeOrigin + performance.now()) * 1000);
    // Built as AuditLog builds it: spreading a second object would cost more than the codec.
    const frame = { logId: LOG_ID, sequence, timeUnixMicros, previousHash, ...next() };
    previousHash = frameHash(encodeFrame(frame as AuditFrame));
  });
  return 1 / seconds;
}

function rate(samples: LoadSamples): number {
  return ratePerSecond(samples.completed, samples.elapsedMs);
}

/** The targets: 50,000 durable frames/s on one core, each durable within 1 ms (p99). */
const DURABLE_RATE_TARGET: EngineTarget = { bound: 'atLeast', value: 50_000 };
const DURABLE_P99_TARGET_MS: EngineTarget = { bound: 'below', value: 1 };

function durableFigures(runs: DurableRuns): EngineFigure[] {
  const loaded = summarize(runs.loaded.latenciesMs);
  const single = summarize(runs.single.latenciesMs);
  const many = `${IN_FLIGHT} in flight`;
  const label = `durable group commit, ${many}`;
  return [
    engineFigure('auditDurableRate', label, 'frames/s', rate(runs.loaded), DURABLE_RATE_TARGET),
    engineFigure('auditMeanBatch', `mean batch, ${many}`, 'frames', runs.meanBatch),
    engineFigure('auditLatencyP50', `append to durable p50, ${many}`, 'ms', loaded.p50),
    engineFigure(
      'auditLatencyP99',
      `append to durable p99, ${many}`,
      'ms',
      loaded.p99,
      DURABLE_P99_TARGET_MS,
    ),
    engineFigure('auditSingleLatencyP50', 'append to durable p50, 1 in flight', 'ms', single.p50),
    engineFigure('auditSingleLatencyP99', 'append to durable p99, 1 in flight', 'ms', single.p99),
  ];
}

/** The figures measured without a store: the log's own rate, and encode + hash alone. */
async function figuresWithoutIo(): Promise<EngineFigure[]> {
  const withoutIo = rate(await measureWithoutIo());
  const label = `log without store I/O, ${IN_FLIGHT} in flight`;
  return [
    engineFigure('auditNoIoRate', label, 'frames/s', withoutIo),
    engineFigure('auditEncodeHashRate', 'encode + hash alone', 'frames/s', measureEncodeHash()),
  ];
}

function report(figures: readonly EngineFigure[], progress: (line: string) => void): void {
  for (const figure of figures) {
    const value = figure.value.toFixed(figure.unit === 'frames/s' ? 0 : 3);
    progress(`audit           ${figure.label.padEnd(40)} ${value} ${figure.unit}`);
  }
}

/**
 * Measures the audit log in the bench process: an AuditLog over a SegmentFileStore in a temporary
 * directory from `tempDirs` (removed before it resolves), then over a store without I/O, then
 * encode + hash alone. Run it before any child starts. Rejects when the directory cannot be
 * made or written; a missed target is reported in the figure.
 */
export async function measureAuditEngine(
  tempDirs: BenchTempDirs,
  progress: (line: string) => void,
): Promise<AuditSection> {
  const dir = await tempDirs.make('audit-engine');
  const storage = fileSystemOf(dir);
  progress(`audit           segment files in ${dir} (${storage})`);
  let durable;
  try {
    durable = durableFigures(await measureDurable(dir));
  } finally {
    await tempDirs.remove(dir);
  }
  report(durable, progress);

  const withoutIo = await figuresWithoutIo();
  report(withoutIo, progress);
  return { storage, figures: [...durable, ...withoutIo] };
}
