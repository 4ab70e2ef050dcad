// Every exchange through both listeners leaves signed, chained audit frames, masked, durable
// before the client sees the end of its answer; a log that cannot be written refuses traffic.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { startDemoHttpServer } from '../../src/demo/demo-http-server';
import { startDemoServer } from '../../src/demo/demo-server';
import type { ExchangeFinishedEvent, ExchangeStartedEvent } from '../../src/audit/audit-events';
import { decodeFrame, type DecodedFrame } from '../../src/audit/audit-frame-codec';
import { responseChunks } from '../../src/audit/audit-replay';
import { unsealOriginal } from '../../src/audit/sealed-original';
import { ProxyError } from '../../src/errors/proxy-error';
import { rotateKeyDirectory } from '../../src/audit/audit-key-directory';
import {
  generateSealingKeyPair,
  sealingPrivateKeyFromPem,
  writeSealingKeyPair,
} from '../../src/audit/sealing-key';
import type * as grpc from '@grpc/grpc-js';
import { kserveClient, startTestGateway } from '../fixtures/gateway-fixture';
import { collectStream } from '../fixtures/grpc-calls';
import { typedInfer } from '../fixtures/kserve-masking';
import { splitAddress } from '../fixtures/http-client';
import {
  auditSection,
  ControlledStore,
  framesOf,
  readFrames,
  verifyDir,
} from '../fixtures/audit-fixture';

const CARD = '4111 1111 1111 1111';
const PROMPT = `Charge card ${CARD}, CVV 123, for the order.`;
const MASKED_PROMPT = 'Charge card **** **** **** 1111, CVV ***, for the order.';

async function auditedGateway(
  t: TestContext,
  store?: (dir: string) => ControlledStore,
  auditOverrides: Record<string, unknown> = {},
) {
  const demo = await startDemoHttpServer({ tokenDelayMs: 0 });
  t.after(() => demo.close());
  const grpcDemo = await startDemoServer({ tokenDelayMs: 0 });
  t.after(() => grpcDemo.close());
  const audit = auditSection(t, auditOverrides);
  const controlled = store?.(audit.dir);
  const under = await startTestGateway(
    t,
    {
      upstreams: [
        { name: 'demo-http', address: `http://${demo.address}` },
        { name: 'demo-grpc', address: `grpc://${grpcDemo.address}` },
      ],
      audit: audit.section,
    },
    {},
    { auditStore: controlled },
  );
  const [host, port] = splitAddress(under.gateway.addresses.http);
  const base = `http://${host}:${port}`;
  const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'client-key', maxRetries: 0 });
  return { ...under, audit, client, base, store: controlled };
}

/** No card number, contiguous or grouped, anywhere in the bytes of the segment files. */
function assertNoCardData(dir: string): void {
  for (const file of fs.readdirSync(dir)) {
    const bytes = fs.readFileSync(path.join(dir, file)).toString('latin1');
    assert.ok(!bytes.includes(CARD), `${file} holds a card number`);
    assert.ok(!bytes.includes(CARD.replaceAll(' ', '')), `${file} holds a card number`);
  }
}

test('a streamed chat is recorded masked, with its chunks, and the log verifies', async (t) => {
  const { client, gateway, audit } = await auditedGateway(t);
  const stream = await client.chat.completions.create({
    model: 'echo',
    messages: [{ role: 'user', content: PROMPT }],
    stream: true,
    stream_options: { include_usage: true },
    // The demo server's knob: code points per delta, so the card number crosses many events.
    demo_token_bytes: 3,
  } as OpenAI.Chat.ChatCompletionCreateParamsStreaming);
  const deltas: string[] = [];
  for await (const chunk of stream) deltas.push(chunk.choices[0]?.delta.content ?? '');
  await gateway.close();

  const frames = await readFrames(audit.dir);
  const kinds = frames.map((frame) => frame.kind);
  const [started] = framesOf(frames, 'exchangeStarted');
  const [finished] = framesOf(frames, 'exchangeFinished');
  const report = await verifyDir(audit.dir, audit.keys);

  assert.equal(deltas.join(''), MASKED_PROMPT);
  assert.equal(kinds[0], 'gatewayStarted');
  assert.ok(kinds.includes('sessionOpened') && kinds.includes('sessionClosed'), String(kinds));
  assert.ok(kinds.includes('gatewayStopped'));
  assert.equal(kinds.at(-1), 'checkpoint');
  assert.equal(started!.operation, 'chat.completions');
  assert.equal(started!.model, 'echo');
  assert.equal(started!.facts?.stream, 'true');
  assert.deepEqual(
    started!.prompt?.map((text) => text.text),
    [MASKED_PROMPT],
  );
  assert.equal(finished!.status, 200);
  assert.equal(finished!.response?.map((text) => text.text).join(''), MASKED_PROMPT);
  assert.ok((finished!.usage?.completionTokens ?? 0) > 0, 'the usage chunk is recorded');
  const chunks = responseChunks(finished!);
  assert.ok(chunks.length >= PROMPT.length / 3, 'one chunk per delta');
  assert.equal(chunks.map((chunk) => chunk.bytes.toString()).join(''), MASKED_PROMPT);
  assert.ok(
    chunks.every((chunk) => chunk.whole && chunk.stream === finished!.response![0]!.stream),
  );
  assert.deepEqual(
    finished!.masked?.map((count) => `${count.direction}:${count.kind}:${count.count}`),
    ['prompt:pan:1', 'prompt:cvv:1'],
  );
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.equal(report.logs[0]!.unsignedTail, 0);
  assertNoCardData(audit.dir);
});

