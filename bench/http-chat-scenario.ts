// Scenario C: OpenAI chat completion, not streamed, on the `echo` model with a 1 KiB message.

import { postChatCompletion, requestError, type HttpConnection } from './http-client';
import { runClosedLoop, type RoundSamples, type Scenario, type ScenarioCall } from './scenario';
import {
  ECHO_PAYLOAD_BYTES,
  EXCHANGE_FIGURES,
  LATENCY_SERIES,
  measureExchanges,
  payloadText,
} from './scenario-figures';

/** The request body every call sends: one user message holding the payload. */
function echoBody(payload: string): string {
  return JSON.stringify({ model: 'echo', messages: [{ role: 'user', content: payload }] });
}

/** Why a response body is not a chat completion echoing the payload; undefined when it is. */
function checkEcho(text: string, payload: string): string | undefined {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    // The body is the server's to get right; a broken one is this call's failure, not a crash.
    return 'response body is not JSON';
  }
  const choices = (document as { choices?: unknown }).choices;
  const first: unknown = Array.isArray(choices) ? choices[0] : undefined;
  const message = (first as { message?: { content?: unknown } } | undefined)?.message;
  if (typeof message?.content !== 'string') return 'response has no choices[0].message.content';
  return message.content === payload ? undefined : 'message content differs from the prompt';
}

/** One chat completion, timed from issuing the request to the end of its body. */
function chatOnce(body: string, payload: string): ScenarioCall<HttpConnection> {
  return async (connection: HttpConnection, samples: RoundSamples) => {
    const startedMs = performance.now();
    let elapsedMs: number;
    let error: string | undefined;
    try {
      const response = await postChatCompletion(connection, body);
      const text = await response.body.text();
      elapsedMs = performance.now() - startedMs;
      error =
        response.statusCode === 200
          ? checkEcho(text, payload)
          : `chat completion: HTTP ${response.statusCode}`;
    } catch (err) {
      return requestError(err);
    }
    if (error !== undefined) return error;

    samples.completed += 1;
    samples.series[LATENCY_SERIES]!.push(elapsedMs);
    return undefined;
  };
}

/** POST /v1/chat/completions, model `echo`, 1 KiB message, at `concurrency` requests in flight. */
export function httpChatScenario(concurrency: number): Scenario {
  const payload = payloadText(ECHO_PAYLOAD_BYTES);
  const call = chatOnce(echoBody(payload), payload);
  return {
    id: `http-chat-c${concurrency}`,
    family: 'http-chat',
    protocol: 'http',
    title: `OpenAI chat echo 1 KiB, c=${concurrency}`,
    concurrency,
    figures: EXCHANGE_FIGURES,
    runRound: (clients, durationMs) =>
      runClosedLoop(clients.http, concurrency, durationMs, [LATENCY_SERIES], call),
    measure: measureExchanges,
  };
}
