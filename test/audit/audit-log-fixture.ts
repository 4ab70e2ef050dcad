// Builds valid audit chains in memory, as a writer would store them, for tests to tamper with.

import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';

import { frameHash, genesisHash } from '../../src/audit/audit-chain';
import type { AuditEvent, AuditFrame } from '../../src/audit/audit-events';
import { decodeFrame, delimit, encodeFrame } from '../../src/audit/audit-frame-codec';
import {
  keyIdOf,
  signCheckpoint,
  signRotation,
  type AuditSigningKey,
  type AuditVerifyingKey,
} from '../../src/audit/audit-signing';
import type { StoredRecord } from '../../src/audit/audit-store';
import type { WitnessHead } from '../../src/audit/audit-verifier';

/** PKCS #8 DER of an Ed25519 key up to its 32-byte seed (RFC 8410 §7). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const START_MICROS = 1_750_000_000_000_000;
const FRAMES_PER_SEGMENT = 16;

/** A test-only Ed25519 key derived from `seed`, so every run signs the same bytes. */
export function seededSigningKey(seed: string): AuditSigningKey {
  const raw = createHash('sha256').update(seed).digest();
  const der = Buffer.concat([ED25519_PKCS8_PREFIX, raw]);
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  return { keyId: keyIdOf(publicKey), privateKey, publicKey };
}

/** The verifying half of a signing key. */
export function verifyingKey(key: AuditSigningKey): AuditVerifyingKey {
  return { keyId: key.keyId, publicKey: key.publicKey };
}

/** Signs a KeyRotated frame, as `signRotation` does. */
export type RotationSigner = typeof signRotation;

/** How `buildAuditLog` shapes a log. */
export interface AuditLogOptions {
  readonly logId?: string;
  /** Frames other than checkpoints and the rotation. */
  readonly events?: number;
  /** A checkpoint follows every this many frames. */
  readonly checkpointEvery?: number;
  /** The rotation follows this many events; 0 for none. */
  readonly rotateAfter?: number;
  /** A Gap frame is this event (1-based); 20 unless given, 0 for none. */
  readonly gapAt?: number;
  readonly keys?: { readonly first: AuditSigningKey; readonly second: AuditSigningKey };
  /** Signs the rotation frame; `signRotation` unless given, so tests can forge one. */
  readonly signRotation?: RotationSigner;
}

/** A log as stored, and what a test needs to know about it. */
export interface AuditLogFixture {
  readonly logId: string;
  readonly frames: readonly AuditFrame[];
  readonly records: readonly StoredRecord[];
  readonly first: AuditSigningKey;
  readonly second: AuditSigningKey;
  /** Both keys, as a verifier given the right keys holds them. */
  readonly verifyingKeys: readonly AuditVerifyingKey[];
  readonly checkpoints: readonly number[];
  readonly rotation: number;
  /** The head a witness saved of the last frame. */
  readonly head: WitnessHead;
}

/**
 * A valid log: a GatewayStarted frame, then events of every kind in turn, a checkpoint after
 * every `checkpointEvery` frames, one key rotation from `first` to `second`, a Gap frame, and an
 * unsigned tail after the last checkpoint. By default 32 events, checkpoints after every 5
 * frames, the rotation after event 13: 39 frames, the last checkpoint at 36.
 */
export function buildAuditLog(options: AuditLogOptions = {}): AuditLogFixture {
  const logId = options.logId ?? 'log-a';
  const first = options.keys?.first ?? seededSigningKey(`${logId}/first`);
  const second = options.keys?.second ?? seededSigningKey(`${logId}/second`);
  const writer = new ChainWriter(logId, first, options.signRotation ?? signRotation);
  const every = options.checkpointEvery ?? 5;
  const rotateAfter = options.rotateAfter ?? 13;
  const events = options.events ?? 32;
  let since = 0;
  const appendCounted = (append: () => void): void => {
    append();
    since += 1;
    if (since < every) return;
    writer.checkpoint();
    since = 0;
  };
  for (let index = 1; index <= events; index += 1) {
    const gap = index === (options.gapAt ?? 20);
    const event = gap ? gapEvent(writer.frames.length) : sampleEvent(index, first.keyId);
    appendCounted(() => writer.append(event));
    if (index === rotateAfter) appendCounted(() => writer.rotate(second));
  }

  const records = storeFrames(logId, writer.frames);
  const last = writer.frames.at(-1)!;
  const lastBytes = records.at(-1) as Extract<StoredRecord, { kind: 'frame' }>;
  return {
    logId,
    frames: writer.frames,
    records,
    first,
    second,
    verifyingKeys: [verifyingKey(first), verifyingKey(second)],
    checkpoints: writer.frames.filter((f) => 'checkpoint' in f).map((f) => f.sequence),
    rotation: writer.frames.find((f) => 'keyRotated' in f)?.sequence ?? 0,
    head: { logId, sequence: last.sequence, hash: frameHash(lastBytes.bytes) },
  };
}

/** Encodes `frames` as a store of `logId` would hand them back, with segment offsets. */
export function storeFrames(logId: string, frames: readonly AuditFrame[]): StoredRecord[] {
  let offset = 0;
  return frames.map((frame, index) => {
    if (index % FRAMES_PER_SEGMENT === 0) offset = 0;
    const segment = Math.floor(index / FRAMES_PER_SEGMENT) + 1;
    const bytes = encodeFrame(frame);
    const where = `${logId}/segment-${String(segment).padStart(6, '0')}.log:${offset}`;
    offset += delimit(bytes).length;
    return { kind: 'frame', logId, where, bytes };
  });
}