test('originals are sealed to the security team, and only its key opens them', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'infergate-seal-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const team = writeSealingKeyPair(path.join(dir, 'security-team'));
  const { client, gateway, audit } = await auditedGateway(t, undefined, {
    sealingKeyFile: team.publicKeyFile,
  });
  const request = { model: 'echo', messages: [{ role: 'user' as const, content: PROMPT }] };

  const answer = await client.chat.completions.create(request);
  await gateway.close();
  const frames = await readFrames(audit.dir);
  const started = frames.find((f) => f.kind === 'exchangeStarted')!;
  const finished = frames.find((f) => f.kind === 'exchangeFinished')!;
  const key = sealingPrivateKeyFromPem(team.privateKeyPem, 'security-team.key.pem');
  const { sealedPrompt } = started.body as ExchangeStartedEvent;
  const { sealedResponse } = finished.body as ExchangeFinishedEvent;
  const prompt = unsealOriginal(key, sealedPrompt!, started.logId, 'test-1', 'prompt');
  const response = unsealOriginal(key, sealedResponse!, started.logId, 'test-1', 'response');
  const other = generateSealingKeyPair();

  // Prompts are masked before the model sees them: the echo answers the masked prompt.
  assert.equal(answer.choices[0]?.message.content, MASKED_PROMPT);
  assert.deepEqual(
    prompt.map((text) => text.text),
    [PROMPT],
  );
  assert.equal(response.map((text) => text.text).join(''), MASKED_PROMPT);
  assert.equal(sealedPrompt!.recipientKeyId, team.keyId);
  assert.throws(
    () => unsealOriginal(key, sealedPrompt!, started.logId, 'test-1', 'response'),
    isKeyInvalid,
  );
  assert.throws(
    () =>
      unsealOriginal(
        sealingPrivateKeyFromPem(other.privateKeyPem, 'other.key.pem'),
        sealedPrompt!,
        started.logId,
        'test-1',
        'prompt',
      ),
    isKeyInvalid,
  );
  assertNoCardData(audit.dir);
  assert.equal((await verifyDir(audit.dir, audit.keys)).ok, true);
});

test('a stream records its first prompt at the start and later ones at the end', async (t) => {
  const { gateway, audit, grpcAddress } = await auditedGateway(t);
  const kserve = kserveClient(t, grpcAddress);
  const call = kserve.ModelStreamInfer() as grpc.ClientDuplexStream<unknown, unknown>;
  const result = collectStream(call);
  const firstAnswer = new Promise((resolve) => call.once('data', resolve));

  call.write(typedInfer('echo-stream', ['first question']));
  await firstAnswer;
  call.write(typedInfer('echo-stream', [`then ${CARD}`]));
  call.end();
  await result;
  await gateway.close();
  const frames = await readFrames(audit.dir);
  const [started] = framesOf(frames, 'exchangeStarted');
  const [finished] = framesOf(frames, 'exchangeFinished');

  assert.equal(started!.operation, 'ModelStreamInfer');
  assert.deepEqual(
    started!.prompt?.map((text) => text.text),
    ['first question'],
  );
  assert.deepEqual(
    finished!.prompt?.map((text) => text.text),
    ['then **** **** **** 1111'],
  );
  assertNoCardData(audit.dir);
});

test('a new key in the key directory signs from the next reload on, vouched by the old', async (t) => {
  const { client, gateway, audit } = await auditedGateway(t);
  const request = { model: 'echo', messages: [{ role: 'user' as const, content: 'before' }] };
  await client.chat.completions.create(request);

  const rotated = rotateKeyDirectory(audit.keys);
  gateway.reloadTls();
  await client.chat.completions.create({
    ...request,
    messages: [{ role: 'user', content: 'after' }],
  });
  await gateway.close();
  const frames = await readFrames(audit.dir);
  const rotations = framesOf(frames, 'keyRotated');
  const checkpoints = framesOf(frames, 'checkpoint');
  const report = await verifyDir(audit.dir, audit.keys);

  assert.deepEqual(
    rotations.map((r) => [r.previousKeyId, r.keyId]),
    [[rotated.previous.keyId, rotated.current.keyId]],
  );
  assert.equal(checkpoints.at(-1)!.keyId, rotated.current.keyId);
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.equal(report.logs[0]!.rotations.length, 1);
});

