// Tests of the audit writer: sequencing, group commit, checkpoints, failing stores, key
// rotation, reopening segment files with and without a torn tail, and close.

import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';

import { frameHash, genesisHash } from '../../src/audit/audit-chain';
import type { AuditEvent } from '../../src/audit/audit-events';
import {
  decodeFrame,
  delimit,
  encodeFrame,
  type DecodedFrame,
} from '../../src/audit/audit-frame-codec';
import { AuditLog, type AuditLogOptions } from '../../src/audit/audit-log';
import { rotationSignatures } from '../../src/audit/audit-signing';
import type {
  AuditStore,
  ChainTail,
  EncodedFrame,
  StoredRecord,
} from '../../src/audit/audit-store';
import { verifyAudit, type AuditRecords } from '../../src/audit/audit-verifier';
import { SegmentFileSource } from '../../src/audit/segment-file-source';
import { SegmentFileStore } from '../../src/audit/segment-file-store';
import { ControlledStore, framesOf } from '../fixtures/audit-fixture';
import { captureLogs } from '../fixtures/log-sink';
import { seededSigningKey, verifyingKey } from './audit-log-fixture';

const LOG_ID = 'unit-log';
const KEY = seededSigningKey('audit-log-test/first');
const NEXT = seededSigningKey('audit-log-test/second');
const START_MICROS = 1_760_000_000_000_000;
const HOUR_MS = 3_600_000;
const UNAVAILABLE = { code: 'ERR_AUDIT_UNAVAILABLE' };
const EMPTY_TAIL: ChainTail = {
  lastSequence: 0,
  lastHash: undefined,
  lastKeyId: undefined,
  torn: undefined,
};

/** An AuditStore in memory that records every batch it is given and can fail or hold them. */
class MemoryStore implements AuditStore {
  readonly description = 'memory store';
  /** Every batch `append` was called with, stored or not. */
  readonly calls: EncodedFrame[][] = [];
  readonly stored: EncodedFrame[] = [];
  failing = false;
  private gate: Promise<void> | undefined;

  open(): Promise<ChainTail> {
    return Promise.resolve(EMPTY_TAIL);
  }

  /** Batches appended from now on wait until the returned function is called. */
  hold(): () => void {
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    this.gate = gate;
    return () => {
      if (this.gate === gate) this.gate = undefined;
      release();
    };
  }

