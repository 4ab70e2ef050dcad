// What `verifyAudit` reports: per-frame verdicts, per-log summaries and the breaks it found.

import type { AuditEventKind } from './audit-events';
import type { DecodedFrame } from './audit-frame-codec';
import type { AuditVerifyingKey } from './audit-signing';

/**
 * Every way a log can fail verification. Each break names one place; the verifier re-anchors
 * on the frame it just read and goes on, so one report shows every break of a log.
 */
export const AUDIT_BREAK_KINDS = Object.freeze({
  /** A stored frame whose bytes do not decode as a Frame. */
  undecodable: 'a stored frame does not decode',
  /** A damage record from the store: a torn tail or a corrupt length prefix. */
  damage: 'the store could not read a whole record',
  /** A frame's previousHash is not the hash of the frame before it. */
  chain_break: 'a frame does not link to the frame before it',
  /** A frame's sequence skips ahead: frames were removed (or a record before it unreadable). */
  sequence_gap: 'frames are missing',
  /** A frame's sequence is below the chain head read so far. */
  sequence_reorder: 'a frame is stored out of order',
  /** A frame repeats the sequence of the chain head read so far. */
  duplicate_sequence: 'two frames carry the same sequence',
  /** A frame names another log than the one it is stored under: logs spliced together. */
  foreign_frame: 'a frame belongs to another log',
  /** The first frame is not sequence 1 carrying the genesis hash: the head was cut off. */
  missing_start: 'the log does not start at its genesis',
  /** A checkpoint whose head is not the frame right before it: an old one replayed. */
  checkpoint_mismatch: 'a checkpoint does not commit to the frame before it',
  /** A checkpoint signed under a key id the verifier was not given. */
  checkpoint_unknown_key: 'a checkpoint is signed by a key that is not trusted',
  /** A checkpoint signed under a key a vouched rotation earlier in the log retired. */
  checkpoint_retired_key: 'a checkpoint is signed by a retired key',
  /** A checkpoint whose signature does not hold under the trusted key its key id names. */
  checkpoint_bad_signature: 'a checkpoint signature does not hold',
  /** A key rotation the previous (trusted, not retired) key did not sign, or the new key. */
  rotation_unvouched: 'a key rotation is not vouched for by a trusted key',
  /** A witness head beyond the end of the log, or whose hash differs from the stored frame. */
  head_missing: 'a witness head is not in the log',
});

/** The kind of a break; see `AUDIT_BREAK_KINDS`. */
export type AuditBreakKind = keyof typeof AUDIT_BREAK_KINDS;

/** One break: what failed, where in the store, and at which sequence when that is known. */
export interface AuditBreak {
  readonly kind: AuditBreakKind;
  /**
   * The `StoredRecord.where` of the record the break was found at; for a witness head found
   * missing at the end, the log's last record's (empty for a log with no records).
   */
  readonly where: string;
  readonly sequence: number | undefined;
  /** One sentence naming the values that disagree; never frame content. */
  readonly message: string;
}

/**
 * A frame's standing. `verified`: its link holds and a later valid checkpoint covers it (a
 * valid checkpoint also vouches for itself). `unsigned`: its link holds, it lies after the last
 * valid checkpoint and no break follows it. `broken`: a break was found at it, or a break after
 * it cuts it off from every later checkpoint.
 */
export type FrameStatus = 'verified' | 'unsigned' | 'broken';

/** The verdict on one stored frame, handed to `onFrame` in storage order. */
export interface FrameVerdict {
  /** The log the frame is stored under. */
  readonly logId: string;
  /** Undefined for a frame that does not decode. */
  readonly sequence: number | undefined;
  readonly where: string;
  readonly kind: AuditEventKind | undefined;
  readonly status: FrameStatus;
  readonly frame: DecodedFrame | undefined;
}

/** The last checkpoint of a log whose signature held. */
export interface SignedCheckpoint {
  /** The sequence of the checkpoint frame itself. */
  readonly frameSequence: number;
  /** The last sequence the signature covers (the frame right before the checkpoint). */
  readonly headSequence: number;
  readonly keyId: string;
  readonly timeUnixMicros: number;
}

/** A Gap frame: the writer found its log cut short at a restart. */
export interface RecordedGap {
  readonly sequence: number;
  readonly lastSequence: number;
  readonly tornBytes: number;
  readonly segment: string;
}

/** A KeyRotated frame, and whether a trusted key vouched for it. */
export interface SeenRotation {
  readonly sequence: number;
  readonly previousKeyId: string;
  readonly keyId: string;
  readonly vouched: boolean;
}

/** What verification found in one log. */
export interface LogReport {
  readonly logId: string;
  /** Frame records read, whether they decoded or not; damage records are not frames. */
  readonly framesRead: number;
  /** Frames whose status is `verified` or `unsigned`. */
  readonly framesVerified: number;
  readonly firstSequence: number | undefined;
  /** The sequence of the chain head at the end (the last frame in order, not a stray). */
  readonly lastSequence: number | undefined;
  readonly lastCheckpoint: SignedCheckpoint | undefined;
  /** Frames read after the last valid checkpoint (all of them when there is none). */
  readonly unsignedTail: number;
  readonly gaps: readonly RecordedGap[];
  readonly rotations: readonly SeenRotation[];
  /** The first `maxBreaksPerLog` breaks, in storage order. */
  readonly breaks: readonly AuditBreak[];
  /** Breaks found beyond `maxBreaksPerLog`, counted but not listed. */
  readonly breaksOmitted: number;
}

/** The outcome of `verifyAudit`: `ok` when no log has a break. */
export interface AuditReport {
  readonly ok: boolean;
  /** One per log, in the order each log's first record (or witness head) was seen. */
  readonly logs: readonly LogReport[];
}

/** A chain head saved outside the store (a checkpoint's head, say), to detect a cut end. */
export interface WitnessHead {
  readonly logId: string;
  readonly sequence: number;
  /** `frameHash` of the frame at `sequence`. */
  readonly hash: Buffer;
}

/** What `verifyAudit` trusts and whom it tells. */
export interface AuditVerifyOptions {
  /**
   * The only keys trusted. A key a KeyRotated frame introduces is not trusted for being in the
   * log: it must be given here too.
   */
  readonly keys: readonly AuditVerifyingKey[];
  readonly heads?: readonly WitnessHead[];
  /** Called once per stored frame, in each log's storage order, once its status is settled. */
  readonly onFrame?: (verdict: FrameVerdict) => void;
  /** Bounds the report of a badly damaged log; 1000 unless given. */
  readonly maxBreaksPerLog?: number;
}