/**
 * What an attacker who cannot sign does after an edit: renumbers the frames from 1 and
 * recomputes every link. Checkpoints keep their signatures; `forgeHeads` also points each one
 * at the frame now before it.
 */
export function rechain(
  logId: string,
  frames: readonly AuditFrame[],
  forgeHeads = false,
): AuditFrame[] {
  let previousHash = genesisHash(logId);
  return frames.map((frame, index) => {
    const sequence = index + 1;
    let relinked = { ...frame, sequence, previousHash } as AuditFrame;
    if (forgeHeads && 'checkpoint' in relinked) {
      const checkpoint = {
        ...relinked.checkpoint,
        headSequence: sequence - 1,
        headHash: previousHash,
      };
      relinked = { ...relinked, checkpoint };
    }
    previousHash = frameHash(encodeFrame(relinked));
    return relinked;
  });
}

/** Decodes a stored frame back into the shape `encodeFrame` takes, to edit and re-encode. */
export function frameOf(record: StoredRecord): AuditFrame {
  if (record.kind !== 'frame') throw new Error(`record at ${record.where} is not a frame`);
  const { kind, body, ...header } = decodeFrame(record.bytes);
  return { ...header, [kind]: body } as AuditFrame;
}

/** Appends frames the way the audit writer does: sequence, time, link, signing key. */
class ChainWriter {
  readonly frames: AuditFrame[] = [];
  private previousHash: Buffer;

  constructor(
    private readonly logId: string,
    private key: AuditSigningKey,
    private readonly signRotation: RotationSigner,
  ) {
    this.previousHash = genesisHash(logId);
  }

  append(event: AuditEvent): void {
    const sequence = this.frames.length + 1;
    const timeUnixMicros = START_MICROS + sequence * 1000;
    const header = { logId: this.logId, sequence, timeUnixMicros, previousHash: this.previousHash };
    const frame = { ...header, ...event } as AuditFrame;
    this.frames.push(frame);
    this.previousHash = frameHash(encodeFrame(frame));
  }

  checkpoint(): void {
    const head = this.frames.length;
    this.append({ checkpoint: signCheckpoint(this.key, this.logId, head, this.previousHash) });
  }

  rotate(next: AuditSigningKey): void {
    const sequence = this.frames.length + 1;
    this.append({ keyRotated: this.signRotation(this.key, next, this.logId, sequence) });
    this.key = next;
  }
}

function gapEvent(lastSequence: number): AuditEvent {
  return { gap: { lastSequence, tornBytes: 37, segment: 'segment-000001.log' } };
}

/** Events of every kind but checkpoints, rotations and gaps, in turn. */
function sampleEvent(index: number, keyId: string): AuditEvent {
  const exchangeId = `ex-${Math.ceil(index / 4)}`;
  const sessionId = `s-${Math.ceil(index / 8)}`;
  const events: readonly AuditEvent[] = [
    { sessionOpened: { sessionId, listener: 'grpc', clientAddress: '10.0.0.7:52100' } },
    {
      exchangeStarted: {
        exchangeId,
        sessionId,
        listener: 'grpc',
        protocol: 'grpc',
        operation: 'kserve.ModelInfer',
        model: 'llama-3b',
        facts: { stream: 'false', max_tokens: '64' },
        prompt: [{ stream: '', text: 'card **** **** **** 4242' }],
      },
    },
    { decision: { exchangeId, outcome: 1, role: 'analyst' } },
    {
      exchangeFinished: {
        exchangeId,
        status: 0,
        response: [{ stream: 'text_output', text: 'a masked answer' }],
        durationMs: 12.5,
        requestBytes: 420,
        responseBytes: 310,
        requestMessages: 1,
        responseMessages: 1,
      },
    },
    { review: { reviewId: `r-${index}`, kind: 1, exchangeId, rule: 'large-batch' } },
    { sessionClosed: { sessionId, exchanges: 1, durationMs: 40 } },
    { configurationChanged: { subject: 'configuration', result: 'applied' } },
    {
      certificateChanged: {
        owner: 'listeners',
        role: 'server',
        certificate: { thumbprint: 'x5t-test', subject: 'CN=gateway' },
        notAfterUnixMs: 1_800_000_000_000,
      },
    },
    { unsealed: { logId: 'log-a', sequence: 2, reason: 'incident 7' } },
  ];
  if (index === 1) {
    const started = { version: '0.1.0', hostname: 'gw-1', pid: 4242, listeners: ['grpc=:9001'] };
    const configurationDigest = Buffer.alloc(32, 7);
    return { gatewayStarted: { ...started, configurationDigest, signingKeyId: keyId } };
  }
  return events[(index - 2) % events.length]!;
}

/** A copy of a frame record with one byte xor-ed by `mask`. */
export function flipByte(record: StoredRecord, offset: number, mask = 0x01): StoredRecord {
  if (record.kind !== 'frame') throw new Error(`record at ${record.where} is not a frame`);
  const bytes = Buffer.from(record.bytes);
  bytes[offset] = bytes[offset]! ^ mask;
  return { ...record, bytes };
}

/** A frame record re-encoded from `frame`, in the same place, its chain left as it was. */
export function replaceFrame(record: StoredRecord, frame: AuditFrame): StoredRecord {
  return { kind: 'frame', logId: record.logId, where: record.where, bytes: encodeFrame(frame) };
}
