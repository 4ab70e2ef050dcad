// Tests of the segment file store on real files: round trips, rotation, torn tails, failures.

import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';

import { frameHash, genesisHash } from '../../src/audit/audit-chain';
import type { AuditEvent } from '../../src/audit/audit-events';
import { decodeFrame, delimit, encodeFrame } from '../../src/audit/audit-frame-codec';
import {
  generateAuditSigningKey,
  signCheckpoint,
  signRotation,
  type AuditSigningKey,
} from '../../src/audit/audit-signing';
import type { EncodedFrame } from '../../src/audit/audit-store';
import { SegmentFileSource } from '../../src/audit/segment-file-source';
import {
  NODE_SEGMENT_FILES,
  SegmentFileStore,
  type SegmentFileHandle,
  type SegmentFiles,
} from '../../src/audit/segment-file-store';
import { isProxyError } from '../../src/errors/proxy-error';

/** Builds a valid chain of one log, frame by frame, stamped with `clockMs`. */
class TestChain {
  private sequence = 0;
  private previous: Buffer;

  constructor(
    readonly logId: string,
    private readonly clockMs: () => number = () => 1_700_000_000_000,
  ) {
    this.previous = genesisHash(logId);
  }

  frame(event: AuditEvent): EncodedFrame {
    this.sequence += 1;
    const header = {
      logId: this.logId,
      sequence: this.sequence,
      timeUnixMicros: this.clockMs() * 1000,
      previousHash: this.previous,
    };
    const bytes = encodeFrame({ ...header, ...event });
    this.previous = frameHash(bytes);
    return { sequence: this.sequence, bytes };
  }

  frames(count: number): EncodedFrame[] {
    return Array.from({ length: count }, () =>
      this.frame({
        sessionClosed: { sessionId: `s${this.sequence + 1}`, exchanges: 1, durationMs: 5 },
      }),
    );
  }

  checkpoint(key: AuditSigningKey): EncodedFrame {
    return this.frame({
      checkpoint: signCheckpoint(key, this.logId, this.sequence, this.previous),
    });
  }

  rotation(previous: AuditSigningKey, next: AuditSigningKey): EncodedFrame {
    return this.frame({ keyRotated: signRotation(previous, next, this.logId, this.sequence + 1) });
  }
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'infergate-segments-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function delimited(frames: readonly EncodedFrame[]): Buffer {
  return Buffer.concat(frames.map((frame) => delimit(frame.bytes)));
}

async function segmentNames(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith('.audit')).sort();
}

/** What the source reads back: `logId:sequence` of each frame, `damage` for damage. */
async function readBack(dir: string): Promise<string[]> {
  const seen: string[] = [];
  for await (const record of new SegmentFileSource({ dir }).records()) {
    const frame = record.kind === 'frame' ? decodeFrame(record.bytes) : undefined;
    seen.push(frame ? `${record.logId}:${frame.sequence}` : `${record.logId}:damage`);
  }
  return seen;
}

