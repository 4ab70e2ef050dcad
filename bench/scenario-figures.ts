// The figures gRPC and HTTP scenarios share, so both protocols are reported alike.

import type { FigureSpec, RoundSamples } from './scenario';
import { ratePerSecond, summarize } from './stats';

/** Size of the text the echo model gets and must return, on either protocol. */
export const ECHO_PAYLOAD_BYTES = 1_024;

/** Tokens asked of each streamed request through `demo_tokens`, on either protocol. */
export const STREAM_TOKENS = 256;

/** Series of a request/response scenario: time from issuing a call to its complete response. */
export const LATENCY_SERIES = 'latencyMs';

/** Series of a stream scenario: time from opening a stream to its first token. */
export const FIRST_TOKEN_SERIES = 'firstTokenMs';

/** Series of a stream scenario: time between two consecutive tokens of one stream. */
export const TOKEN_GAP_SERIES = 'tokenGapMs';

/**
 * Series of a stream scenario: time from opening a stream to its end (the gRPC status, the end
 * of the HTTP body), which a gateway holds until the exchange's audit frame is durable.
 */
export const STREAM_SERIES = 'streamMs';

/** Every series a stream scenario records. */
export const STREAM_SERIES_NAMES: readonly string[] = [
  FIRST_TOKEN_SERIES,
  TOKEN_GAP_SERIES,
  STREAM_SERIES,
];

/** Figures of a request/response scenario (`measureExchanges`). */
export const EXCHANGE_FIGURES: readonly FigureSpec[] = [
  { key: 'throughput', label: 'throughput', kind: 'throughput', unit: 'req/s' },
  { key: 'latencyP50', label: 'latency p50', kind: 'latency', unit: 'ms' },
  { key: 'latencyP99', label: 'latency p99', kind: 'latency', unit: 'ms' },
];

/** Figures of a stream scenario (`measureStreams`). */
export const STREAM_FIGURES: readonly FigureSpec[] = [
  { key: 'streamRate', label: 'streams', kind: 'throughput', unit: 'streams/s' },
  { key: 'firstTokenP50', label: 'first token p50', kind: 'latency', unit: 'ms' },
  { key: 'firstTokenP99', label: 'first token p99', kind: 'latency', unit: 'ms' },
  { key: 'tokenGapP50', label: 'token gap p50', kind: 'latency', unit: 'ms' },
  { key: 'tokenGapP99', label: 'token gap p99', kind: 'latency', unit: 'ms' },
  { key: 'streamP50', label: 'whole stream p50', kind: 'latency', unit: 'ms' },
  { key: 'streamP99', label: 'whole stream p99', kind: 'latency', unit: 'ms' },
];

/** Values of `EXCHANGE_FIGURES` from merged samples. */
export function measureExchanges(samples: RoundSamples): Record<string, number> {
  const latency = summarize(samples.series[LATENCY_SERIES] ?? []);
  return {
    throughput: ratePerSecond(samples.completed, samples.elapsedMs),
    latencyP50: latency.p50,
    latencyP99: latency.p99,
  };
}

/** Values of `STREAM_FIGURES` from merged samples. */
export function measureStreams(samples: RoundSamples): Record<string, number> {
  const firstToken = summarize(samples.series[FIRST_TOKEN_SERIES] ?? []);
  const gap = summarize(samples.series[TOKEN_GAP_SERIES] ?? []);
  const stream = summarize(samples.series[STREAM_SERIES] ?? []);
  return {
    streamRate: ratePerSecond(samples.completed, samples.elapsedMs),
    firstTokenP50: firstToken.p50,
    firstTokenP99: firstToken.p99,
    tokenGapP50: gap.p50,
    tokenGapP99: gap.p99,
    streamP50: stream.p50,
    streamP99: stream.p99,
  };
}

/** Moves a successful stream's times (first token, token gaps, whole) into the round's series. */
export function recordStream(
  samples: RoundSamples,
  firstTokenMs: number,
  gapsMs: number[],
  streamMs: number,
): void {
  samples.completed += 1;
  samples.series[FIRST_TOKEN_SERIES]!.push(firstTokenMs);
  samples.series[STREAM_SERIES]!.push(streamMs);
  const gaps = samples.series[TOKEN_GAP_SERIES]!;
  for (const gap of gapsMs) gaps.push(gap);
}

/**
 * Printable text of exactly `bytes` bytes, the same on every run. It ends in a word, not a
 * space: the HTTP echo model answers the prompt's words, so trailing space would not return.
 */
export function payloadText(bytes: number): string {
  const phrase = 'infergate bench payload; ';
  const text = phrase.repeat(Math.ceil(bytes / phrase.length)).slice(0, bytes);
  return text.endsWith(' ') ? `${text.slice(0, -1)}.` : text;
}
