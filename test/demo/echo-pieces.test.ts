// The echo models' piece cutting, alone and through echo-stream on a real gRPC demo server.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { decodeBytesElements, encodeBytesElements } from '../../src/demo/bytes-tensor';
import { bytePieces, codePointPieces, wordPieces } from '../../src/demo/echo-pieces';
import { tokenize } from '../../src/demo/reply-script';
import { createDemoFixture, streamAll, unary, type Message } from './demo-fixture';

const PROMPT = 'Pay with 4111 1111 1111 1111, expiry 12/29 ';

/** Multi-byte UTF-8 in every position class: 2-byte, 3-byte and 4-byte characters. */
const UTF8_PROMPT = 'Kärte 4111-1111-1111-1111 € 😀 ok';

interface DecodedResponse {
  id: string;
  parameters: Record<string, { bool_param?: boolean }>;
  outputs: { contents: { bytes_contents: Buffer[] } | null }[];
  raw_output_contents: Buffer[];
}

/** An echo-stream request with one prompt element, typed or raw, and request parameters. */
function echoStreamRequest(prompt: Buffer, raw: boolean, parameters: object = {}): object {
  const input = { name: 'text_input', datatype: 'BYTES', shape: [1] };
  const data = raw
    ? { inputs: [input], raw_input_contents: [encodeBytesElements([prompt])] }
    : { inputs: [{ ...input, contents: { bytes_contents: [prompt] } }] };
  return { model_name: 'echo-stream', id: 'e', parameters, ...data };
}

/** The single output element of a response, whichever form it came in. */
function outputBytes(response: DecodedResponse): Buffer {
  const raw = response.raw_output_contents[0];
  const elements =
    raw === undefined ? response.outputs[0]?.contents?.bytes_contents : decodeBytesElements(raw);
  return elements?.[0] ?? Buffer.alloc(0);
}

/** The infer_response of each stream message, asserting none carries an error. */
function inferResponses(messages: Message[]): DecodedResponse[] {
  return messages.map((message) => {
    assert.equal(message.error_message, '');
    return message.infer_response as DecodedResponse;
  });
}

function isFinal(response: DecodedResponse): boolean {
  return response.parameters.triton_final_response?.bool_param === true;
}

/** Only the last of `count` responses is final. */
function lastOnly(count: number): boolean[] {
  return Array.from({ length: count }, (_, i) => i === count - 1);
}

test('word pieces keep trailing whitespace, so they always join to the text', () => {
  assert.deepEqual(wordPieces('  a b  '), ['  a', ' b  ']);
  assert.deepEqual(wordPieces(' \n'), [' \n']);
  assert.deepEqual(wordPieces(''), []);
  assert.equal(wordPieces(PROMPT).join(''), PROMPT);
});

test('byte pieces may split a character, code point pieces never do', () => {
  const bytes = Buffer.from('é😀');

  assert.deepEqual(
    bytePieces(bytes, 4).map((piece) => [...piece]),
    [
      [0xc3, 0xa9, 0xf0, 0x9f],
      [0x98, 0x80],
    ],
  );
  assert.deepEqual(codePointPieces('é😀ab', 2), ['é😀', 'ab']);
  assert.deepEqual(codePointPieces('abc', 5), ['abc']);
});

test('echo-stream streams the prompt word by word, final flag on the last', async (t) => {
  const { inference } = await createDemoFixture(t);
  const words = tokenize(PROMPT);

  const typed = inferResponses(
    await streamAll(inference, [echoStreamRequest(Buffer.from(PROMPT), false)]),
  );
  const raw = inferResponses(
    await streamAll(inference, [echoStreamRequest(Buffer.from(PROMPT), true)]),
  );

  for (const responses of [typed, raw]) {
    const pieces = responses.map((response) => outputBytes(response).toString());
    assert.equal(responses.length, words.length);
    assert.deepEqual(pieces.slice(0, -1), words.slice(0, -1));
    assert.equal(pieces.join(''), PROMPT);
    assert.deepEqual(responses.map(isFinal), lastOnly(words.length));
    assert.ok(responses.every((response) => response.id === 'e'));
  }
  assert.equal(raw[0]?.raw_output_contents.length, 1);
});

test('echo-stream cuts demo_token_bytes pieces of the prompt bytes', async (t) => {
  const { inference } = await createDemoFixture(t);
  const prompt = Buffer.from(UTF8_PROMPT);
  const pieceBytes = { demo_token_bytes: { int64_param: '3' } };

  const responses = inferResponses(
    await streamAll(inference, [echoStreamRequest(prompt, true, pieceBytes)]),
  );

  const pieces = responses.map(outputBytes);
  assert.equal(pieces.length, Math.ceil(prompt.length / 3));
  assert.ok(pieces.slice(0, -1).every((piece) => piece.length === 3));
  assert.deepEqual(Buffer.concat(pieces), prompt);
  assert.ok(pieces.some((piece) => !Buffer.from(piece.toString()).equals(piece)));
  assert.deepEqual(responses.map(isFinal), lastOnly(pieces.length));
});

test('echo-stream honours max_tokens and the empty final response', async (t) => {
  const { inference } = await createDemoFixture(t);
  const prompt = Buffer.from(UTF8_PROMPT);
  const parameters = {
    demo_token_bytes: { int64_param: 2 },
    max_tokens: { int64_param: 4 },
    triton_enable_empty_final_response: { bool_param: true },
  };

  const responses = inferResponses(
    await streamAll(inference, [echoStreamRequest(prompt, false, parameters)]),
  );

  const pieces = responses.slice(0, -1).map(outputBytes);
  assert.equal(responses.length, 5);
  assert.deepEqual(Buffer.concat(pieces), prompt.subarray(0, 8));
  assert.deepEqual(responses.map(isFinal), lastOnly(5));
  assert.deepEqual(responses.at(-1)?.outputs, []);
});

test('echo-stream answers unary ModelInfer with the whole prompt', async (t) => {
  const { inference } = await createDemoFixture(t);
  const prompt = Buffer.from(UTF8_PROMPT);

  const words = await unary(inference, 'ModelInfer', echoStreamRequest(prompt, false));
  const pieces = await unary(
    inference,
    'ModelInfer',
    echoStreamRequest(prompt, true, { demo_token_bytes: { int64_param: 5 } }),
  );
  const config = (await unary(inference, 'ModelConfig', { name: 'echo-stream' })).config;

  assert.deepEqual(outputBytes(words as unknown as DecodedResponse), prompt);
  assert.deepEqual(outputBytes(pieces as unknown as DecodedResponse), prompt);
  assert.deepEqual((config as Message).model_transaction_policy, { decoupled: true });
});

test('echo-stream rejects a demo_token_bytes below 1 or not an integer', async (t) => {
  const { inference } = await createDemoFixture(t);
  const prompt = Buffer.from(PROMPT);

  const zero = echoStreamRequest(prompt, false, { demo_token_bytes: { int64_param: 0 } });
  const text = echoStreamRequest(prompt, false, { demo_token_bytes: { string_param: 'three' } });

  await assert.rejects(unary(inference, 'ModelInfer', zero), {
    code: grpc.status.INVALID_ARGUMENT,
    details: "parameter 'demo_token_bytes' must be an integer of at least 1, not 0",
  });
  const [failure] = await streamAll(inference, [text]);
  assert.equal(
    failure?.error_message,
    "parameter 'demo_token_bytes' must be an integer of at least 1, not three",
  );
});
