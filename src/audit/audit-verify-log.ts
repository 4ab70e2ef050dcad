// Verifies one audit log record by record: links, sequences, checkpoints, key rotations.

import { frameHash, genesisHash } from './audit-chain';
import type { CheckpointEvent, KeyRotatedEvent } from './audit-events';
import { decodeFrame, type DecodedFrame } from './audit-frame-codec';
import { checkpointSignedBy, rotationSignatures, type AuditVerifyingKey } from './audit-signing';
import type { StoredRecord } from './audit-store';
import type {
  AuditBreak,
  AuditBreakKind,
  FrameStatus,
  FrameVerdict,
  LogReport,
  RecordedGap,
  SeenRotation,
  SignedCheckpoint,
} from './audit-verify-report';

/** What the checkers of one verification share. */
export interface LogCheckContext {
  readonly trusted: ReadonlyMap<string, AuditVerifyingKey>;
  readonly onFrame: ((verdict: FrameVerdict) => void) | undefined;
  readonly maxBreaks: number;
}

type FrameOf<K extends DecodedFrame['kind']> = Extract<DecodedFrame, { kind: K }>;

/**
 * How a frame stands to the chain head read before it: `linked` (next sequence, hash matches),
 * `unlinked` (a break; the frame becomes the new head) or `stray` (at or behind the head; the
 * head stays, so frames after a stray copy still link).
 */
type Link = 'linked' | 'unlinked' | 'stray';

const EMPTY = Buffer.alloc(0);

/**
 * Checks one log's records in storage order. Memory stays bounded by the frames since the last
 * valid checkpoint (their verdicts wait in `PendingVerdicts` only when `onFrame` is set), the
 * witness heads and the listed breaks; frames are decoded and hashed once.
 */
export class LogChecker {
  private readonly genesis: Buffer;
  private readonly pending: PendingVerdicts;
  private readonly witness = new Map<number, { hash: Buffer; open: boolean }>();
  private readonly retired = new Set<string>();
  private readonly gaps: RecordedGap[] = [];
  private readonly rotations: SeenRotation[] = [];
  private readonly breaks: AuditBreak[] = [];
  private breaksOmitted = 0;
  private framesRead = 0;
  private framesVerified = 0;
  private sinceCheckpoint = 0;
  private firstSequence: number | undefined;
  private head: { readonly sequence: number; readonly hash: Buffer } | undefined;
  /** The record before was unreadable, so the next frame's link cannot be checked. */
  private blind = false;
  private lastCheckpoint: SignedCheckpoint | undefined;
  private lastWhere = '';

  constructor(
    readonly logId: string,
    private readonly context: LogCheckContext,
    witnessHeads: ReadonlyMap<number, Buffer>,
  ) {
    this.genesis = genesisHash(logId);
    this.pending = new PendingVerdicts(logId, context.onFrame);
    for (const [sequence, hash] of witnessHeads) this.witness.set(sequence, { hash, open: true });
  }

  /** Takes the log's next record in storage order. */
  read(record: StoredRecord): void {
    this.lastWhere = record.where;
    if (record.kind === 'damage') {
      this.addBreak(
        'damage',
        record.where,
        undefined,
        `unreadable record: ${shown(record.reason)}`,
      );
      this.cutChain();
      return;
    }
    this.readFrame(record.where, record.bytes);
  }

  /** Ends the log: settles the unsigned tail and checks the witness heads never reached. */
  finish(): LogReport {
    this.framesVerified += this.pending.settle('unsigned');
    this.reportOpenWitnessHeads();
    return {
      logId: this.logId,
      framesRead: this.framesRead,
      framesVerified: this.framesVerified,
      firstSequence: this.firstSequence,
      lastSequence: this.head?.sequence,
      lastCheckpoint: this.lastCheckpoint,
      unsignedTail: this.sinceCheckpoint,
      gaps: this.gaps,
      rotations: this.rotations,
      breaks: this.breaks,
      breaksOmitted: this.breaksOmitted,
    };
  }

  private readFrame(where: string, bytes: Buffer): void {
    this.framesRead += 1;
    this.sinceCheckpoint += 1;
    const frame = this.decode(where, bytes);
    if (frame === undefined) {
      this.cutChain();
      this.pending.add(where, undefined, true);
      return;
    }

    if (frame.logId !== this.logId) {
      const message = `frame ${frame.sequence} of log ${shown(frame.logId)} is stored here`;
      this.addBreak('foreign_frame', where, frame.sequence, message);
      this.pending.add(where, frame, true);
      return;
    }

    const hash = frameHash(bytes);
    this.firstSequence ??= frame.sequence;
    const witnessed = this.checkWitness(frame.sequence, hash, where);
    const link = this.link(frame, hash, where);
    if (link === 'unlinked') this.framesVerified += this.pending.settle('broken');
    const sound = link === 'linked' && this.examine(frame, where);
    this.pending.add(where, frame, !sound || !witnessed);
    if (sound && frame.kind === 'checkpoint') this.settleCheckpoint(frame);
  }

