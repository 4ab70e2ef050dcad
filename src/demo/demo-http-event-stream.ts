// Server-sent event framing and the paced writing of a streamed answer, token step by step.

import type { HttpExchange } from './demo-http-exchange';

/** The data value that ends OpenAI and vLLM streams (OpenAI streaming). */
export const SSE_DONE = 'data: [DONE]\n\n';

/** One write of a stream: the events of one token position, or events around the tokens. */
export interface StreamStep {
  /** Event-stream text: one or more complete events. */
  readonly text: string;
  /** True for a step that carries generated tokens; only those are paced. */
  readonly token: boolean;
}

/**
 * A `data:` event holding one JSON document. JSON.stringify never emits a raw line break, so one
 * data line carries the whole document (WHATWG HTML §9.2.6).
 */
export function sseData(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

/** A typed event: an `event:` line naming it, then its JSON document (Responses API streams). */
export function sseEvent(type: string, value: unknown): string {
  return `event: ${type}\n${sseData(value)}`;
}

/**
 * Sends an event stream of `steps`, built lazily so a departed client stops the generation at
 * once. The first token step goes out at once and each later one `tokenDelayMs` after the
 * previous; steps without tokens are not delayed. When the socket asks to wait, the next step
 * waits for 'drain'. Resolves true when the stream was sent whole, false when the client left.
 */
export async function sendEventStream(
  exchange: HttpExchange,
  steps: Iterable<StreamStep>,
): Promise<boolean> {
  const delayMs = exchange.context.tokenDelayMs;
  let tokenStepsSent = 0;

  exchange.startEventStream();
  for (const step of steps) {
    if (step.token && tokenStepsSent > 0 && !(await exchange.sleep(delayMs))) {
      return false;
    }
    if (!(await exchange.write(step.text))) {
      return false;
    }
    tokenStepsSent += step.token ? 1 : 0;
  }
  exchange.end();
  return !exchange.gone;
}

/**
 * Holds a whole (non-streamed) answer for as long as generating `tokens` takes at the token
 * delay, like a model would. Resolves false when the client left meanwhile.
 */
export function holdForTokens(exchange: HttpExchange, tokens: number): Promise<boolean> {
  return exchange.sleep(exchange.context.tokenDelayMs * tokens);
}
