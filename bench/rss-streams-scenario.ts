// Scenario F: the resident memory of a target's serving process while 1,000 gRPC streams are
// open through it, each having carried one 16-token exchange and waiting for its next request.

import * as grpc from '@grpc/grpc-js';
import type { ModelInferRequest, ModelStreamInferResponse } from '../src/demo/kserve-messages';
import type { InferenceClient } from './inference-client';
import { emptySamples, type RoundSamples, type Scenario, type TargetClients } from './scenario';
import { chatRequest } from './stream-scenario';
import { summarize } from './stats';

/** How many streams the requirement holds open at once. */
export const OPEN_STREAMS = 1_000;

/**
 * Tokens of each stream's one exchange: enough for every per-stream part of the path (masking,
 * chunk records, holdback) to be in use, few enough that opening all streams takes about a
 * second, not the ten that 256 tokens each would.
 */
export const OPEN_STREAM_TOKENS = 16;

/** A stream that has not carried its exchange and closed in this time counts as an error. */
const STREAM_DEADLINE_MS = 60_000;

/** Decimal megabytes and kilobytes, as the memory figures are stated. */
const BYTES_PER_MB = 1e6;
const BYTES_PER_KB = 1e3;

const RSS_OPEN_SERIES = 'rssOpenMb';
const RSS_BEFORE_SERIES = 'rssBeforeMb';
const PER_STREAM_SERIES = 'perStreamKb';
const OPEN_SERIES = 'openAllMs';
const SERIES = [RSS_OPEN_SERIES, RSS_BEFORE_SERIES, PER_STREAM_SERIES, OPEN_SERIES];

/** One stream of the round: its call, its exchange's outcome, and its status once closed. */
interface OpenStream {
  readonly call: grpc.ClientDuplexStream<ModelInferRequest, ModelStreamInferResponse>;
  /** Undefined once the final response of all tokens came, else why the stream failed. */
  readonly exchanged: Promise<string | undefined>;
  readonly status: Promise<grpc.StatusObject>;
}

function isFinal(message: ModelStreamInferResponse): boolean {
  return message.infer_response?.parameters?.triton_final_response?.bool_param === true;
}

/**
 * Opens a stream and writes one request; `exchanged` settles at its final response. The stream
 * is not half-closed: like a client that keeps its stream for the next request, it stays open,
 * its exchange in the gateway unfinished, until the caller ends it.
 */
function openStream(client: InferenceClient): OpenStream {
  const call = client.ModelStreamInfer(new grpc.Metadata(), {
    deadline: Date.now() + STREAM_DEADLINE_MS,
  });
  const status = new Promise<grpc.StatusObject>((resolve) => call.once('status', resolve));
  let responses = 0;
  const exchanged = new Promise<string | undefined>((resolve) => {
    call.on('data', (message: ModelStreamInferResponse) => {
      responses += 1;
      if (message.error_message !== '') resolve(`stream error: ${message.error_message}`);
      if (!isFinal(message)) return;
      resolve(
        responses === OPEN_STREAM_TOKENS ? undefined : `got ${responses} of ${OPEN_STREAM_TOKENS}`,
      );
    });
    void status.then((ended) => resolve(`stream ended first: ${grpc.status[ended.code]}`));
  });
  // The failure also arrives as a non-OK 'status', which decides the outcome.
  call.on('error', () => undefined);
  call.write(chatRequest(OPEN_STREAM_TOKENS));
  return { call, exchanged, status };
}

/** Why a stream failed, from its exchange and its closing status; undefined when neither did. */
function streamError(exchanged: string | undefined, status: grpc.StatusObject) {
  if (exchanged !== undefined) return exchanged;
  if (status.code === grpc.status.OK) return undefined;
  return `ModelStreamInfer: ${grpc.status[status.code]} ${status.details}`;
}

/** Counts each stream as completed or failed; records memory only when every stream worked. */
function recordStreams(
  samples: RoundSamples,
  errors: readonly (string | undefined)[],
  memory: { before: number | undefined; open: number | undefined; openMs: number },
): void {
  for (const error of errors) {
    if (error === undefined) {
      samples.completed += 1;
      continue;
    }
    samples.errors += 1;
    samples.firstError ??= error;
  }
  const { before, open, openMs } = memory;
  if (samples.errors > 0 || before === undefined || open === undefined) return;
  samples.series[RSS_BEFORE_SERIES]!.push(before / BYTES_PER_MB);
  samples.series[RSS_OPEN_SERIES]!.push(open / BYTES_PER_MB);
  samples.series[PER_STREAM_SERIES]!.push((open - before) / errors.length / BYTES_PER_KB);
  samples.series[OPEN_SERIES]!.push(openMs);
}

/**
 * One round: reads the target's RSS, opens `count` streams over its channels in turn, waits until
 * each has its final response, reads the RSS again with all of them open, then half-closes them
 * and waits for every status. Never rejects; a failed stream is an error.
 */
async function holdStreamsOpen(clients: TargetClients, count: number): Promise<RoundSamples> {
  const samples = emptySamples(SERIES);
  const before = clients.access.readRssBytes();
  const startedMs = performance.now();
  const streams = Array.from({ length: count }, (_, index) =>
    openStream(clients.grpc[index % clients.grpc.length]!),
  );
  const exchanged = await Promise.all(streams.map((stream) => stream.exchanged));
  const openMs = performance.now() - startedMs;
  const open = clients.access.readRssBytes();

  for (const stream of streams) stream.call.end();
  const statuses = await Promise.all(streams.map((stream) => stream.status));
  samples.elapsedMs = performance.now() - startedMs;
  const errors = exchanged.map((error, index) => streamError(error, statuses[index]!));
  recordStreams(samples, errors, { before, open, openMs });
  return samples;
}

/** The largest sample of a series: memory targets are bounds, so the worst round counts. */
function largest(samples: RoundSamples, series: string): number {
  return summarize(samples.series[series] ?? []).max;
}

/** `count` gRPC streams held open at once, and the serving process's RSS meanwhile. */
export function rssStreamsScenario(count = OPEN_STREAMS): Scenario {
  return {
    id: 'rss-streams',
    family: 'rss-streams',
    protocol: 'grpc',
    title: `RSS with ${count} ModelStreamInfer streams open, each after one ${OPEN_STREAM_TOKENS}-token exchange`,
    concurrency: count,
    measuredOnce: true,
    figures: [
      { key: 'rssOpen', label: `rss, ${count} streams open`, kind: 'memory', unit: 'MB' },
      { key: 'rssBefore', label: 'rss before opening', kind: 'memory', unit: 'MB' },
      { key: 'perStream', label: 'rss per open stream', kind: 'memory', unit: 'KB' },
      { key: 'openAll', label: 'all open after', kind: 'latency', unit: 'ms' },
    ],
    runRound: (clients) => holdStreamsOpen(clients, count),
    measure: (samples) => ({
      rssOpen: largest(samples, RSS_OPEN_SERIES),
      rssBefore: largest(samples, RSS_BEFORE_SERIES),
      perStream: largest(samples, PER_STREAM_SERIES),
      openAll: largest(samples, OPEN_SERIES),
    }),
  };
}
