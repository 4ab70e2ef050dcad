// The streams of the soak run: prompts with card data echoed back in small pieces over gRPC and
// SSE, each answer read whole and judged against the one-shot masker's output.

import * as grpc from '@grpc/grpc-js';
import type { Readable } from 'node:stream';
import type { ModelInferRequest, ModelStreamInferResponse } from '../src/demo/kserve-messages';
import { maskCardData } from '../src/masking/card-masker';
import { postChatCompletion, requestError, type HttpConnection } from './http-client';
import type { InferenceClient } from './inference-client';
import { SseEventSplitter } from './sse-events';

/** Bytes (gRPC) or code points (SSE) per echoed piece: every card number crosses many. */
const PIECE_SIZE = 3;

/** A stream taking longer than this fails instead of stalling the run. */
const STREAM_DEADLINE_MS = 30_000;

/** Test card numbers of several brands, grouped as people and systems write them. */
const CARDS: readonly string[] = [
  '4111 1111 1111 1111',
  '5555-5555-5555-4444',
  '378282246310005',
  '6011 1111 1111 1117',
  '3530111333300000',
  '2223 0031 2200 3222',
];

/** One prompt: the model echoes it, so the answer carries its card number. */
export interface CardPrompt {
  readonly text: string;
  /** What a client must receive: the one-shot masker's output on the whole text. */
  readonly masked: string;
  /** The card number as the prompt writes it. */
  readonly card: string;
  /** The card number's digits, which no answer and no audit frame may hold. */
  readonly digits: string;
}

/** The prompts, each with a card number, a security code and an expiry date. */
export const CARD_PROMPTS: readonly CardPrompt[] = CARDS.map((card, index) => {
  const text = `Order ${1000 + index}: charge card ${card}, CVV 123, expires 09/29, amount 19.99.`;
  const bytes = Buffer.from(text);
  maskCardData(bytes);
  return { text, masked: bytes.toString(), card, digits: card.replace(/\D/g, '') };
});

/** How one stream ended: the text it carried, or why it failed. */
export type StreamOutcome =
  { readonly ok: true; readonly text: string } | { readonly ok: false; readonly error: string };

function inferRequest(prompt: CardPrompt, id: string): ModelInferRequest {
  return {
    model_name: 'echo-stream',
    id,
    parameters: { demo_token_bytes: { int64_param: String(PIECE_SIZE) } },
    inputs: [
      {
        name: 'text_input',
        datatype: 'BYTES',
        shape: [1],
        contents: { bytes_contents: [Buffer.from(prompt.text)] },
      },
    ],
  };
}

/** The text pieces of one ModelStreamInfer response, in order. */
function responsePieces(message: ModelStreamInferResponse): Buffer[] {
  const outputs = message.infer_response?.outputs ?? [];
  return outputs.flatMap((output) => output.contents?.bytes_contents ?? []);
}

/** One ModelStreamInfer stream: the prompt written, every response read until the status. */
export function grpcStream(client: InferenceClient, prompt: CardPrompt): Promise<StreamOutcome> {
  return new Promise((resolve) => {
    const deadline = Date.now() + STREAM_DEADLINE_MS;
    const call = client.ModelStreamInfer(new grpc.Metadata(), { deadline });
    const pieces: Buffer[] = [];
    let error: string | undefined;
    call.on('data', (message: ModelStreamInferResponse) => {
      if (message.error_message !== '') error ??= `stream error: ${message.error_message}`;
      pieces.push(...responsePieces(message));
    });
    call.on('error', (err: grpc.ServiceError) => {
      error ??= `ModelStreamInfer: ${grpc.status[err.code]} ${err.details}`;
    });
    call.on('status', () => {
      // 'status' may come before a pending 'error': let it land first.
      setImmediate(() =>
        resolve(
          error === undefined
            ? { ok: true, text: Buffer.concat(pieces).toString() }
            : { ok: false, error },
        ),
      );
    });
    call.write(inferRequest(prompt, `soak-${Date.now()}`));
    call.end();
  });
}

/** The content deltas of an OpenAI stream's body, joined; throws for a stream cut short. */
async function readDeltas(body: Readable): Promise<string> {
  const splitter = new SseEventSplitter();
  let text = '';
  let done = false;
  for await (const chunk of body) {
    for (const data of splitter.push(String(chunk))) {
      if (data === '[DONE]') {
        done = true;
        continue;
      }
      const event = JSON.parse(data) as { choices?: { delta?: { content?: string } }[] };
      text += event.choices?.[0]?.delta?.content ?? '';
    }
  }
  if (!done) throw new Error('stream ended without [DONE]');
  return text;
}

/** One OpenAI chat stream of the echo model, read to `[DONE]`. */
export async function sseStream(
  connection: HttpConnection,
  prompt: CardPrompt,
): Promise<StreamOutcome> {
  const body = JSON.stringify({
    model: 'echo-stream',
    messages: [{ role: 'user', content: prompt.text }],
    stream: true,
    demo_token_bytes: PIECE_SIZE,
  });
  try {
    const response = await postChatCompletion(connection, body);
    if (response.statusCode !== 200) {
      await response.body.dump();
      return { ok: false, error: `HTTP ${response.statusCode}` };
    }
    return { ok: true, text: await readDeltas(response.body) };
  } catch (err) {
    return { ok: false, error: requestError(err) };
  }
}

/** Whether `text` holds the card number's digits, whatever separates them. */
export function holdsCard(text: string, prompt: CardPrompt): boolean {
  return text.replace(/\D/g, '').includes(prompt.digits);
}
