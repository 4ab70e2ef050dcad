// Tests for verifyAudit on sound logs: counts, verdicts, sources, several logs, trusted keys,
// options, and the property that any flipped byte shows.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import fc from 'fast-check';

import { isProxyError } from '../../src/errors/proxy-error';
import { delimit } from '../../src/audit/audit-frame-codec';
import type { StoredRecord } from '../../src/audit/audit-store';
import { segmentRecords } from '../../src/audit/segment-names';
import { verifyAudit, type FrameVerdict, type LogReport } from '../../src/audit/audit-verifier';
import { buildAuditLog, flipByte, seededSigningKey, verifyingKey } from './audit-log-fixture';

// The default fixture: 39 frames, checkpoints at 6, 12, 18, 24, 30, 36, the rotation at 16.
const FRAMES = 39;
const LAST_CHECKPOINT = 36;
const RUNS = { seed: 20250614, numRuns: 300 };

function kindsOf(log: LogReport | undefined): string[] {
  return log?.breaks.map((found) => found.kind) ?? [];
}

function rejectsWith(code: string): (err: unknown) => boolean {
  return (err) => isProxyError(err) && err.code === code;
}

async function* slowly(records: readonly StoredRecord[]): AsyncGenerator<StoredRecord> {
  for (const record of records) yield await Promise.resolve(record);
}

describe('verifyAudit on a sound log', () => {
  test('verifies a log with a rotation, a gap and several checkpoints', async () => {
    const fixture = buildAuditLog();

    const report = await verifyAudit(fixture.records, { keys: fixture.verifyingKeys });

    assert.equal(report.ok, true);
    const [log] = report.logs;
    assert.deepEqual(kindsOf(log), []);
    assert.equal(log?.framesRead, FRAMES);
    assert.equal(log?.framesVerified, FRAMES);
    assert.equal(log?.firstSequence, 1);
    assert.equal(log?.lastSequence, FRAMES);
    assert.equal(log?.unsignedTail, FRAMES - LAST_CHECKPOINT);
    assert.deepEqual(log?.lastCheckpoint, {
      frameSequence: LAST_CHECKPOINT,
      headSequence: LAST_CHECKPOINT - 1,
      keyId: fixture.second.keyId,
      timeUnixMicros: fixture.frames[LAST_CHECKPOINT - 1]!.timeUnixMicros,
    });
    assert.deepEqual(log?.rotations, [
      {
        sequence: fixture.rotation,
        previousKeyId: fixture.first.keyId,
        keyId: fixture.second.keyId,
        vouched: true,
      },
    ]);
    assert.deepEqual(log?.gaps, [
      { sequence: 25, lastSequence: 24, tornBytes: 37, segment: 'segment-000001.log' },
    ]);
  });

  test('has no unsigned tail when the log ends on a checkpoint', async () => {
    const fixture = buildAuditLog();

    const report = await verifyAudit(fixture.records.slice(0, LAST_CHECKPOINT), {
      keys: fixture.verifyingKeys,
    });

    assert.equal(report.ok, true);
    assert.equal(report.logs[0]?.unsignedTail, 0);
    assert.equal(report.logs[0]?.framesVerified, LAST_CHECKPOINT);
  });

  test('hands every frame its verdict in storage order', async () => {
    const fixture = buildAuditLog();
    const verdicts: FrameVerdict[] = [];

    await verifyAudit(fixture.records, {
      keys: fixture.verifyingKeys,
      onFrame: (verdict) => verdicts.push(verdict),
    });

    assert.deepEqual(
      verdicts.map((verdict) => verdict.where),
      fixture.records.map((record) => record.where),
    );
    assert.deepEqual(
      verdicts.map((verdict) => verdict.sequence),
      fixture.frames.map((frame) => frame.sequence),
    );
    const statuses = verdicts.map((verdict) => verdict.status);
    const expected = fixture.frames.map((f) =>
      f.sequence <= LAST_CHECKPOINT ? 'verified' : 'unsigned',
    );
    assert.deepEqual(statuses, expected);
    assert.equal(verdicts[fixture.rotation - 1]?.kind, 'keyRotated');
    assert.equal(verdicts[2]?.frame?.kind, 'exchangeStarted');
  });

  test('holds back verdicts only until the checkpoint that settles them', async () => {
    const fixture = buildAuditLog();
    let pulled = 0;
    let mostWaiting = 0;
    const counted = function* (): Generator<StoredRecord> {
      for (const record of fixture.records) {
        pulled += 1;
        yield record;
      }
    };
    const settledAt: number[] = [];

    await verifyAudit(counted(), {
      keys: fixture.verifyingKeys,
      onFrame: () => {
        mostWaiting = Math.max(mostWaiting, pulled - settledAt.length);
        settledAt.push(pulled);
      },
    });

    // Frame 1's verdict waits for checkpoint 6, frame 7's for checkpoint 12.
    assert.equal(settledAt[0], 6);
    assert.equal(settledAt[6], 12);
    // The checkpoint and the 5 frames before it are the most ever waiting.
    assert.equal(mostWaiting, 6);
    assert.equal(settledAt.length, FRAMES);
  });

  test('marks frames cut off by a break as broken and those after it verified', async () => {
    const fixture = buildAuditLog();
    const records = fixture.records.filter((_, index) => index !== 8);
    const statuses = new Map<number | undefined, string>();

    await verifyAudit(records, {
      keys: fixture.verifyingKeys,
      onFrame: (verdict) => statuses.set(verdict.sequence, verdict.status),
    });

    assert.deepEqual(
      [6, 7, 8, 10, 11, 12].map((sequence) => statuses.get(sequence)),
      ['verified', 'broken', 'broken', 'broken', 'verified', 'verified'],
    );
  });

  test('reads an AuditSource, an async iterable and an array alike', async () => {
    const fixture = buildAuditLog();
    const options = { keys: fixture.verifyingKeys };
    const source = { description: 'memory', records: () => slowly(fixture.records) };

    const reports = [
      await verifyAudit(source, options),
      await verifyAudit(slowly(fixture.records), options),
      await verifyAudit(fixture.records, options),
    ];

    for (const report of reports) assert.deepEqual(report, reports[2]);
    assert.equal(reports[0]!.ok, true);
  });

  test('rejects with the error of a source that fails', async () => {
    const failing = async function* (): AsyncGenerator<StoredRecord> {
      yield* [];
      throw new Error('segment unreadable');
    };

    await assert.rejects(verifyAudit(failing(), { keys: [] }), /segment unreadable/);
  });
});

