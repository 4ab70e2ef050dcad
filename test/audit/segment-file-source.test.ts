// Tests of the segment file source: record order, positions, damage, and what it ignores.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';

import { frameHash, genesisHash } from '../../src/audit/audit-chain';
import { decodeFrame, delimit, encodeFrame } from '../../src/audit/audit-frame-codec';
import type { StoredRecord } from '../../src/audit/audit-store';
import { SegmentFileSource } from '../../src/audit/segment-file-source';
import { isProxyError } from '../../src/errors/proxy-error';

/** The encoded frames `from`..`to` of a valid chain of `logId`. */
function chainFrames(logId: string, from: number, to: number): Buffer[] {
  const frames: Buffer[] = [];
  let previousHash = genesisHash(logId);
  for (let sequence = 1; sequence <= to; sequence++) {
    const event = { gatewayStopped: { reason: `stop ${sequence}` } };
    const bytes = encodeFrame({
      logId,
      sequence,
      timeUnixMicros: sequence,
      previousHash,
      ...event,
    });
    previousHash = frameHash(bytes);
    if (sequence >= from) frames.push(bytes);
  }
  return frames;
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'infergate-source-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function writeSegment(dir: string, name: string, ...parts: Buffer[]): Promise<void> {
  await writeFile(path.join(dir, name), Buffer.concat(parts));
}

function delimited(frames: readonly Buffer[]): Buffer {
  return Buffer.concat(frames.map(delimit));
}

async function collect(source: SegmentFileSource): Promise<StoredRecord[]> {
  const records: StoredRecord[] = [];
  for await (const record of source.records()) records.push(record);
  return records;
}

/** `logId:sequence@where` for a frame, `logId:damage@where` for damage. */
function summary(record: StoredRecord): string {
  if (record.kind === 'damage') return `${record.logId}:damage@${record.where}`;
  return `${record.logId}:${decodeFrame(record.bytes).sequence}@${record.where}`;
}

function isStoreInvalid(err: unknown): boolean {
  return isProxyError(err) && err.code === 'ERR_AUDIT_STORE_INVALID';
}

