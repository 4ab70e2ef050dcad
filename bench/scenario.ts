// What a scenario is, and the closed loop of workers that runs one round of it.

import { setTimeout as sleep } from 'node:timers/promises';
import type { HttpConnection } from './http-client';
import type { InferenceClient } from './inference-client';
import type { ClientCredentials } from './target-credentials';

/** Pause after a failed call, so a dead target yields a countable error rate, not a spin. */
const ERROR_BACKOFF_MS = 10;

/** Samples and counts of one or more rounds of a scenario against one target. */
export interface RoundSamples {
  /** Calls (unary) or streams that completed as expected. */
  completed: number;
  errors: number;
  /** Time from the first call to the last worker's finish, summed over rounds. */
  elapsedMs: number;
  /** Recorded series in milliseconds by name (`latencyMs`, `firstTokenMs`, `tokenGapMs`). */
  readonly series: Record<string, number[]>;
  /** The first error's message, to say what failed without flooding the report. */
  firstError?: string;
}

/**
 * Whether a bigger figure is better (throughput) or worse (latency, memory). Only a latency has
 * an added time: one process's memory minus another's says nothing about either.
 */
export type FigureKind = 'throughput' | 'latency' | 'memory';

/** One reported figure of a scenario. */
export interface FigureSpec {
  readonly key: string;
  readonly label: string;
  readonly kind: FigureKind;
  readonly unit: string;
}

/** The wire protocol a scenario drives, and so which of a target's clients it uses. */
export type ScenarioProtocol = 'grpc' | 'http';

/** How to reach a target afresh and what it holds, for scenarios that need more than clients. */
export interface TargetAccess {
  /** 'host:port' of the target's HTTP listener. */
  readonly http: string;
  /** TLS material and token of a secured target; undefined for a cleartext one. */
  readonly credentials?: ClientCredentials;
  /** VmRSS of the target's serving process (with its children) in bytes; undefined off Linux. */
  readonly readRssBytes: () => number | undefined;
}

/** One target's clients, built identically for every target. */
export interface TargetClients {
  /** grpc-js channels, each its own HTTP/2 connection. */
  readonly grpc: readonly InferenceClient[];
  /** undici clients, each one HTTP/1.1 connection without pipelining. */
  readonly http: readonly HttpConnection[];
  readonly access: TargetAccess;
}

/** A closed-loop workload that can be run for a round against any target's clients. */
export interface Scenario {
  /** Stable identifier used in the JSON results (`unary-c64`). */
  readonly id: string;
  /** What `--scenarios` also selects it by: the id without its `-c<N>` suffix (`unary`). */
  readonly family: string;
  readonly protocol: ScenarioProtocol;
  /** Human description for the table (`ModelInfer echo 1 KiB, c=32`). */
  readonly title: string;
  readonly concurrency: number;
  /** True when it opens connections of its own and takes none of the target's HTTP clients. */
  readonly ownConnections?: boolean;
  /**
   * True when a round is a fixed workload rather than a closed loop for a duration: it gets no
   * warm-up and one measured round per target, whatever --rounds says.
   */
  readonly measuredOnce?: boolean;
  readonly figures: readonly FigureSpec[];
  /** Runs `concurrency` workers for `durationMs`; never rejects, failures count as errors. */
  runRound(clients: TargetClients, durationMs: number): Promise<RoundSamples>;
  /** The figures' values (keys of `figures`) from merged samples. */
  measure(samples: RoundSamples): Record<string, number>;
}

/** Empty samples with the given series. */
export function emptySamples(seriesNames: readonly string[]): RoundSamples {
  const series: Record<string, number[]> = {};
  for (const name of seriesNames) series[name] = [];
  return { completed: 0, errors: 0, elapsedMs: 0, series };
}

/** Appends `extra` to `total` in place: counts and elapsed time add, series concatenate. */
export function mergeSamples(total: RoundSamples, extra: RoundSamples): void {
  total.completed += extra.completed;
  total.errors += extra.errors;
  total.elapsedMs += extra.elapsedMs;
  total.firstError ??= extra.firstError;
  for (const [name, values] of Object.entries(extra.series)) {
    const target = (total.series[name] ??= []);
    for (const value of values) target.push(value);
  }
}

/**
 * One call of a scenario: records its own samples into `samples` on success and resolves with
 * undefined, or resolves with an error message. It must not reject.
 */
export type ScenarioCall<C> = (client: C, samples: RoundSamples) => Promise<string | undefined>;

/**
 * Runs `concurrency` workers, worker i on client i mod clients, each issuing `call` back to
 * back until `durationMs` has passed. A call in flight at the deadline is finished and
 * counted, and the elapsed time runs until the last worker stops, so rates stay consistent.
 */
export async function runClosedLoop<C>(
  clients: readonly C[],
  concurrency: number,
  durationMs: number,
  seriesNames: readonly string[],
  call: ScenarioCall<C>,
): Promise<RoundSamples> {
  const samples = emptySamples(seriesNames);
  const startedMs = performance.now();
  const deadlineMs = startedMs + durationMs;

  const worker = async (client: C) => {
    while (performance.now() < deadlineMs) {
      const error = await call(client, samples);
      if (error === undefined) continue;
      samples.errors += 1;
      samples.firstError ??= error;
      await sleep(ERROR_BACKOFF_MS);
    }
  };
  const workers = Array.from({ length: concurrency }, (_, index) =>
    worker(clients[index % clients.length]!),
  );
  await Promise.all(workers);

  samples.elapsedMs = performance.now() - startedMs;
  return samples;
}