  async append(frames: readonly EncodedFrame[]): Promise<void> {
    this.calls.push([...frames]);
    if (this.gate !== undefined) await this.gate;
    if (this.failing) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    this.stored.push(...frames);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  frames(): DecodedFrame[] {
    return this.stored.map((frame) => decodeFrame(frame.bytes));
  }

  records(): StoredRecord[] {
    return this.stored.map(({ bytes }, index) => ({
      kind: 'frame',
      logId: LOG_ID,
      where: `memory:${index}`,
      bytes,
    }));
  }
}

async function openLog(store: AuditStore, overrides: Partial<AuditLogOptions> = {}) {
  const logs = captureLogs();
  let tick = 0;
  const log = await AuditLog.open({
    logId: LOG_ID,
    store,
    signingKey: KEY,
    checkpointEveryFrames: 1000,
    checkpointIntervalMs: HOUR_MS,
    maxPendingFrames: 100,
    retryIntervalMs: 1000,
    logger: logs.logger,
    nowMicros: () => START_MICROS + ++tick * 1000,
    ...overrides,
  });
  return { log, logs };
}

function event(index: number): AuditEvent {
  return { sessionClosed: { sessionId: `s-${index}`, exchanges: 1, durationMs: 5 } };
}

function appendAll(log: AuditLog, from: number, to: number): Promise<void>[] {
  return Array.from({ length: to - from + 1 }, (_, i) => log.append(event(from + i)));
}

/** One turn of the event loop: what `setImmediate` scheduled before has run. */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Counts the promises settled so far. */
function track(promises: readonly Promise<void>[]): { settled: number } {
  const state = { settled: 0 };
  const count = (): void => void (state.settled += 1);
  for (const promise of promises) promise.then(count, count);
  return state;
}

function sequencesOf(frames: readonly { readonly sequence: number }[]): number[] {
  return frames.map((frame) => frame.sequence);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Asserts frames 1..N, each linked to the one before and the first to the genesis. */
function assertChained(stored: readonly EncodedFrame[]): void {
  let previous = genesisHash(LOG_ID);
  stored.forEach(({ sequence, bytes }, index) => {
    const frame = decodeFrame(bytes);
    assert.equal(frame.sequence, index + 1);
    assert.equal(sequence, index + 1);
    assert.deepEqual(frame.previousHash, previous, `frame ${index + 1} links to the one before`);
    previous = frameHash(bytes);
  });
}

/** Each frame's kind as a letter: `e` an event, `C` a checkpoint, `R` a rotation, `G` a gap. */
function shapeOf(frames: readonly DecodedFrame[]): string {
  const letters: Partial<Record<DecodedFrame['kind'], string>> = {
    checkpoint: 'C',
    keyRotated: 'R',
    gap: 'G',
  };
  return frames.map((frame) => letters[frame.kind] ?? 'e').join('');
}

/** The session ids of the events, and the ids `event(from..to)` carries. */
function sessionIds(frames: readonly DecodedFrame[]): string[] {
  return framesOf(frames, 'sessionClosed').map((body) => body.sessionId);
}

function idsOf(from: number, to: number): string[] {
  return range(from, to).map((n) => `s-${n}`);
}

function checkpointKeys(frames: readonly DecodedFrame[]): string[] {
  return framesOf(frames, 'checkpoint').map((body) => body.keyId);
}

function verify(records: AuditRecords) {
  return verifyAudit(records, { keys: [verifyingKey(KEY), verifyingKey(NEXT)] });
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'infergate-audit-log-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The frames of the segment files in `dir`; fails on a damage record. */
async function storedIn(dir: string): Promise<EncodedFrame[]> {
  const stored: EncodedFrame[] = [];
  for await (const record of new SegmentFileSource({ dir }).records()) {
    assert.equal(record.kind, 'frame', `${record.where} is a whole frame`);
    if (record.kind === 'frame') {
      stored.push({ sequence: decodeFrame(record.bytes).sequence, bytes: record.bytes });
    }
  }
  return stored;
}

async function decodedIn(dir: string): Promise<DecodedFrame[]> {
  return (await storedIn(dir)).map((frame) => decodeFrame(frame.bytes));
}

/** Opens a log on segment files in `dir`, appends `events` frames, and closes it. */
async function writeAndClose(
  dir: string,
  events: number,
  overrides: Partial<AuditLogOptions> = {},
) {
  const { log, logs } = await openLog(new SegmentFileStore({ dir }), overrides);
  const from = log.lastSequence + 1;
  await Promise.all(appendAll(log, from, from + events - 1));
  await log.close();
  return logs;
}

test('numbers frames 1..N, links each to the one before and the first to the genesis', async () => {
  const store = new MemoryStore();
  const { log } = await openLog(store);

  await Promise.all(appendAll(log, 1, 5));
  await log.append(event(6));

  assert.equal(log.lastSequence, 6);
  assertChained(store.stored);
  assert.deepEqual(
    store.frames().map((frame) => frame.timeUnixMicros),
    range(1, 6).map((n) => START_MICROS + n * 1000),
  );
  assert.deepEqual(sessionIds(store.frames()), idsOf(1, 6));
});

test('stores the appends of one tick as one batch, those made meanwhile as the next', async () => {
  const store = new MemoryStore();
  const { log } = await openLog(store);
  const releaseFirst = store.hold();

  const first = appendAll(log, 1, 10);
  await turn();
  const second = appendAll(log, 11, 15);
  const releaseSecond = store.hold();
  await turn();
  const firstState = track(first);
  const secondState = track(second);
  await turn();

  assert.equal(store.calls.length, 1, 'the second batch waits for the first');
  assert.deepEqual(sequencesOf(store.calls[0]!), range(1, 10));
  assert.equal(firstState.settled + secondState.settled, 0, 'nothing resolves before it is stored');

  releaseFirst();
  await Promise.all(first);
  await turn();
  assert.equal(store.calls.length, 2);
  assert.deepEqual(sequencesOf(store.calls[1]!), range(11, 15));
  assert.equal(secondState.settled, 0, 'the second batch is not stored yet');

  releaseSecond();
  await Promise.all(second);
  assertChained(store.stored);
});

test('signs a checkpoint after every checkpointEveryFrames frames', async () => {
  const store = new MemoryStore();
  const { log } = await openLog(store, { checkpointEveryFrames: 3 });

  await Promise.all(appendAll(log, 1, 7));

  const frames = store.frames();
  const report = await verify(store.records());
  assert.equal(shapeOf(frames), 'eeeCeeeCe');
  for (const frame of frames) {
    if (frame.kind !== 'checkpoint') continue;
    assert.equal(frame.body.headSequence, frame.sequence - 1);
    assert.deepEqual(frame.body.headHash, frame.previousHash);
  }
  assert.deepEqual(checkpointKeys(frames), [KEY.keyId, KEY.keyId]);
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.equal(report.logs[0]!.lastCheckpoint?.frameSequence, 8);
  assert.equal(report.logs[0]!.unsignedTail, 1);
});

test('signs a checkpoint each checkpointIntervalMs with unsigned frames, else none', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const store = new MemoryStore();
  const { log } = await openLog(store, { checkpointIntervalMs: 500 });

  await Promise.all(appendAll(log, 1, 2));
  t.mock.timers.tick(499);
  await log.flush();
  const beforeInterval = store.stored.length;
  t.mock.timers.tick(1);
  await log.flush();
  const afterInterval = shapeOf(store.frames());
  t.mock.timers.tick(500);
  await log.flush();
  const idle = store.stored.length;
  await log.append(event(3));
  t.mock.timers.tick(500);
  await log.flush();

  const report = await verify(store.records());
  assert.equal(beforeInterval, 2);
  assert.equal(afterInterval, 'eeC');
  assert.equal(idle, 3, 'no checkpoint over nothing unsigned');
  assert.equal(shapeOf(store.frames()), 'eeCeC');
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.equal(report.logs[0]!.unsignedTail, 0);
  await log.close();
});

test('fails closed while the store fails, keeps the frames and stores them on retry', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const store = new MemoryStore();
  store.failing = true;
  const { log, logs } = await openLog(store, { maxPendingFrames: 6, retryIntervalMs: 1000 });

  const waiting = appendAll(log, 1, 2);
  for (const append of waiting) await assert.rejects(append, UNAVAILABLE);
  assert.equal(log.writable, false);
  assert.ok(
    logs.lines.some((line) => line.msg === 'audit log cannot be written; refusing new exchanges'),
  );
  await assert.rejects(log.append(event(3)), UNAVAILABLE);
  assert.equal(store.calls.length, 1, 'a new append is refused without a store call');
  assert.equal(log.lastSequence, 3, 'its frame is kept');

  t.mock.timers.tick(999);
  await turn();
  assert.equal(store.calls.length, 1, 'no retry before retryIntervalMs');
  t.mock.timers.tick(1);
  await turn();
  assert.deepEqual(sequencesOf(store.calls[1]!), [1, 2, 3]);
  assert.equal(log.writable, false);

  for (const append of appendAll(log, 4, 6)) await assert.rejects(append, UNAVAILABLE);
  await assert.rejects(log.append(event(7)), { ...UNAVAILABLE, message: /^6 audit frames wait/ });
  assert.equal(log.lastSequence, 6, 'a refused frame is not kept');

  store.failing = false;
  t.mock.timers.tick(1000);
  await log.flush();
  assert.equal(log.writable, true);
  assert.ok(logs.lines.some((line) => line.msg === 'audit log writable again'));
  assert.deepEqual(sequencesOf(store.calls[2]!), range(1, 6));
  await log.append(event(7));
  await log.close();

  const report = await verify(store.records());
  assertChained(store.stored);
  assert.deepEqual(sessionIds(store.frames()), idsOf(1, 7));
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.equal(report.logs[0]!.lastSequence, 8);
});

test('stores the frames of a failed batch on segment files once the store works', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const dir = await tempDir(t);
  const store = new ControlledStore(dir);
  const { log } = await openLog(store, { checkpointEveryFrames: 2 });
  await Promise.all(appendAll(log, 1, 2));

  store.failing = 'all';
  for (const append of appendAll(log, 3, 5)) await assert.rejects(append, UNAVAILABLE);
  store.failing = undefined;
  t.mock.timers.tick(1000);
  await log.flush();
  await log.close();

  const stored = await storedIn(dir);
  const report = await verify(new SegmentFileSource({ dir }));
  assertChained(stored);
  assert.deepEqual(sessionIds(await decodedIn(dir)), idsOf(1, 5));
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.equal(report.logs[0]!.unsignedTail, 0);
});