describe('SegmentFileSource', () => {
  test('yields each log in log id order, its segments in sequence order, with positions', async (t) => {
    const dir = await tempDir(t);
    const [a1, a2, a3] = chainFrames('a', 1, 3);
    const b = chainFrames('b.1', 1, 1);
    // Written out of order, and with a sequence past 12 digits, to show the order is neither
    // the order of the listing nor that of the names as strings.
    await writeSegment(dir, 'b.1.000000000001.audit', delimited(b));
    await writeSegment(dir, 'a.1000000000000.audit', Buffer.from([0x7f]));
    await writeSegment(dir, 'a.000000000003.audit', delimited([a3!]));
    await writeSegment(dir, 'a.999999999999.audit', Buffer.from([0x7e]));
    await writeSegment(dir, 'a.000000000001.audit', delimited([a1!, a2!]));

    const records = await collect(new SegmentFileSource({ dir }));

    const second = delimit(a1!).length;
    assert.deepEqual(records.map(summary), [
      'a:1@a.000000000001.audit:0',
      `a:2@a.000000000001.audit:${second}`,
      'a:3@a.000000000003.audit:0',
      'a:damage@a.999999999999.audit:0',
      'a:damage@a.1000000000000.audit:0',
      'b.1:1@b.1.000000000001.audit:0',
    ]);
    const first = records[0]!;
    assert.ok(first.kind === 'frame' && first.bytes.equals(a1!));
  });

  test('reports a torn tail with its file and offset, then reads the next segment', async (t) => {
    const dir = await tempDir(t);
    const frames = chainFrames('main', 1, 3);
    const whole = delimited(frames.slice(0, 2));
    await writeSegment(dir, 'main.000000000001.audit', whole, delimit(frames[2]!).subarray(0, 9));
    await writeSegment(dir, 'main.000000000003.audit', delimited(frames.slice(2)));

    const records = await collect(new SegmentFileSource({ dir }));

    assert.deepEqual(records.map(summary), [
      'main:1@main.000000000001.audit:0',
      `main:2@main.000000000001.audit:${delimit(frames[0]!).length}`,
      `main:damage@main.000000000001.audit:${whole.length}`,
      'main:3@main.000000000003.audit:0',
    ]);
    const damage = records[2]!;
    assert.ok(damage.kind === 'damage');
    assert.match(damage.reason, /^torn record: 9 bytes after the last whole record$/);
  });

  test('reports a corrupt length prefix and reads nothing after it in that segment', async (t) => {
    const dir = await tempDir(t);
    const frames = chainFrames('main', 1, 2);
    const corrupt = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    await writeSegment(
      dir,
      'main.000000000001.audit',
      delimit(frames[0]!),
      corrupt,
      delimit(frames[1]!),
    );

    const records = await collect(new SegmentFileSource({ dir }));

    assert.deepEqual(records.map(summary), [
      'main:1@main.000000000001.audit:0',
      `main:damage@main.000000000001.audit:${delimit(frames[0]!).length}`,
    ]);
    assert.ok(records[1]!.kind === 'damage');
    assert.match(records[1]!.reason, /^corrupt length prefix: /);
  });

  test('ignores files that are not segments', async (t) => {
    const dir = await tempDir(t);
    await writeSegment(dir, 'main.000000000001.audit', delimited(chainFrames('main', 1, 1)));
    for (const name of ['README', 'main.audit', 'main.12.audit', '.main.000000000001.audit']) {
      await writeSegment(dir, name, Buffer.from('not a segment'));
    }
    await writeSegment(dir, 'main.000000000002.audit.tmp', Buffer.from('not a segment'));
    await mkdir(path.join(dir, 'main.000000000005.audit'));

    const records = await collect(new SegmentFileSource({ dir }));

    assert.deepEqual(records.map(summary), ['main:1@main.000000000001.audit:0']);
  });

  test('reads only the logs asked for', async (t) => {
    const dir = await tempDir(t);
    for (const logId of ['a', 'b', 'c']) {
      await writeSegment(dir, `${logId}.000000000001.audit`, delimited(chainFrames(logId, 1, 1)));
    }

    const records = await collect(new SegmentFileSource({ dir, logIds: ['c', 'a'] }));

    assert.deepEqual(records.map(summary), [
      'a:1@a.000000000001.audit:0',
      'c:1@c.000000000001.audit:0',
    ]);
    assert.throws(() => new SegmentFileSource({ dir, logIds: ['../a'] }), isStoreInvalid);
  });

  test('reads each segment only when it gets to it', async (t) => {
    const dir = await tempDir(t);
    const frames = chainFrames('main', 1, 3);
    await writeSegment(dir, 'main.000000000001.audit', delimited(frames.slice(0, 1)));
    await writeSegment(dir, 'main.000000000002.audit', delimited(frames.slice(1, 2)));
    await writeSegment(dir, 'main.000000000003.audit', delimited(frames.slice(2)));
    const iterator = new SegmentFileSource({ dir }).records()[Symbol.asyncIterator]();

    const first = await iterator.next();
    await writeSegment(dir, 'main.000000000002.audit', Buffer.from([0x7f]));
    await unlink(path.join(dir, 'main.000000000003.audit'));
    const second = await iterator.next();

    assert.equal(first.done, false);
    assert.equal(second.done, false);
    assert.equal(second.value.kind, 'damage');
    await assert.rejects(iterator.next(), (err: unknown) => {
      assert.ok(isStoreInvalid(err));
      assert.match((err as Error).message, /main\.000000000003\.audit cannot be read: ENOENT$/);
      return true;
    });
  });

  test('rejects a directory that does not exist', async (t) => {
    const dir = path.join(await tempDir(t), 'missing');
    const source = new SegmentFileSource({ dir });

    await assert.rejects(collect(source), (err: unknown) => {
      assert.ok(isStoreInvalid(err));
      assert.equal((err as Error).message, `audit ${dir} cannot be read: ENOENT`);
      return true;
    });
    assert.equal(source.description, `segment files in ${dir}`);
  });
});