  private decode(where: string, bytes: Buffer): DecodedFrame | undefined {
    try {
      return decodeFrame(bytes);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.addBreak('undecodable', where, undefined, `frame does not decode: ${reason}`);
      return undefined;
    }
  }

  /** Everything read so far loses its way to a later checkpoint: the chain is cut here. */
  private cutChain(): void {
    this.framesVerified += this.pending.settle('broken');
    this.blind = true;
  }

  // Limitation: a frame moved later is reported twice, as a gap where its successor comes early
  // and as a reorder where it comes; the two breaks name the same move.
  private link(frame: DecodedFrame, hash: Buffer, where: string): Link {
    const { sequence } = frame;
    const head = this.head;
    if (head !== undefined && sequence <= head.sequence) {
      this.reportStray(sequence, head.sequence, where);
      return 'stray';
    }

    this.head = { sequence, hash };
    if (this.blind) {
      this.blind = false;
      return 'unlinked';
    }
    if (head === undefined) return this.checkStart(frame, where);
    if (sequence > head.sequence + 1) {
      const first = head.sequence + 1;
      const missing =
        first === sequence - 1 ? `frame ${first}` : `frames ${first}..${sequence - 1}`;
      this.addBreak('sequence_gap', where, sequence, `${missing} missing before ${sequence}`);
      return 'unlinked';
    }
    if (!frame.previousHash.equals(head.hash)) {
      const message = `frame ${sequence} does not link to frame ${head.sequence}`;
      this.addBreak('chain_break', where, sequence, message);
      return 'unlinked';
    }
    return 'linked';
  }

  private reportStray(sequence: number, headSequence: number, where: string): void {
    if (sequence === headSequence) {
      const message = `frame ${sequence} repeats the sequence of the chain head`;
      this.addBreak('duplicate_sequence', where, sequence, message);
    } else {
      const message = `frame ${sequence} is stored after frame ${headSequence}`;
      this.addBreak('sequence_reorder', where, sequence, message);
    }
  }

  private checkStart(frame: DecodedFrame, where: string): Link {
    if (frame.sequence !== 1) {
      const message = `the log starts at frame ${frame.sequence}, not 1`;
      this.addBreak('missing_start', where, frame.sequence, message);
      return 'unlinked';
    }
    if (!frame.previousHash.equals(this.genesis)) {
      const message = `frame 1 does not carry the genesis hash of log ${this.logId}`;
      this.addBreak('missing_start', where, 1, message);
      return 'unlinked';
    }
    return 'linked';
  }

  /** Checks what a linked frame's event claims; false when that is a break. */
  private examine(frame: DecodedFrame, where: string): boolean {
    switch (frame.kind) {
      case 'checkpoint':
        return this.checkCheckpoint(frame, where);
      case 'keyRotated':
        return this.checkRotation(frame, where);
      case 'gap':
        this.gaps.push({
          sequence: frame.sequence,
          lastSequence: frame.body.lastSequence ?? 0,
          tornBytes: frame.body.tornBytes ?? 0,
          segment: frame.body.segment ?? '',
        });
        return true;
      default:
        return true;
    }
  }

  private checkCheckpoint(frame: FrameOf<'checkpoint'>, where: string): boolean {
    const checkpoint = wholeCheckpoint(frame.body);
    const problem = this.checkpointProblem(frame, checkpoint);
    if (problem === undefined) return true;
    this.addBreak(problem[0], where, frame.sequence, `checkpoint ${frame.sequence} ${problem[1]}`);
    return false;
  }

  private checkpointProblem(
    frame: FrameOf<'checkpoint'>,
    checkpoint: CheckpointEvent,
  ): [AuditBreakKind, string] | undefined {
    const { headSequence, headHash } = checkpoint;
    const keyId = shown(checkpoint.keyId);
    if (headSequence !== frame.sequence - 1) {
      return ['checkpoint_mismatch', `covers frame ${headSequence}, not ${frame.sequence - 1}`];
    }
    if (!headHash.equals(frame.previousHash)) {
      return ['checkpoint_mismatch', `names another hash than frame ${headSequence}'s`];
    }
    const key = this.context.trusted.get(checkpoint.keyId);
    if (key === undefined) return ['checkpoint_unknown_key', `is signed by untrusted key ${keyId}`];
    if (this.retired.has(checkpoint.keyId)) {
      return ['checkpoint_retired_key', `is signed by key ${keyId}, retired before it`];
    }
    if (!checkpointSignedBy(key, this.logId, checkpoint)) {
      return ['checkpoint_bad_signature', `signature does not hold under key ${keyId}`];
    }
    return undefined;
  }

  /** A valid checkpoint settles every frame since the previous one, itself included. */
  private settleCheckpoint(frame: FrameOf<'checkpoint'>): void {
    this.framesVerified += this.pending.settle('verified');
    this.sinceCheckpoint = 0;
    this.lastCheckpoint = {
      frameSequence: frame.sequence,
      headSequence: frame.body.headSequence,
      keyId: frame.body.keyId,
      timeUnixMicros: frame.timeUnixMicros,
    };
  }