test('rotateKey checkpoints by the old key, announces the new one signed by both', async () => {
  const store = new MemoryStore();
  const { log } = await openLog(store);
  await Promise.all(appendAll(log, 1, 2));

  await log.rotateKey(NEXT);
  await log.rotateKey(NEXT);
  await log.append(event(3));
  await log.close();

  const frames = store.frames();
  const [rotation] = framesOf(frames, 'keyRotated');
  const rotationAt = frames.findIndex((frame) => frame.kind === 'keyRotated') + 1;
  const report = await verify(store.records());
  assert.equal(log.keyId, NEXT.keyId);
  assert.equal(shapeOf(frames), 'eeCReC');
  assert.deepEqual(checkpointKeys(frames), [KEY.keyId, NEXT.keyId]);
  assert.equal(rotation!.previousKeyId, KEY.keyId);
  assert.equal(rotation!.keyId, NEXT.keyId);
  assert.deepEqual(rotationSignatures(rotation!, LOG_ID, rotationAt, verifyingKey(KEY)), {
    previous: true,
    next: true,
  });
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.deepEqual(
    report.logs[0]!.rotations.map((r) => r.vouched),
    [true],
  );
});

test('opening with a new key writes a rotation that the old key vouches for', async (t) => {
  const dir = await tempDir(t);
  await writeAndClose(dir, 2);

  const logs = await writeAndClose(dir, 1, {
    signingKey: NEXT,
    previousKeys: new Map([[KEY.keyId, KEY]]),
  });

  const frames = await decodedIn(dir);
  const report = await verify(new SegmentFileSource({ dir }));
  assert.equal(shapeOf(frames), 'eeCReC');
  assert.deepEqual(checkpointKeys(frames), [KEY.keyId, NEXT.keyId]);
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.deepEqual(report.logs[0]!.rotations, [
    { sequence: 4, previousKeyId: KEY.keyId, keyId: NEXT.keyId, vouched: true },
  ]);
  assert.ok(!logs.lines.some((line) => line.msg === 'audit key rotation not vouched'));
});