describe('verifyAudit on several logs', () => {
  test('verifies interleaved logs independently', async () => {
    const a = buildAuditLog({ logId: 'log-a' });
    const b = buildAuditLog({ logId: 'log-b', events: 20 });
    const tamperedB = b.records.filter((_, index) => index !== 4);
    const records = a.records.flatMap((record, index) => [
      record,
      ...tamperedB.slice(index, index + 1),
    ]);

    const report = await verifyAudit(records, { keys: [...a.verifyingKeys, ...b.verifyingKeys] });

    assert.equal(report.ok, false);
    assert.deepEqual(
      report.logs.map((log) => log.logId),
      ['log-a', 'log-b'],
    );
    assert.deepEqual(kindsOf(report.logs[0]), []);
    assert.equal(report.logs[0]?.framesVerified, FRAMES);
    assert.deepEqual(kindsOf(report.logs[1]), ['sequence_gap']);
    assert.equal(report.logs[1]?.framesRead, b.records.length - 1);
  });

  test('verifies two sound logs as ok', async () => {
    const a = buildAuditLog({ logId: 'log-a' });
    const b = buildAuditLog({ logId: 'log-b' });

    const report = await verifyAudit([...a.records, ...b.records], {
      keys: [...a.verifyingKeys, ...b.verifyingKeys],
    });

    assert.equal(report.ok, true);
    assert.equal(report.logs.length, 2);
  });
});

describe('verifyAudit trusts only the keys it is given', () => {
  test('trusts nothing without keys', async () => {
    const fixture = buildAuditLog();

    const report = await verifyAudit(fixture.records, { keys: [] });

    const unknown = Array<string>(2).fill('checkpoint_unknown_key');
    const after = Array<string>(4).fill('checkpoint_unknown_key');
    assert.deepEqual(kindsOf(report.logs[0]), [...unknown, 'rotation_unvouched', ...after]);
    assert.equal(report.logs[0]?.lastCheckpoint, undefined);
    assert.equal(report.logs[0]?.unsignedTail, FRAMES);
  });

  test("does not trust a vouched rotation's new key it was not given", async () => {
    const fixture = buildAuditLog();

    const report = await verifyAudit(fixture.records, { keys: [verifyingKey(fixture.first)] });

    assert.equal(report.logs[0]?.rotations[0]?.vouched, true);
    assert.deepEqual(kindsOf(report.logs[0]), Array(4).fill('checkpoint_unknown_key'));
    assert.equal(report.logs[0]?.lastCheckpoint?.frameSequence, 12);
  });

  test('cannot vouch for a rotation without the previous key', async () => {
    const fixture = buildAuditLog();

    const report = await verifyAudit(fixture.records, { keys: [verifyingKey(fixture.second)] });

    assert.deepEqual(kindsOf(report.logs[0]), [
      'checkpoint_unknown_key',
      'checkpoint_unknown_key',
      'rotation_unvouched',
    ]);
  });

  test('does not verify a log against the keys of another', async () => {
    const fixture = buildAuditLog();
    const other = buildAuditLog({ logId: 'log-b' });

    const report = await verifyAudit(fixture.records, { keys: other.verifyingKeys });

    assert.equal(report.ok, false);
  });

  test('refuses a key whose id is not its own', async () => {
    const fixture = buildAuditLog();
    const posing = { ...verifyingKey(seededSigningKey('intruder')), keyId: fixture.first.keyId };

    await assert.rejects(
      verifyAudit(fixture.records, { keys: [posing] }),
      rejectsWith('ERR_AUDIT_KEY_INVALID'),
    );
  });

  test('refuses a private key as a verifying key', async () => {
    const key = seededSigningKey('first');
    const wrong = { keyId: key.keyId, publicKey: key.privateKey };

    await assert.rejects(verifyAudit([], { keys: [wrong] }), rejectsWith('ERR_AUDIT_KEY_INVALID'));
  });
});