test('a gRPC ModelInfer and a malformed HTTP request are each recorded', async (t) => {
  const { gateway, audit, grpcAddress, base } = await auditedGateway(t);
  const kserve = kserveClient(t, grpcAddress);
  const text = Buffer.from(`echo ${CARD}`);
  await new Promise<void>((resolve, reject) =>
    kserve.ModelInfer(
      {
        model_name: 'echo',
        inputs: [
          {
            name: 'text_input',
            datatype: 'BYTES',
            shape: [1],
            contents: { bytes_contents: [text] },
          },
        ],
      },
      (err: Error | null) => (err === null ? resolve() : reject(err)),
    ),
  );
  const broken = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"model": "echo", "messages": [',
  });
  await gateway.close();

  const frames = await readFrames(audit.dir);
  const finished = framesOf(frames, 'exchangeFinished');
  const grpcDone = finished.find((f) => f.status === 0);
  const malformed = finished.find((f) => f.status === 400);

  assert.equal(broken.status, 400);
  const grpcStarted = framesOf(frames, 'exchangeStarted').find((f) => f.protocol === 'grpc');
  assert.ok(grpcDone !== undefined, 'the ModelInfer is recorded');
  assert.equal(grpcStarted?.operation, 'ModelInfer');
  assert.deepEqual(grpcStarted?.facts, { inputs: '1', batch: '1' });
  assert.match(grpcDone.response?.[0]?.text ?? '', /\*{4} \*{4} \*{4} 1111/);
  assert.equal(malformed?.detail, 'json_malformed');
  assert.equal((await verifyDir(audit.dir, audit.keys)).ok, true);
  assertNoCardData(audit.dir);
});

test("a non-streamed answer's last byte waits until its frames are durable", async (t) => {
  const { client, store } = await auditedGateway(t, (dir) => new ControlledStore(dir));
  let answered = false;
  store!.hold('exchangeFinished');
  const call = client.chat.completions
    .create({ model: 'echo', messages: [{ role: 'user', content: 'hello' }] })
    .then((answer) => {
      answered = true;
      return answer;
    });

  await waitUntil(() => batchHolds(store!, 'exchangeFinished'));
  for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
  const before = answered;
  store!.release();
  const answer = await call;

  assert.equal(before, false);
  assert.equal(answer.choices[0]?.message.content, 'hello');
});

test('an answer whose last frame cannot be stored is withheld; the frame is kept', async (t) => {
  const { client, store, gateway, audit, base } = await auditedGateway(t, (dir) => {
    return new ControlledStore(dir);
  });
  await client.chat.completions.create({
    model: 'echo',
    messages: [{ role: 'user', content: 'a' }],
  });
  store!.failing = 'exchangeFinished';

  const withheld = await postChat(base, 'withheld');
  store!.failing = undefined;
  await untilServed(base);
  await gateway.close();
  const frames = await readFrames(audit.dir);
  const finished = framesOf(frames, 'exchangeFinished');

  assert.equal(withheld.status, 503);
  assert.equal(((await withheld.json()) as ErrorBody).error.code, 'audit_unavailable');
  // The frame says what the upstream answered; the client was told the record failed.
  assert.ok(finished.some((f) => f.response?.[0]?.text.includes('withheld') && f.status === 200));
  assert.equal((await verifyDir(audit.dir, audit.keys)).ok, true);
});

test('while the log cannot be written new exchanges are refused, and recorded later', async (t) => {
  const { store, gateway, audit, base } = await auditedGateway(t, (dir) => {
    return new ControlledStore(dir);
  });
  store!.failing = 'all';

  const refused = await postChat(base, 'refused');
  const again = await postChat(base, 'refused again');
  store!.failing = undefined;
  await untilServed(base);
  await gateway.close();
  const frames = await readFrames(audit.dir);
  const unavailable = framesOf(frames, 'exchangeFinished').filter(
    (f) => f.detail === 'audit_unavailable',
  );

  assert.equal(refused.status, 503);
  assert.equal(((await refused.json()) as ErrorBody).error.code, 'audit_unavailable');
  assert.equal(again.status, 503);
  assert.ok(unavailable.length >= 2, `${unavailable.length} refusals recorded`);
  assert.equal((await verifyDir(audit.dir, audit.keys)).ok, true);
});

function isKeyInvalid(err: unknown): boolean {
  return err instanceof ProxyError && err.code === 'ERR_AUDIT_KEY_INVALID';
}

interface ErrorBody {
  readonly error: { readonly code: string };
}

function postChat(base: string, content: string): Promise<Response> {
  return fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'echo', messages: [{ role: 'user', content }] }),
  });
}

function batchHolds(store: ControlledStore, kind: DecodedFrame['kind']): boolean {
  return store.appended.some((batch) =>
    batch.some((frame) => decodeFrame(frame.bytes).kind === kind),
  );
}

/** Resolves once a request is served again: the store took the queued frames on a retry. */
async function untilServed(base: string): Promise<void> {
  while ((await fetch(`${base}/v1/models`)).status !== 200) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}