test('opening with another key and without the old one writes an unvouched rotation', async (t) => {
  const dir = await tempDir(t);
  await writeAndClose(dir, 2);

  const logs = await writeAndClose(dir, 1, { signingKey: NEXT });

  const frames = await decodedIn(dir);
  const [rotation] = framesOf(frames, 'keyRotated');
  const report = await verify(new SegmentFileSource({ dir }));
  assert.equal(rotation!.previousKeyId, KEY.keyId);
  assert.equal(rotation!.keyId, NEXT.keyId);
  assert.equal(rotation!.previousKeySignature?.length ?? 0, 0);
  assert.deepEqual(rotationSignatures(rotation!, LOG_ID, 4, verifyingKey(KEY)), {
    previous: false,
    next: true,
  });
  assert.equal(report.ok, false);
  assert.deepEqual(
    report.logs[0]!.breaks.map((b) => `${b.kind}@${b.sequence}`),
    ['rotation_unvouched@4'],
  );
  assert.equal(report.logs[0]!.lastCheckpoint?.keyId, NEXT.keyId);
  assert.ok(logs.lines.some((line) => line.msg === 'audit key rotation not vouched'));
});

test('reopening segment files continues the sequence and the chain', async (t) => {
  const dir = await tempDir(t);
  await writeAndClose(dir, 3);

  const logs = await writeAndClose(dir, 2);

  const stored = await storedIn(dir);
  const report = await verify(new SegmentFileSource({ dir }));
  assertChained(stored);
  assert.equal(shapeOf(await decodedIn(dir)), 'eeeCeeC');
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.deepEqual(report.logs[0]!.gaps, []);
  assert.ok(!logs.lines.some((line) => line.msg === 'audit log had a torn tail'));
});