describe('verifyAudit options', () => {
  test('refuses a malformed witness head', async () => {
    const head = { logId: 'log-a', sequence: 3, hash: Buffer.alloc(31) };

    await assert.rejects(verifyAudit([], { keys: [], heads: [head] }), rejectsWith('ERR_USAGE'));
  });

  test('refuses two witness heads that contradict each other', async () => {
    const heads = [1, 2].map((fill) => ({
      logId: 'log-a',
      sequence: 3,
      hash: Buffer.alloc(32, fill),
    }));

    await assert.rejects(verifyAudit([], { keys: [], heads }), rejectsWith('ERR_USAGE'));
  });

  test('lists at most maxBreaksPerLog breaks and counts the rest', async () => {
    const fixture = buildAuditLog();
    const doubled = fixture.records.flatMap((record) => [record, record]);

    const report = await verifyAudit(doubled, { keys: fixture.verifyingKeys, maxBreaksPerLog: 5 });

    assert.equal(report.ok, false);
    assert.equal(report.logs[0]?.breaks.length, 5);
    assert.equal(report.logs[0]?.breaksOmitted, FRAMES - 5);
  });

  test('refuses a bound on breaks that is not a positive integer', async () => {
    await assert.rejects(
      verifyAudit([], { keys: [], maxBreaksPerLog: 0 }),
      rejectsWith('ERR_USAGE'),
    );
  });
});

describe('verifyAudit properties', () => {
  const fixture = buildAuditLog();
  const flips = (frames: number) =>
    fc.record({
      index: fc.nat({ max: frames - 1 }),
      offset: fc.nat(),
      mask: fc.integer({ min: 1, max: 255 }),
    });

  test('notices any single flipped byte of any frame, given a witness head', async () => {
    await fc.assert(
      fc.asyncProperty(flips(FRAMES), async ({ index, offset, mask }) => {
        const records = [...fixture.records];
        const bytes = (records[index] as { bytes: Buffer }).bytes;
        records[index] = flipByte(records[index]!, offset % bytes.length, mask);
        const options = { keys: fixture.verifyingKeys, heads: [fixture.head] };
        const report = await verifyAudit(records, options);
        assert.equal(report.ok, false);
      }),
      RUNS,
    );
  });

  test('notices any single flipped byte before the last frame without a witness', async () => {
    await fc.assert(
      fc.asyncProperty(flips(FRAMES - 1), async ({ index, offset, mask }) => {
        const records = [...fixture.records];
        const bytes = (records[index] as { bytes: Buffer }).bytes;
        records[index] = flipByte(records[index]!, offset % bytes.length, mask);
        const report = await verifyAudit(records, { keys: fixture.verifyingKeys });
        assert.equal(report.ok, false);
      }),
      RUNS,
    );
  });

  test('notices any removed frame, given a witness head', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: FRAMES - 1 }), async (removed) => {
        const records = fixture.records.filter((_, index) => index !== removed);
        const options = { keys: fixture.verifyingKeys, heads: [fixture.head] };
        const report = await verifyAudit(records, options);
        assert.equal(report.ok, false);
      }),
      RUNS,
    );
  });
});

describe('verifyAudit on a corrupted segment', () => {
  const fixture = buildAuditLog();
  const segment = Buffer.concat(
    fixture.records.map((record) => delimit((record as { bytes: Buffer }).bytes)),
  );
  /** Random bytes written over, inserted into, or cut from the segment's bytes. */
  const corruption = fc.oneof(
    fc
      .tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 64 }))
      .map(([at, bytes]) => (data: Buffer) => {
        const copy = Buffer.from(data);
        copy.set(bytes.subarray(0, copy.length - (at % copy.length)), at % copy.length);
        return copy;
      }),
    fc
      .tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 64 }))
      .map(([at, bytes]) => (data: Buffer) => {
        const cut = at % (data.length + 1);
        return Buffer.concat([data.subarray(0, cut), bytes, data.subarray(cut)]);
      }),
    fc.nat().map((at) => (data: Buffer) => data.subarray(0, at % data.length)),
  );

  test('reads any corruption as a break, given a witness head, and never throws', async () => {
    await fc.assert(
      fc.asyncProperty(corruption, async (corrupt) => {
        const damaged = corrupt(segment);
        fc.pre(!damaged.equals(segment));
        const records: StoredRecord[] = [...segmentRecords(damaged)].map((record, index) => {
          const where = `segment:${index}`;
          return record.kind === 'frame'
            ? { kind: 'frame', logId: fixture.logId, where, bytes: record.bytes }
            : { kind: 'damage', logId: fixture.logId, where, reason: record.reason };
        });
        const options = { keys: fixture.verifyingKeys, heads: [fixture.head] };
        const report = await verifyAudit(records, options);
        assert.equal(report.ok, false);
      }),
      RUNS,
    );
  });
});
