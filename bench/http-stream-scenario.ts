// Scenario D: OpenAI chat completion streamed as server-sent events from the `demo-chat` model.

import type { Readable } from 'node:stream';
import { postChatCompletion, requestError, type HttpConnection } from './http-client';
import { runClosedLoop, type RoundSamples, type Scenario, type ScenarioCall } from './scenario';
import {
  measureStreams,
  recordStream,
  STREAM_FIGURES,
  STREAM_SERIES_NAMES,
  STREAM_TOKENS,
} from './scenario-figures';
import { SseEventSplitter } from './sse-events';

/** The data of the event that ends an OpenAI stream. */
const DONE_DATA = '[DONE]';

/** What the bench reads of one chunk; anything else in it is not checked. */
interface ChunkFields {
  readonly content: unknown;
  readonly completionTokens: unknown;
  readonly error: unknown;
}

/** The request body every stream sends; usage is asked for, as SDK clients commonly do. */
function streamBody(tokens: number): string {
  return JSON.stringify({
    model: 'demo-chat',
    messages: [{ role: 'user', content: 'benchmark prompt' }],
    stream: true,
    stream_options: { include_usage: true },
    demo_tokens: tokens,
  });
}

/** The checked fields of one event's JSON data; undefined when it is not a JSON object. */
function readChunk(data: string): ChunkFields | undefined {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    // A malformed event fails this stream (the caller records why); it must not crash the run.
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const chunk = value as {
    choices?: { delta?: { content?: unknown } }[];
    usage?: { completion_tokens?: unknown };
    error?: unknown;
  };
  const content = Array.isArray(chunk.choices) ? chunk.choices[0]?.delta?.content : undefined;
  return { content, completionTokens: chunk.usage?.completion_tokens, error: chunk.error };
}

/** What one stream saw, kept apart until it ends so a failed stream leaves no samples. */
class SseObservation {
  private readonly splitter = new SseEventSplitter();
  private lastTokenMs = 0;
  readonly gapsMs: number[] = [];
  firstTokenMs: number | undefined;
  tokens = 0;
  completionTokens: unknown;
  done = false;
  error: string | undefined;

  constructor(readonly openedMs: number) {}

  /** Feeds one chunk of the body; every event it completes is stamped with its arrival. */
  onText(text: string): void {
    const nowMs = performance.now();
    for (const data of this.splitter.push(text)) this.onEvent(data, nowMs);
  }

  /** Why the stream did not go as planned once its body ended; undefined if it did. */
  verdict(expected: number): string | undefined {
    if (this.error !== undefined) return this.error;
    if (!this.done || this.splitter.hasPartialEvent) return 'stream ended without [DONE]';
    if (this.tokens !== expected) return `got ${this.tokens} of ${expected} content deltas`;
    if (this.completionTokens !== expected) return 'usage.completion_tokens is not the token count';
    return undefined;
  }

  private onEvent(data: string, nowMs: number): void {
    if (this.done) {
      this.error ??= 'event after [DONE]';
      return;
    }
    if (data === DONE_DATA) {
      this.done = true;
      return;
    }
    const chunk = readChunk(data);
    if (chunk === undefined || chunk.error !== undefined) {
      this.error ??= chunk === undefined ? 'event data is not a JSON object' : 'error event';
      return;
    }
    if (chunk.completionTokens !== undefined) this.completionTokens = chunk.completionTokens;
    if (typeof chunk.content === 'string' && chunk.content !== '') this.onToken(nowMs);
  }

  private onToken(nowMs: number): void {
    if (this.tokens === 0) this.firstTokenMs = nowMs - this.openedMs;
    else this.gapsMs.push(nowMs - this.lastTokenMs);
    this.lastTokenMs = nowMs;
    this.tokens += 1;
  }
}

/** Hands each decoded chunk of `body` to `onText`; resolves at its end, rejects on its error. */
function readText(body: Readable, onText: (text: string) => void): Promise<void> {
  body.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    body.on('data', onText);
    body.once('end', resolve);
    body.once('error', reject);
  });
}

/**
 * One stream: POST the request and read the event stream to its end. The first-token time runs
 * from issuing the request to the first event whose delta carries non-empty content (the opening
 * role-only event does not count); a token gap is the time between two such events; the whole
 * stream ends with the end of the body.
 */
function streamOnce(body: string, tokens: number): ScenarioCall<HttpConnection> {
  return async (connection: HttpConnection, samples: RoundSamples) => {
    const observation = new SseObservation(performance.now());
    try {
      const response = await postChatCompletion(connection, body);
      if (response.statusCode !== 200) {
        await response.body.dump();
        return `chat stream: HTTP ${response.statusCode}`;
      }
      await readText(response.body, (text) => observation.onText(text));
    } catch (err) {
      return requestError(err);
    }

    const streamMs = performance.now() - observation.openedMs;
    const error = observation.verdict(tokens);
    if (error === undefined) {
      recordStream(samples, observation.firstTokenMs!, observation.gapsMs, streamMs);
    }
    return error;
  };
}

/** POST /v1/chat/completions streamed, `demo-chat`, 256 tokens, `concurrency` streams in flight. */
export function httpStreamScenario(concurrency: number): Scenario {
  const call = streamOnce(streamBody(STREAM_TOKENS), STREAM_TOKENS);
  return {
    id: `http-stream-c${concurrency}`,
    family: 'http-stream',
    protocol: 'http',
    title: `OpenAI chat stream demo-chat ${STREAM_TOKENS} tokens, c=${concurrency}`,
    concurrency,
    figures: STREAM_FIGURES,
    runRound: (clients, durationMs) =>
      runClosedLoop(clients.http, concurrency, durationMs, STREAM_SERIES_NAMES, call),
    measure: measureStreams,
  };
}
