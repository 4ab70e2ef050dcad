// Scenario A: ModelInfer on the `echo` model with a 1 KiB BYTES input, in a closed loop.

import * as grpc from '@grpc/grpc-js';
import type { ModelInferRequest, ModelInferResponse } from '../src/demo/kserve-messages';
import type { InferenceClient } from './inference-client';
import { runClosedLoop, type RoundSamples, type Scenario, type ScenarioCall } from './scenario';
import {
  ECHO_PAYLOAD_BYTES,
  EXCHANGE_FIGURES,
  LATENCY_SERIES,
  measureExchanges,
  payloadText,
} from './scenario-figures';

/** A call taking this long counts as an error instead of stalling the round. */
const CALL_DEADLINE_MS = 10_000;

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
function inferOnce(request: ModelInferRequest, payload: Buffer): ScenarioCall<InferenceClient> {
  return (client: InferenceClient, samples: RoundSamples) =>
    new Promise((resolve) => {
      const startedMs = performance.now();
      const options = { deadline: Date.now() + CALL_DEADLINE_MS };
      client.ModelInfer(request, new grpc.Metadata(), options, (err, response) => {
        const elapsedMs = performance.now() - startedMs;
        const error = err === null ? checkEcho(response, payload) : `ModelInfer: ${err.message}`;
        if (error === undefined) {
          samples.completed += 1;
          samples.series[LATENCY_SERIES]!.push(elapsedMs);
        }
        resolve(error);
      });
    });
}

/** ModelInfer `echo` with a 1 KiB input at `concurrency` calls in flight. */
export function unaryScenario(concurrency: number): Scenario {
  const payload = Buffer.from(payloadText(ECHO_PAYLOAD_BYTES), 'utf8');
  const call = inferOnce(echoRequest(payload), payload);
  return {
    id: `unary-c${concurrency}`,
    family: 'unary',
    protocol: 'grpc',
    title: `ModelInfer echo 1 KiB, c=${concurrency}`,
    concurrency,
    figures: EXCHANGE_FIGURES,
    runRound: (clients, durationMs) =>
      runClosedLoop(clients.grpc, concurrency, durationMs, [LATENCY_SERIES], call),
    measure: measureExchanges,
  };
}