function range(logId: string, from: number, to: number): string[] {
  return Array.from({ length: to - from + 1 }, (_, i) => `${logId}:${from + i}`);
}

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected`), { code });
}

/** Faults to inject, each thrown once by the next call of that name. */
interface Faults {
  write?: NodeJS.ErrnoException;
  datasync?: NodeJS.ErrnoException;
  truncate?: NodeJS.ErrnoException;
  /** The most bytes one write call takes, as a full or slow disk may do. */
  maxWriteBytes?: number;
}

function take(faults: Faults, name: 'write' | 'datasync' | 'truncate'): Error | undefined {
  const err = faults[name];
  delete faults[name];
  return err;
}

function faultyHandle(handle: SegmentFileHandle, faults: Faults): SegmentFileHandle {
  return {
    write: async (buffer, offset, length, position) => {
      const err = take(faults, 'write');
      // A failing write may still have written part of the batch: half of it here.
      if (err) await handle.write(buffer, offset, Math.floor(length / 2), position);
      if (err) throw err;
      return handle.write(
        buffer,
        offset,
        Math.min(length, faults.maxWriteBytes ?? length),
        position,
      );
    },
    datasync: async () => {
      const err = take(faults, 'datasync');
      if (err) throw err;
      return handle.datasync();
    },
    truncate: async (length) => {
      const err = take(faults, 'truncate');
      if (err) throw err;
      return handle.truncate(length);
    },
    sync: () => handle.sync(),
    close: () => handle.close(),
  };
}

function faultyFiles(faults: Faults): SegmentFiles {
  return {
    ...NODE_SEGMENT_FILES,
    open: async (file, flags, mode) =>
      faultyHandle(await NODE_SEGMENT_FILES.open(file, flags, mode), faults),
  };
}

async function openStore(
  t: TestContext,
  options: ConstructorParameters<typeof SegmentFileStore>[0],
  logId = 'main',
) {
  const store = new SegmentFileStore(options);
  t.after(() => store.close());
  return { store, tail: await store.open(logId) };
}

function isCode(code: string) {
  return (err: unknown): boolean => isProxyError(err) && err.code === code;
}

describe('SegmentFileStore', () => {
  test('stores batches and reopens where the chain stands', async (t) => {
    const dir = await tempDir(t);
    const chain = new TestChain('main');
    const key = generateAuditSigningKey();
    const batches = [chain.frames(3), [...chain.frames(1), chain.checkpoint(key)], chain.frames(2)];
    const first = new SegmentFileStore({ dir });

    const empty = await first.open('main');
    for (const batch of batches) await first.append(batch);
    await first.close();
    await first.close();
    const { tail } = await openStore(t, { dir });

    const all = batches.flat();
    assert.deepEqual(empty, {
      lastSequence: 0,
      lastHash: undefined,
      lastKeyId: undefined,
      torn: undefined,
    });
    assert.deepEqual(tail, {
      lastSequence: 7,
      lastHash: frameHash(all[6]!.bytes),
      lastKeyId: key.keyId,
      torn: undefined,
    });
    assert.deepEqual(await segmentNames(dir), ['main.000000000001.audit']);
    assert.deepEqual(await readFile(path.join(dir, 'main.000000000001.audit')), delimited(all));
    assert.equal(first.description, `segment files in ${dir}`);
  });

  test('continues the log after a reopen and finds the latest key id in earlier segments', async (t) => {
    const dir = await tempDir(t);
    const chain = new TestChain('main');
    const [oldKey, newKey] = [generateAuditSigningKey(), generateAuditSigningKey()];
    const first = new SegmentFileStore({ dir, segmentMaxBytes: 1 });
    await first.open('main');
    await first.append([...chain.frames(1), chain.checkpoint(oldKey)]);
    await first.append([chain.rotation(oldKey, newKey)]);
    await first.append(chain.frames(2));
    await first.close();

    const { store, tail } = await openStore(t, { dir, segmentMaxBytes: 1 });
    const next = chain.frames(1);
    await store.append(next);

    assert.equal(tail.lastSequence, 5);
    assert.equal(tail.lastKeyId, newKey.keyId);
    assert.deepEqual(await segmentNames(dir), [
      'main.000000000001.audit',
      'main.000000000003.audit',
      'main.000000000004.audit',
      'main.000000000006.audit',
    ]);
    assert.deepEqual(await readBack(dir), range('main', 1, 6));
  });

  test('starts a new segment once the current one reaches segmentMaxBytes', async (t) => {
    const dir = await tempDir(t);
    const chain = new TestChain('main');
    const batches = [chain.frames(2), chain.frames(2), chain.frames(3), chain.frames(1)];
    const maxBytes = delimited(batches[0]!).length + 1;
    const { store } = await openStore(t, { dir, segmentMaxBytes: maxBytes });

    for (const batch of batches) await store.append(batch);

    assert.deepEqual(await segmentNames(dir), [
      'main.000000000001.audit',
      'main.000000000005.audit',
      'main.000000000008.audit',
    ]);
    const second = await readFile(path.join(dir, 'main.000000000005.audit'));
    assert.deepEqual(second, delimited(batches[2]!), 'a batch never spans two segments');
    assert.deepEqual(await readBack(dir), range('main', 1, 8));
  });

  test('starts a new segment once the current one is older than segmentMaxAgeMs', async (t) => {
    const dir = await tempDir(t);
    let nowMs = 1_700_000_000_000;
    const clock = () => nowMs;
    const chain = new TestChain('main', clock);
    const options = { dir, segmentMaxAgeMs: 1000, now: clock };
    const { store } = await openStore(t, options);

    await store.append(chain.frames(1));
    nowMs += 1000;
    await store.append(chain.frames(1));
    nowMs += 1;
    await store.append(chain.frames(1));
    await store.close();
    nowMs += 1001;
    const reopened = new SegmentFileStore(options);
    t.after(() => reopened.close());
    await reopened.open('main');
    await reopened.append(chain.frames(1));

    // After the reopen the age counts from the segment's first frame, 1001 ms before.
    assert.deepEqual(await segmentNames(dir), [
      'main.000000000001.audit',
      'main.000000000003.audit',
      'main.000000000004.audit',
    ]);
    assert.deepEqual(await readBack(dir), range('main', 1, 4));
  });

  test('cuts a torn last frame off at open and reports its bytes', async (t) => {
    const dir = await tempDir(t);
    const chain = new TestChain('main');
    const frames = chain.frames(2);
    const first = new SegmentFileStore({ dir });
    await first.open('main');
    await first.append(frames);
    await first.close();
    const file = path.join(dir, 'main.000000000001.audit');
    const [third] = chain.frames(1);
    await appendFile(file, delimit(third!.bytes).subarray(0, 20));

    const { store, tail } = await openStore(t, { dir });

    assert.deepEqual(tail.torn, { bytes: 20, segment: 'main.000000000001.audit' });
    assert.equal(tail.lastSequence, 2);
    assert.deepEqual(tail.lastHash, frameHash(frames[1]!.bytes));
    assert.deepEqual(await readFile(file), delimited(frames));
    await store.append([third!]);
    assert.deepEqual(await readBack(dir), range('main', 1, 3));
  });

  test('treats a corrupt length prefix or zeros at the end as a torn tail', async (t) => {
    for (const garbage of [
      Buffer.alloc(6, 0xff),
      Buffer.from([0x7f, 0xff, 0xff, 0xff, 0xff, 0x0f]),
      Buffer.alloc(512),
    ]) {
      const dir = await tempDir(t);
      const frames = new TestChain('main').frames(3);
      const file = path.join(dir, 'main.000000000001.audit');
      await writeFile(file, Buffer.concat([delimited(frames), garbage]));

      const { tail } = await openStore(t, { dir });

      assert.deepEqual(tail.torn, { bytes: garbage.length, segment: 'main.000000000001.audit' });
      assert.equal(tail.lastSequence, 3);
      assert.deepEqual(await readFile(file), delimited(frames));
    }
  });

  test('uses the previous segment when the last one is empty or only torn', async (t) => {
    const dir = await tempDir(t);
    const chain = new TestChain('main');
    const frames = chain.frames(2);
    await writeFile(path.join(dir, 'main.000000000001.audit'), delimited(frames));
    await writeFile(path.join(dir, 'main.000000000003.audit'), Buffer.from([0x40, 0x0a]));

    const { store, tail } = await openStore(t, { dir });
    const next = chain.frames(1);
    await store.append(next);

    assert.deepEqual(tail, {
      lastSequence: 2,
      lastHash: frameHash(frames[1]!.bytes),
      lastKeyId: undefined,
      torn: { bytes: 2, segment: 'main.000000000003.audit' },
    });
    assert.deepEqual(await readFile(path.join(dir, 'main.000000000003.audit')), delimited(next));
  });

  test('leaves an empty last segment named for another sequence and starts its own', async (t) => {
    const dir = await tempDir(t);
    const chain = new TestChain('main');
    await writeFile(path.join(dir, 'main.000000000001.audit'), delimited(chain.frames(2)));
    await writeFile(path.join(dir, 'main.000000000009.audit'), Buffer.alloc(0));

    const { store, tail } = await openStore(t, { dir });
    await store.append(chain.frames(1));

    assert.equal(tail.lastSequence, 2);
    assert.equal((await readFile(path.join(dir, 'main.000000000009.audit'))).length, 0);
    assert.deepEqual(await readBack(dir), range('main', 1, 3));
  });

  test('rejects at open a record in the middle that is not a frame', async (t) => {
    const dir = await tempDir(t);
    const [one, two] = new TestChain('main').frames(2);
    const bad = delimit(Buffer.from('not a frame'));
    const file = path.join(dir, 'main.000000000001.audit');
    await writeFile(file, Buffer.concat([delimit(one!.bytes), bad, delimit(two!.bytes)]));
    const store = new SegmentFileStore({ dir });

    await assert.rejects(store.open('main'), (err: unknown) => {
      assert.ok(isCode('ERR_AUDIT_STORE_INVALID')(err));
      assert.match(String((err as Error).message), /main\.000000000001\.audit .*offset \d+/);
      assert.match(
        String((err as Error).message),
        new RegExp(`offset ${delimit(one!.bytes).length}$`),
      );
      return true;
    });
    assert.equal(
      (await readFile(file)).length,
      delimit(one!.bytes).length + bad.length + delimit(two!.bytes).length,
    );
  });

  test('rejects at open damage in a segment before the last', async (t) => {
    const dir = await tempDir(t);
    const chain = new TestChain('main');
    const one = delimited(chain.frames(2));
    await writeFile(
      path.join(dir, 'main.000000000001.audit'),
      Buffer.concat([one, Buffer.from([0x50])]),
    );
    await writeFile(path.join(dir, 'main.000000000003.audit'), Buffer.alloc(0));

    await assert.rejects(new SegmentFileStore({ dir }).open('main'), (err: unknown) => {
      assert.ok(isCode('ERR_AUDIT_STORE_INVALID')(err));
      assert.match(
        (err as Error).message,
        new RegExp(`main\\.000000000001\\.audit holds torn record.* offset ${one.length}`),
      );
      return true;
    });
  });
});

describe('SegmentFileStore failures', () => {
  for (const fault of ['write', 'datasync'] as const) {
    test(`a failing ${fault} rejects, leaves the segment as it was, and the retry succeeds`, async (t) => {
      const dir = await tempDir(t);
      const chain = new TestChain('main');
      const faults: Faults = {};
      const { store } = await openStore(t, { dir, files: faultyFiles(faults) });
      const file = path.join(dir, 'main.000000000001.audit');
      const first = chain.frames(2);
      await store.append(first);
      const second = chain.frames(3);

      const code = fault === 'write' ? 'ENOSPC' : 'EIO';
      const injected = errno(code);
      faults[fault] = injected;
      await assert.rejects(store.append(second), (err: unknown) => {
        assert.ok(isCode('ERR_AUDIT_UNAVAILABLE')(err));
        assert.equal(
          (err as Error).message,
          `audit segment files in ${dir} cannot be written: ${code}`,
        );
        assert.equal((err as Error).cause, injected);
        return true;
      });
      assert.deepEqual(await readFile(file), delimited(first));
      await store.append(second);

      assert.deepEqual(await readFile(file), delimited([...first, ...second]));
    });
  }

  test('a batch that could not be cut off is cut before the next write', async (t) => {
    const dir = await tempDir(t);
    const chain = new TestChain('main');
    const faults: Faults = {};
    const { store } = await openStore(t, { dir, files: faultyFiles(faults) });
    const file = path.join(dir, 'main.000000000001.audit');
    const first = chain.frames(1);
    await store.append(first);
    const second = chain.frames(4);

    faults.write = errno('EIO');
    faults.truncate = errno('EIO');
    await assert.rejects(store.append(second), isCode('ERR_AUDIT_UNAVAILABLE'));
    const left = (await readFile(file)).length - delimited(first).length;
    // A shorter batch next shows the rest is cut, not merely written over.
    await store.append(second.slice(0, 1));

    assert.ok(left > delimited(second.slice(0, 1)).length, 'more than the next batch was left');
    assert.deepEqual(await readFile(file), delimited([...first, second[0]!]));
  });

  test('finishes a batch that the disk takes a few bytes at a time', async (t) => {
    const dir = await tempDir(t);
    const frames = new TestChain('main').frames(4);
    const { store } = await openStore(t, { dir, files: faultyFiles({ maxWriteBytes: 7 }) });

    await store.append(frames);

    assert.deepEqual(await readFile(path.join(dir, 'main.000000000001.audit')), delimited(frames));
  });

  test('refuses an append while another is in flight', async (t) => {
    const dir = await tempDir(t);
    const chain = new TestChain('main');
    const { store } = await openStore(t, { dir });
    const first = chain.frames(1);

    const pending = store.append(first);
    await assert.rejects(store.append(chain.frames(1)), /another append is in flight/);
    await pending;

    assert.deepEqual(await readBack(dir), ['main:1']);
  });

  test('refuses frames that do not continue the log, and appends before open', async (t) => {
    const dir = await tempDir(t);
    const frames = new TestChain('main').frames(3);
    const unopened = new SegmentFileStore({ dir });
    await assert.rejects(unopened.append(frames), isCode('ERR_AUDIT_UNAVAILABLE'));
    const { store } = await openStore(t, { dir });

    await assert.rejects(store.append([frames[1]!]), /sequence 2 where 1 was next/);
    await assert.rejects(store.append([frames[0]!, frames[2]!]), /sequence 3 where 2 was next/);
    await store.append(frames);
    await store.append([]);

    assert.deepEqual(await readBack(dir), range('main', 1, 3));
  });
});

describe('SegmentFileStore directory and log ids', () => {
  test('creates a missing directory for its owner only', async (t) => {
    const dir = path.join(await tempDir(t), 'var', 'audit');
    const { store } = await openStore(t, { dir });
    await store.append(new TestChain('main').frames(1));

    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    assert.equal((await stat(path.join(dir, 'main.000000000001.audit'))).mode & 0o777, 0o600);
  });

  test('keeps several logs in one directory apart', async (t) => {
    const dir = await tempDir(t);
    const counts = new Map([
      ['worker-1', 3],
      ['worker-1.000000000002', 1],
      ['w.2', 2],
    ]);
    const lastHashes = new Map<string, Buffer>();
    for (const [logId, count] of counts) {
      const chain = new TestChain(logId);
      const { store } = await openStore(t, { dir, segmentMaxBytes: 1 }, logId);
      const frames = chain.frames(count);
      for (const frame of frames) await store.append([frame]);
      lastHashes.set(logId, frameHash(frames[frames.length - 1]!.bytes));
    }

    for (const [logId, count] of counts) {
      const { tail } = await openStore(t, { dir }, logId);
      assert.equal(tail.lastSequence, count, logId);
      assert.deepEqual(tail.lastHash, lastHashes.get(logId), logId);
    }
    assert.deepEqual(await readBack(dir), [
      ...range('w.2', 1, 2),
      ...range('worker-1', 1, 3),
      ...range('worker-1.000000000002', 1, 1),
    ]);
    assert.ok((await segmentNames(dir)).includes('worker-1.000000000002.000000000001.audit'));
  });

  test('refuses an invalid log id', async (t) => {
    const dir = await tempDir(t);
    for (const logId of ['', '.hidden', '..', 'a/b', '../escape', 'a b', 'x\\y', 'l'.repeat(300)]) {
      await assert.rejects(
        new SegmentFileStore({ dir }).open(logId),
        isCode('ERR_AUDIT_STORE_INVALID'),
        logId,
      );
    }
    assert.deepEqual(await readdir(dir), []);
  });

  test('refuses a directory that cannot be created and a second open', async (t) => {
    const parent = await tempDir(t);
    const file = path.join(parent, 'not-a-dir');
    await writeFile(file, 'x');

    await assert.rejects(new SegmentFileStore({ dir: file }).open('main'), (err: unknown) => {
      assert.ok(isCode('ERR_AUDIT_STORE_INVALID')(err));
      assert.match((err as Error).message, /cannot be opened: (EEXIST|ENOTDIR)$/);
      return true;
    });
    const { store } = await openStore(t, { dir: parent });
    await assert.rejects(store.open('other'), /already hold log main open/);
  });
});
