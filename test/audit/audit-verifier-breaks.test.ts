// Tests that each way of tampering with a stored audit log shows as its own kind of break.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { AuditFrame, CheckpointEvent } from '../../src/audit/audit-events';
import { decodeFrame } from '../../src/audit/audit-frame-codec';
import { signCheckpoint, signRotation } from '../../src/audit/audit-signing';
import type { StoredRecord } from '../../src/audit/audit-store';
import {
  verifyAudit,
  type AuditVerifyOptions,
  type LogReport,
} from '../../src/audit/audit-verifier';
import {
  buildAuditLog,
  flipByte,
  frameOf,
  rechain,
  replaceFrame,
  seededSigningKey,
  storeFrames,
  type AuditLogFixture,
} from './audit-log-fixture';

// The default fixture: 39 frames, checkpoints at 6, 12, 18, 24, 30, 36, the rotation at 16.
const LAST_CHECKPOINT = 36;

async function verifyLog(
  fixture: AuditLogFixture,
  records: readonly StoredRecord[],
  options: Partial<AuditVerifyOptions> = {},
): Promise<LogReport> {
  const report = await verifyAudit(records, { keys: fixture.verifyingKeys, ...options });
  assert.equal(report.logs.length, 1);
  assert.equal(report.ok, report.logs[0]!.breaks.length === 0);
  return report.logs[0]!;
}

function kindsOf(log: LogReport): string[] {
  return log.breaks.map((found) => found.kind);
}

/** The log's frames with frame `sequence` swapped for `edit` of it, relinked after it. */
function rewritten(
  fixture: AuditLogFixture,
  sequence: number,
  edit: (f: AuditFrame) => AuditFrame,
) {
  const frames = fixture.frames.map((frame) => (frame.sequence === sequence ? edit(frame) : frame));
  return storeFrames(fixture.logId, rechain(fixture.logId, frames));
}

function withCheckpoint(fixture: AuditLogFixture, checkpoint: CheckpointEvent) {
  return rewritten(fixture, LAST_CHECKPOINT, (frame) => ({ ...frame, checkpoint }) as AuditFrame);
}

function headHashBefore(fixture: AuditLogFixture, sequence: number): Buffer {
  return fixture.frames[sequence - 1]!.previousHash;
}

