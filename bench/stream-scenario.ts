// Scenario B: ModelStreamInfer on the decoupled `demo-chat` model, one request per stream.

import * as grpc from '@grpc/grpc-js';
import type { ModelInferRequest, ModelStreamInferResponse } from '../src/demo/kserve-messages';
import type { InferenceClient } from './inference-client';
import { runClosedLoop, type RoundSamples, type Scenario, type ScenarioCall } from './scenario';
import {
  measureStreams,
  recordStream,
  STREAM_FIGURES,
  STREAM_SERIES_NAMES,
  STREAM_TOKENS,
} from './scenario-figures';

/** A stream taking this long counts as an error instead of stalling the round. */
const STREAM_DEADLINE_MS = 30_000;

/** The one request written on each stream: `demo_tokens` responses from `demo-chat`. */
export function chatRequest(tokens: number): ModelInferRequest {
  return {
    model_name: 'demo-chat',
    id: 'bench-stream',
    parameters: { demo_tokens: { int64_param: String(tokens) } },
    inputs: [
      {
        name: 'text_input',
        datatype: 'BYTES',
        shape: [1],
        contents: { bytes_contents: [Buffer.from('benchmark prompt')] },
      },
    ],
  };
}

/** What one stream saw, kept apart until it ends so a failed stream leaves no samples. */
class StreamObservation {
  private lastMs: number;
  readonly gapsMs: number[] = [];
  firstTokenMs: number | undefined;
  responses = 0;
  finalSeen = false;
  error: string | undefined;

  constructor(readonly openedMs: number) {
    this.lastMs = openedMs;
  }

  /** Records one response's arrival; returns true when it is the final one. */
  onResponse(message: ModelStreamInferResponse): boolean {
    const nowMs = performance.now();
    if (this.responses === 0) this.firstTokenMs = nowMs - this.openedMs;
    else this.gapsMs.push(nowMs - this.lastMs);
    this.lastMs = nowMs;
    this.responses += 1;

    if (message.error_message !== '') this.error ??= `stream error: ${message.error_message}`;
    const final = message.infer_response?.parameters?.triton_final_response?.bool_param === true;
    this.finalSeen ||= final;
    return final;
  }

  /** Why the stream did not go as planned once it ended with `status`; undefined if it did. */
  verdict(status: grpc.StatusObject, expected: number): string | undefined {
    if (status.code !== grpc.status.OK)
      return `ModelStreamInfer: ${grpc.status[status.code]} ${status.details}`;
    if (this.error !== undefined) return this.error;
    if (!this.finalSeen) return 'stream ended without a final response';
    return this.responses === expected ? undefined : `got ${this.responses} of ${expected} tokens`;
  }
}

/**
 * One stream: open, write the request, read until the final response, half-close, then wait
 * for the status. The first-token and whole-stream times run from opening the stream; the
 * whole stream ends with the status.
 */
function streamOnce(request: ModelInferRequest, tokens: number): ScenarioCall<InferenceClient> {
  return (client: InferenceClient, samples: RoundSamples) =>
    new Promise((resolve) => {
      const observation = new StreamObservation(performance.now());
      const options = { deadline: Date.now() + STREAM_DEADLINE_MS };
      const call = client.ModelStreamInfer(new grpc.Metadata(), options);
      call.on('data', (message: ModelStreamInferResponse) => {
        if (observation.onResponse(message)) call.end();
      });
      // The failure also arrives as a non-OK 'status', which decides the outcome.
      call.on('error', () => undefined);
      call.on('status', (status: grpc.StatusObject) => {
        const streamMs = performance.now() - observation.openedMs;
        const error = observation.verdict(status, tokens);
        if (error === undefined) {
          recordStream(samples, observation.firstTokenMs!, observation.gapsMs, streamMs);
        }
        resolve(error);
      });
      call.write(request);
    });
}

/** ModelStreamInfer `demo-chat`, 256 tokens per request, at `concurrency` streams in flight. */
export function streamScenario(concurrency: number): Scenario {
  const call = streamOnce(chatRequest(STREAM_TOKENS), STREAM_TOKENS);
  return {
    id: `stream-c${concurrency}`,
    family: 'stream',
    protocol: 'grpc',
    title: `ModelStreamInfer demo-chat ${STREAM_TOKENS} tokens, c=${concurrency}`,
    concurrency,
    figures: STREAM_FIGURES,
    runRound: (clients, durationMs) =>
      runClosedLoop(clients.grpc, concurrency, durationMs, STREAM_SERIES_NAMES, call),
    measure: measureStreams,
  };
}
