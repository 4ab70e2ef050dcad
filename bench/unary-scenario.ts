// Scenario A: ModelInfer on the `echo` model with a 1 KiB BYTES input, in a closed loop.

import * as grpc from '@grpc/grpc-js';
import type { ModelInferRequest, ModelInferResponse } from '../src/demo/kserve-messages';
import type { InferenceClient } from './inference-client';
import { ratePerSecond, summarize } from './stats';
import { runClosedLoop, type RoundSamples, type Scenario, type ScenarioCall } from './scenario';

/** Size of the text the echo model gets and must return. */
export const UNARY_PAYLOAD_BYTES = 1_024;

/** A call taking this long counts as an error instead of stalling the round. */
const CALL_DEADLINE_MS = 10_000;

const LATENCY = 'latencyMs';

/** Printable text of exactly `bytes` bytes, the same on every run. */
function payloadText(bytes: number): Buffer {
  const phrase = 'infergate bench payload; ';
  return Buffer.from(phrase.repeat(Math.ceil(bytes / phrase.length)).slice(0, bytes), 'utf8');
}

/** The request every call sends: one BYTES element in typed `contents`, not raw. */
function echoRequest(payload: Buffer): ModelInferRequest {
  return {
    model_name: 'echo',
    id: 'bench-unary',
    inputs: [
      {
        name: 'text_input',
        datatype: 'BYTES',
        shape: [1],
        contents: { bytes_contents: [payload] },
      },
    ],
  };
}

/** Why a response is not the echo of the payload; undefined when it is. */
function checkEcho(response: ModelInferResponse | undefined, payload: Buffer): string | undefined {
  const output = response?.outputs?.[0];
  const element = output?.contents?.bytes_contents?.[0];
  if (output?.name !== 'text_output' || element === undefined) {
    return 'response has no text_output element';
  }
  return element.equals(payload) ? undefined : 'text_output differs from text_input';
}

/** One ModelInfer call, timed from the call to its callback. */
function inferOnce(request: ModelInferRequest, payload: Buffer): ScenarioCall {
  return (client: InferenceClient, samples: RoundSamples) =>
    new Promise((resolve) => {
      const startedMs = performance.now();
      const options = { deadline: Date.now() + CALL_DEADLINE_MS };
      client.ModelInfer(request, new grpc.Metadata(), options, (err, response) => {
        const elapsedMs = performance.now() - startedMs;
        const error = err === null ? checkEcho(response, payload) : `ModelInfer: ${err.message}`;
        if (error === undefined) {
          samples.completed += 1;
          samples.series[LATENCY]!.push(elapsedMs);
        }
        resolve(error);
      });
    });
}

/** ModelInfer `echo` with a 1 KiB input at `concurrency` calls in flight. */
export function unaryScenario(concurrency: number): Scenario {
  const payload = payloadText(UNARY_PAYLOAD_BYTES);
  const call = inferOnce(echoRequest(payload), payload);
  return {
    id: `unary-c${concurrency}`,
    title: `ModelInfer echo 1 KiB, c=${concurrency}`,
    concurrency,
    figures: [
      { key: 'throughput', label: 'throughput', kind: 'throughput', unit: 'req/s' },
      { key: 'latencyP50', label: 'latency p50', kind: 'latency', unit: 'ms' },
      { key: 'latencyP99', label: 'latency p99', kind: 'latency', unit: 'ms' },
    ],
    runRound: (clients, durationMs) =>
      runClosedLoop(clients, concurrency, durationMs, [LATENCY], call),
    measure: (samples) => {
      const latency = summarize(samples.series[LATENCY] ?? []);
      return {
        throughput: ratePerSecond(samples.completed, samples.elapsedMs),
        latencyP50: latency.p50,
        latencyP99: latency.p99,
      };
    },
  };
}