describe('verifyAudit breaks', () => {
  test('reports bytes that do not decode as undecodable, then re-anchors', async () => {
    const fixture = buildAuditLog();
    const records = [...fixture.records];
    // The log id's length prefix now announces more bytes than the frame has.
    records[8] = flipByte(records[8]!, 1, 0xff);
    assert.throws(() => decodeFrame((records[8] as { bytes: Buffer }).bytes));

    const log = await verifyLog(fixture, records);

    assert.deepEqual(kindsOf(log), ['undecodable']);
    assert.equal(log.breaks[0]!.where, fixture.records[8]!.where);
    assert.equal(log.breaks[0]!.sequence, undefined);
    assert.equal(log.framesRead, 39);
    // 7 and 8 lose their checkpoint, 9 is unreadable, 10 cannot be linked.
    assert.equal(log.framesVerified, 35);
  });

  test('reports a torn tail from the store as damage', async () => {
    const fixture = buildAuditLog();
    const where = 'log-a/segment-000003.log:1877';
    const torn = { kind: 'damage', logId: 'log-a', where, reason: 'torn frame' } as const;

    const log = await verifyLog(fixture, [...fixture.records, torn]);

    assert.deepEqual(kindsOf(log), ['damage']);
    assert.equal(log.breaks[0]!.where, where);
    assert.equal(log.framesVerified, LAST_CHECKPOINT);
  });

  test('reports a corrupt prefix as damage alone: frames after it re-anchor', async () => {
    const fixture = buildAuditLog();
    const where = fixture.records[20]!.where;
    const corrupt = { kind: 'damage', logId: 'log-a', where, reason: 'bad prefix' } as const;
    const records = [...fixture.records.slice(0, 20), corrupt, ...fixture.records.slice(23)];

    const log = await verifyLog(fixture, records);

    assert.deepEqual(kindsOf(log), ['damage']);
    assert.equal(log.framesRead, 36);
  });

  test('reports an edited frame as a chain break at the next frame', async () => {
    const fixture = buildAuditLog();
    const records = [...fixture.records];
    const edited = frameOf(records[2]!) as AuditFrame & { exchangeStarted: object };
    records[2] = replaceFrame(records[2]!, {
      ...edited,
      exchangeStarted: { ...edited.exchangeStarted, model: 'llama-70b' },
    } as AuditFrame);

    const log = await verifyLog(fixture, records);

    assert.deepEqual(kindsOf(log), ['chain_break']);
    assert.equal(log.breaks[0]!.sequence, 4);
    assert.equal(log.breaks[0]!.where, fixture.records[3]!.where);
  });

  test('reports a flipped byte inside a string as a chain break', async () => {
    const fixture = buildAuditLog();
    const records = [...fixture.records];
    const at = (records[2] as { bytes: Buffer }).bytes.indexOf('llama-3b') + 6;
    records[2] = flipByte(records[2]!, at, 0x04);

    const log = await verifyLog(fixture, records);

    assert.deepEqual(kindsOf(log), ['chain_break']);
    assert.equal(log.breaks[0]!.sequence, 4);
  });

  test('reports a removed frame as a sequence gap', async () => {
    const fixture = buildAuditLog();
    const records = fixture.records.filter((_, index) => index !== 8);

    const log = await verifyLog(fixture, records);

    assert.deepEqual(kindsOf(log), ['sequence_gap']);
    assert.equal(log.breaks[0]!.sequence, 10);
    assert.equal(log.breaks[0]!.where, fixture.records[9]!.where);
  });

  test('reports a removal hidden by a recomputed chain as failing checkpoints', async () => {
    const fixture = buildAuditLog();
    const frames = rechain(
      'log-a',
      fixture.frames.filter((f) => f.sequence !== 21),
    );

    const log = await verifyLog(fixture, storeFrames('log-a', frames));

    assert.deepEqual(kindsOf(log), Array(3).fill('checkpoint_mismatch'));
    assert.deepEqual(
      log.breaks.map((found) => found.sequence),
      [23, 29, 35],
    );
  });

  test('reports checkpoints pointed at the recomputed chain as bad signatures', async () => {
    const fixture = buildAuditLog();
    const frames = rechain(
      'log-a',
      fixture.frames.filter((f) => f.sequence !== 21),
      true,
    );

    const log = await verifyLog(fixture, storeFrames('log-a', frames));

    assert.deepEqual(kindsOf(log), Array(3).fill('checkpoint_bad_signature'));
    assert.equal(log.lastCheckpoint?.frameSequence, 18);
  });

  test('reports swapped frames as a gap then a reorder', async () => {
    const fixture = buildAuditLog();
    const records = [...fixture.records];
    [records[8], records[9]] = [records[9]!, records[8]!];

    const log = await verifyLog(fixture, records);

    assert.deepEqual(kindsOf(log), ['sequence_gap', 'sequence_reorder']);
    assert.deepEqual(
      log.breaks.map((found) => found.sequence),
      [10, 9],
    );
  });

  test('reports a stored copy of a frame as a duplicate sequence', async () => {
    const fixture = buildAuditLog();
    const copy = { ...fixture.records[8]!, where: 'log-a/segment-000009.log:0' };
    const records = [...fixture.records.slice(0, 9), copy, ...fixture.records.slice(9)];

    const log = await verifyLog(fixture, records);

    assert.deepEqual(kindsOf(log), ['duplicate_sequence']);
    assert.equal(log.breaks[0]!.where, copy.where);
    assert.equal(log.breaks[0]!.sequence, 9);
  });

  test('reports frames of another log spliced in as foreign, once each', async () => {
    const fixture = buildAuditLog();
    const other = buildAuditLog({ logId: 'log-b' });
    const spliced = other.records.slice(4, 6).map((record) => ({ ...record, logId: 'log-a' }));
    const records = [...fixture.records.slice(0, 10), ...spliced, ...fixture.records.slice(10)];

    const log = await verifyLog(fixture, records);

    assert.deepEqual(kindsOf(log), ['foreign_frame', 'foreign_frame']);
    assert.deepEqual(
      log.breaks.map((found) => found.sequence),
      [5, 6],
    );
    assert.match(log.breaks[0]!.message, /log-b/);
  });

  test('reports a truncated head as a missing start', async () => {
    const fixture = buildAuditLog();

    const log = await verifyLog(fixture, fixture.records.slice(3));

    assert.deepEqual(kindsOf(log), ['missing_start']);
    assert.equal(log.breaks[0]!.sequence, 4);
    assert.equal(log.firstSequence, 4);
  });

  test('reports a first frame without the genesis hash as a missing start', async () => {
    const fixture = buildAuditLog();
    const records = [...fixture.records];
    records[0] = replaceFrame(records[0]!, {
      ...fixture.frames[0]!,
      previousHash: Buffer.alloc(32),
    });

    const log = await verifyLog(fixture, records);

    // Frame 1's bytes changed too, so frame 2 no longer links to it.
    assert.deepEqual(kindsOf(log), ['missing_start', 'chain_break']);
    assert.equal(log.breaks[0]!.sequence, 1);
  });

  test('reports a replayed old checkpoint as a checkpoint mismatch', async () => {
    const fixture = buildAuditLog();
    const old = (fixture.frames[29] as { checkpoint: CheckpointEvent }).checkpoint;

    const log = await verifyLog(fixture, withCheckpoint(fixture, old));

    assert.deepEqual(kindsOf(log), ['checkpoint_mismatch']);
    assert.equal(log.breaks[0]!.sequence, LAST_CHECKPOINT);
    assert.equal(log.lastCheckpoint?.frameSequence, 30);
  });

  test('reports a checkpoint signed by a key not given as unknown', async () => {
    const fixture = buildAuditLog();
    const intruder = seededSigningKey('intruder');
    const head = headHashBefore(fixture, LAST_CHECKPOINT);
    const checkpoint = signCheckpoint(intruder, 'log-a', LAST_CHECKPOINT - 1, head);

    const log = await verifyLog(fixture, withCheckpoint(fixture, checkpoint));

    assert.deepEqual(kindsOf(log), ['checkpoint_unknown_key']);
    assert.match(log.breaks[0]!.message, new RegExp(intruder.keyId));
  });

  test('reports a forged signature under a trusted key id as a bad signature', async () => {
    const fixture = buildAuditLog();
    const head = headHashBefore(fixture, LAST_CHECKPOINT);
    const real = signCheckpoint(fixture.second, 'log-a', LAST_CHECKPOINT - 1, head);
    const signature = Buffer.from(real.signature);
    signature[10] = signature[10]! ^ 0x20;

    const log = await verifyLog(fixture, withCheckpoint(fixture, { ...real, signature }));

    assert.deepEqual(kindsOf(log), ['checkpoint_bad_signature']);
  });

  test('reports a checkpoint signed by another key under a trusted id as a bad signature', async () => {
    const fixture = buildAuditLog();
    const intruder = seededSigningKey('intruder');
    const posing = { ...intruder, keyId: fixture.second.keyId };
    const head = headHashBefore(fixture, LAST_CHECKPOINT);
    const checkpoint = signCheckpoint(posing, 'log-a', LAST_CHECKPOINT - 1, head);

    const log = await verifyLog(fixture, withCheckpoint(fixture, checkpoint));

    assert.deepEqual(kindsOf(log), ['checkpoint_bad_signature']);
  });

  test('reports a checkpoint signed by a key a rotation retired', async () => {
    const fixture = buildAuditLog();
    const head = headHashBefore(fixture, LAST_CHECKPOINT);
    const checkpoint = signCheckpoint(fixture.first, 'log-a', LAST_CHECKPOINT - 1, head);

    const log = await verifyLog(fixture, withCheckpoint(fixture, checkpoint));

    assert.deepEqual(kindsOf(log), ['checkpoint_retired_key']);
  });

  test('reports a rotation the previous key did not sign as unvouched', async () => {
    // Whoever holds the new key wrote this log, and posed as the previous key.
    const fixture = buildAuditLog({
      signRotation: (previous, next, logId, sequence) => {
        const posing = { ...seededSigningKey('intruder'), keyId: previous.keyId };
        return signRotation(posing, next, logId, sequence);
      },
    });

    const log = await verifyLog(fixture, fixture.records);

    assert.deepEqual(kindsOf(log), ['rotation_unvouched']);
    assert.equal(log.breaks[0]!.sequence, fixture.rotation);
    assert.equal(log.rotations[0]!.vouched, false);
  });

  test('reports a rotation whose new key did not sign as unvouched', async () => {
    const fixture = buildAuditLog({
      signRotation: (previous, next, logId, sequence) => {
        const real = signRotation(previous, next, logId, sequence);
        return { ...real, keySignature: real.previousKeySignature };
      },
    });

    const log = await verifyLog(fixture, fixture.records);

    assert.deepEqual(kindsOf(log), ['rotation_unvouched']);
    assert.match(log.breaks[0]!.message, /own signature/);
  });

  test('shows a tail cut at a frame boundary as a shorter unsigned tail, not a break', async () => {
    const fixture = buildAuditLog();

    const log = await verifyLog(fixture, fixture.records.slice(0, 37));

    assert.deepEqual(kindsOf(log), []);
    assert.equal(log.unsignedTail, 1);
    assert.equal(log.lastSequence, 37);
  });

  test('reports a cut end as head missing when a witness head is given', async () => {
    const fixture = buildAuditLog();
    const records = fixture.records.slice(0, 37);

    const log = await verifyLog(fixture, records, { heads: [fixture.head] });

    assert.deepEqual(kindsOf(log), ['head_missing']);
    assert.equal(log.breaks[0]!.sequence, 39);
    assert.equal(log.breaks[0]!.where, records.at(-1)!.where);
    assert.match(log.breaks[0]!.message, /ends at frame 37/);
  });

  test('reports a rewritten unsigned tail as head missing at the rewritten frame', async () => {
    const fixture = buildAuditLog();
    const records = rewritten(fixture, 38, (frame) => ({
      ...frame,
      timeUnixMicros: frame.timeUnixMicros + 1,
    }));

    const unwitnessed = await verifyLog(fixture, records);
    const log = await verifyLog(fixture, records, { heads: [fixture.head] });

    assert.deepEqual(kindsOf(unwitnessed), []);
    assert.deepEqual(kindsOf(log), ['head_missing']);
    assert.equal(log.breaks[0]!.where, fixture.records[38]!.where);
  });

  test('reports a witness head of a log with no records left', async () => {
    const fixture = buildAuditLog();
    const head = { ...fixture.head, logId: 'log-gone' };

    const report = await verifyAudit(fixture.records, {
      keys: fixture.verifyingKeys,
      heads: [head],
    });

    assert.equal(report.ok, false);
    const gone = report.logs.find((log) => log.logId === 'log-gone');
    assert.equal(gone?.framesRead, 0);
    assert.deepEqual(gone && kindsOf(gone), ['head_missing']);
  });

  test('reports every break of a log that was tampered with in several places', async () => {
    const fixture = buildAuditLog();
    const records = [...fixture.records];
    const at = (records[2] as { bytes: Buffer }).bytes.indexOf('llama-3b') + 6;
    records[2] = flipByte(records[2]!, at, 0x04);
    records.splice(19, 0, { ...records[19]!, where: 'log-a/segment-000009.log:0' });
    records.splice(8, 1);
    const torn = { kind: 'damage', logId: 'log-a', where: 'log-a/end', reason: 'torn' } as const;

    const log = await verifyLog(fixture, [...records, torn]);

    assert.deepEqual(kindsOf(log), ['chain_break', 'sequence_gap', 'duplicate_sequence', 'damage']);
    assert.deepEqual(
      log.breaks.map((found) => found.sequence),
      [4, 10, 20, undefined],
    );
  });
});
