// Writes a real audit log of two exchanges in two sessions, as the gateway would, for replay tests.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import type { AuditEvent, MaskedTextRecord } from '../../src/audit/audit-events';
import { sealOriginal } from '../../src/audit/sealed-original';
import {
  generateSealingKeyPair,
  sealingPublicKeyFromPem,
  type SealingKeyPair,
} from '../../src/audit/sealing-key';
import { openTestAuditLog } from '../fixtures/audit-fixture';

export const REPLAY_LOG_ID = 'replay-gw';
/** When the first exchange's frames are written: 2023-11-14T22:13:20.123456Z. */
export const FIRST_MICROS = 1_700_000_000_123_456;
/** The second exchange, an hour later. */
export const SECOND_MICROS = FIRST_MICROS + 3_600_000_000;
export const ALICE_THUMBPRINT = 'aLiCe-x5t-0123456789abcdefghijklmnopqrstuvw';
export const MASKED_PROMPT = 'pay with **** **** **** 4242';
export const ORIGINAL_PROMPT = 'pay with 4111 1111 1111 4242';
/** The masked response of ex-1, sent in three chunks. */
export const MASKED_RESPONSE = 'Paid by card **** 4242, thank you.';
export const ORIGINAL_RESPONSE = 'Paid by card 4111 4242, thank you.';
/** Where ex-1's chunks end in MASKED_RESPONSE, and when each left, in ms. */
export const CHUNK_ENDS = [8, 23, MASKED_RESPONSE.length];
export const CHUNK_AT_MS = [5, 12.5, 30];
/** A text only ex-2's prompt holds, for tests to flip a byte of. */
export const SECOND_PROMPT = 'what is the weather in Lisbon';

/** A temp folder with a key directory, a segment directory and a sealing key pair. */
export interface ReplayLogFixture {
  readonly root: string;
  readonly dir: string;
  readonly keys: string;
  readonly sealing: SealingKeyPair;
  /** The sealing private key, as a PEM file. */
  readonly sealingKeyFile: string;
}

/**
 * Writes, through AuditLog over SegmentFileStore with a fixed clock: session s-1 (alice) with
 * ex-1, allowed, its prompt and response sealed, its response streamed in three chunks, then
 * a checkpoint; an hour later session s-2 (bob) with ex-2, denied, nothing sealed.
 */
export async function writtenReplayLog(t: TestContext): Promise<ReplayLogFixture> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'infergate-replay-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const keys = path.join(root, 'keys');
  const dir = path.join(root, 'frames');
  const sealing = generateSealingKeyPair();
  const sealingKeyFile = path.join(root, 'security.key.pem');
  fs.writeFileSync(sealingKeyFile, sealing.privateKeyPem, { mode: 0o600 });

  let now = FIRST_MICROS;
  const log = await openTestAuditLog(dir, keys, {
    logId: REPLAY_LOG_ID,
    checkpointEveryFrames: 5,
    nowMicros: () => now,
  });

  for (const event of firstExchange(sealing)) await log.append(event);
  now = SECOND_MICROS;
  for (const event of secondExchange()) await log.append(event);
  await log.close();
  return { root, dir, keys, sealing, sealingKeyFile };
}

function firstExchange(sealing: SealingKeyPair): AuditEvent[] {
  const recipient = sealingPublicKeyFromPem(sealing.publicKeyPem, 'test sealing key');
  const seal = (direction: 'prompt' | 'response', texts: MaskedTextRecord[]) =>
    sealOriginal(recipient, REPLAY_LOG_ID, 'ex-1', direction, texts);
  const certificate = { thumbprint: ALICE_THUMBPRINT, subject: 'CN=alice', issuer: 'CN=ca' };
  const chunkLengths = CHUNK_ENDS.map((end, index) => end - (CHUNK_ENDS[index - 1] ?? 0));
  return [
    { sessionOpened: { sessionId: 's-1', listener: 'grpc', tlsVersion: 'TLSv1.3', certificate } },
    {
      exchangeStarted: {
        exchangeId: 'ex-1',
        sessionId: 's-1',
        listener: 'grpc',
        protocol: 'grpc',
        operation: 'kserve.ModelInfer',
        model: 'llama-3b',
        route: 'llama',
        identity: { certificate, tokenSubject: 'alice', roles: ['analyst'] },
        prompt: [{ stream: '', text: MASKED_PROMPT }],
        sealedPrompt: seal('prompt', [{ stream: '', text: ORIGINAL_PROMPT }]),
      },
    },
    { decision: { exchangeId: 'ex-1', outcome: 1, role: 'analyst' } },
    {
      exchangeFinished: {
        exchangeId: 'ex-1',
        status: 0,
        response: [{ stream: 'text_output', text: MASKED_RESPONSE }],
        chunkTexts: CHUNK_ENDS.map(() => 0),
        chunkLengths,
        chunkAtMs: [...CHUNK_AT_MS],
        masked: [
          { direction: 'prompt', kind: 'pan', count: 1 },
          { direction: 'response', kind: 'pan', count: 1 },
        ],
        durationMs: 31,
        requestBytes: 120,
        responseBytes: 90,
        requestMessages: 1,
        responseMessages: 3,
        sealedResponse: seal('response', [{ stream: 'text_output', text: ORIGINAL_RESPONSE }]),
      },
    },
    { sessionClosed: { sessionId: 's-1', exchanges: 1, durationMs: 40 } },
  ];
}

function secondExchange(): AuditEvent[] {
  const certificate = { thumbprint: 'bob-x5t-9876543210', subject: 'CN=bob' };
  return [
    { sessionOpened: { sessionId: 's-2', listener: 'http', clientAddress: '10.0.0.9:4000' } },
    {
      exchangeStarted: {
        exchangeId: 'ex-2',
        sessionId: 's-2',
        listener: 'http',
        protocol: 'http',
        operation: 'openai.chat.completions',
        model: 'gpt-oss',
        identity: { certificate, tokenSubject: 'bob', roles: ['ops'] },
        prompt: [{ stream: '', text: SECOND_PROMPT }],
      },
    },
    { decision: { exchangeId: 'ex-2', outcome: 2, detail: 'model_not_permitted' } },
    {
      exchangeFinished: {
        exchangeId: 'ex-2',
        status: 403,
        detail: 'model_not_permitted',
        durationMs: 2,
        requestBytes: 80,
        responseBytes: 0,
        requestMessages: 1,
        responseMessages: 0,
      },
    },
    { sessionClosed: { sessionId: 's-2', exchanges: 1, durationMs: 3 } },
  ];
}

/** Flips one bit of the first byte of `marker` in the log's only segment. */
export function flipByteOf(dir: string, marker: string): void {
  const [segment] = fs.readdirSync(dir).filter((name) => name.endsWith('.audit'));
  if (segment === undefined) throw new Error(`no segment in ${dir}`);
  const file = path.join(dir, segment);
  const data = fs.readFileSync(file);
  const offset = data.indexOf(marker);
  if (offset < 0) throw new Error(`${marker} not in ${file}`);
  data[offset] = data[offset]! ^ 0x01;
  fs.writeFileSync(file, data);
}