  /**
   * The previous key must be trusted and not retired, and both signatures must hold. Only then
   * is the previous key retired: a checkpoint signed by it later is a break, as a stolen old key
   * is the usual reason to rotate.
   */
  private checkRotation(frame: FrameOf<'keyRotated'>, where: string): boolean {
    const rotation = wholeRotation(frame.body);
    const { previousKeyId, keyId } = rotation;
    const problem = this.rotationProblem(rotation, frame.sequence);
    this.rotations.push({ sequence: frame.sequence, previousKeyId, keyId, vouched: !problem });
    if (problem !== undefined) {
      const message = `rotation ${frame.sequence} to key ${shown(keyId)} is unvouched: ${problem}`;
      this.addBreak('rotation_unvouched', where, frame.sequence, message);
      return false;
    }
    this.retired.add(previousKeyId);
    this.retired.delete(keyId);
    return true;
  }

  private rotationProblem(rotation: KeyRotatedEvent, sequence: number): string | undefined {
    const previousKey = this.context.trusted.get(rotation.previousKeyId);
    const previous = shown(rotation.previousKeyId);
    if (previousKey === undefined) return `previous key ${previous} is not trusted`;
    if (this.retired.has(rotation.previousKeyId)) return `previous key ${previous} is retired`;
    const signatures = rotationSignatures(rotation, this.logId, sequence, previousKey);
    if (!signatures.previous) return `key ${previous}'s signature does not hold`;
    if (!signatures.next) return `the new key's own signature does not hold`;
    return undefined;
  }

  /** False when a witness head names this sequence with another hash. */
  private checkWitness(sequence: number, hash: Buffer, where: string): boolean {
    const head = this.witness.get(sequence);
    if (head === undefined || !head.open) return true;
    head.open = false;
    if (hash.equals(head.hash)) return true;
    const [read, saved] = [hash, head.hash].map((h) => h.toString('hex').slice(0, 16));
    const message = `frame ${sequence} hashes to ${read}…, its witness head to ${saved}…`;
    this.addBreak('head_missing', where, sequence, message);
    return false;
  }

  private reportOpenWitnessHeads(): void {
    const last = this.head?.sequence ?? 0;
    for (const [sequence, head] of this.witness) {
      if (!head.open) continue;
      const message =
        sequence > last
          ? `the log ends at frame ${last}, before witness head ${sequence}`
          : `no frame ${sequence} was read, though a witness head names it`;
      this.addBreak('head_missing', this.lastWhere, sequence, message);
    }
  }

  private addBreak(kind: AuditBreakKind, where: string, seq: number | undefined, text: string) {
    if (this.breaks.length >= this.context.maxBreaks) this.breaksOmitted += 1;
    else this.breaks.push({ kind, where, sequence: seq, message: text });
  }
}

/** A decoded body omits proto3 defaults; a tampered one may omit anything. */
function wholeCheckpoint(body: CheckpointEvent): CheckpointEvent {
  return {
    headSequence: body.headSequence ?? 0,
    headHash: body.headHash ?? EMPTY,
    keyId: body.keyId ?? '',
    signature: body.signature ?? EMPTY,
  };
}

function wholeRotation(body: KeyRotatedEvent): KeyRotatedEvent {
  return {
    previousKeyId: body.previousKeyId ?? '',
    keyId: body.keyId ?? '',
    publicKey: body.publicKey ?? EMPTY,
    previousKeySignature: body.previousKeySignature ?? EMPTY,
    keySignature: body.keySignature ?? EMPTY,
  };
}

/** A frame waiting for its status; `frame` is undefined when it did not decode. */
interface PendingFrame {
  readonly where: string;
  readonly frame: DecodedFrame | undefined;
  readonly broken: boolean;
}

/**
 * The frames since the last point that settled them (a valid checkpoint, a break that cuts the
 * chain, the end of the log). Entries are kept only for `onFrame`; without it, a count. The
 * writer checkpoints every N frames, so in a sound log this holds at most about N entries.
 */
// Limitation: when no checkpoint of a log validates (no keys given, or every checkpoint broken)
// and `onFrame` is set, every verdict of the log waits here until its end.
class PendingVerdicts {
  private entries: PendingFrame[] = [];
  private intact = 0;

  constructor(
    private readonly logId: string,
    private readonly onFrame: ((verdict: FrameVerdict) => void) | undefined,
  ) {}

  /** Queues a frame; `broken` fixes its status whatever settles it. */
  add(where: string, frame: DecodedFrame | undefined, broken: boolean): void {
    if (!broken) this.intact += 1;
    if (this.onFrame !== undefined) this.entries.push({ where, frame, broken });
  }

  /** Gives every queued frame `status` (unless fixed broken); returns how many count verified. */
  settle(status: FrameStatus): number {
    const verified = status === 'broken' ? 0 : this.intact;
    const { entries, onFrame, logId } = this;
    this.entries = [];
    this.intact = 0;
    for (const { where, frame, broken } of entries) {
      onFrame?.({
        logId,
        sequence: frame?.sequence,
        where,
        kind: frame?.kind,
        status: broken ? 'broken' : status,
        frame,
      });
    }
    return verified;
  }
}

/** A value read from the log, quoted and bounded, so a message cannot smuggle in line breaks. */
function shown(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}