test('open records a torn tail in a Gap frame with its byte count; the log verifies', async (t) => {
  const dir = await tempDir(t);
  await writeAndClose(dir, 3);
  const [segment] = (await readdir(dir)).filter((name) => name.endsWith('.audit'));
  const next = encodeFrame({
    logId: LOG_ID,
    sequence: 5,
    timeUnixMicros: START_MICROS,
    previousHash: Buffer.alloc(32),
    ...event(5),
  });
  const half = delimit(next).subarray(0, Math.floor(delimit(next).length / 2));
  await appendFile(path.join(dir, segment!), half);

  const logs = await writeAndClose(dir, 1);

  const stored = await storedIn(dir);
  const [gap] = framesOf(await decodedIn(dir), 'gap');
  const report = await verify(new SegmentFileSource({ dir }));
  assertChained(stored);
  assert.equal(shapeOf(await decodedIn(dir)), 'eeeCGeC');
  assert.deepEqual(gap, { lastSequence: 4, tornBytes: half.length, segment });
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.deepEqual(report.logs[0]!.gaps, [
    { sequence: 5, lastSequence: 4, tornBytes: half.length, segment },
  ]);
  assert.equal(report.logs[0]!.lastSequence, 7);
  assert.equal(report.logs[0]!.unsignedTail, 0);
  assert.ok(logs.lines.some((line) => line.msg === 'audit log had a torn tail'));
});

test('close ends with a checkpoint, refuses later appends, and may be called twice', async () => {
  const store = new MemoryStore();
  const { log } = await openLog(store);
  await Promise.all(appendAll(log, 1, 3));

  await Promise.all([log.close(), log.close()]);
  await log.close();

  assert.equal(shapeOf(store.frames()), 'eeeC');
  assert.equal(log.writable, false);
  await assert.rejects(log.append(event(4)), {
    ...UNAVAILABLE,
    message: 'the audit log is closed',
  });
  assert.equal(store.stored.length, 4);
});

test('close signs frames appended while the last batch is stored', async () => {
  const store = new MemoryStore();
  const { log } = await openLog(store);
  const release = store.hold();
  const first = appendAll(log, 1, 2);
  await turn();

  const closed = log.close();
  const late = log.append(event(3));
  release();
  await Promise.all([...first, late, closed]);

  const report = await verify(store.records());
  assert.equal(shapeOf(store.frames()), 'eeCeC');
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.equal(report.logs[0]!.unsignedTail, 0);
});
