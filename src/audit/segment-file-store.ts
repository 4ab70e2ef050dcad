// The default audit store: each log's frames appended to segment files in a local directory.

import { mkdir, open, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULTS } from '../config/defaults';
import { isProxyError, ProxyError } from '../errors/proxy-error';
import { frameHash } from './audit-chain';
import { delimit } from './audit-frame-codec';
import type { AuditStore, ChainTail, EncodedFrame } from './audit-store';
import {
  errnoCode,
  groupSegments,
  SEGMENT_MAX_FRAME_BYTES,
  scanSegment,
  segmentFileName,
  validateLogId,
  type SegmentDirEntry,
  type SegmentName,
  type SegmentScan,
} from './segment-names';

/**
 * Frames hold masked prompts and responses, identities and addresses: only the gateway's own
 * user may read them (another local user reading the audit trail is the threat).
 */
const DIR_MODE = 0o700;
const SEGMENT_MODE = 0o600;

/** The calls the store makes on an open file; `FileHandle` of `node:fs/promises` has them. */
export interface SegmentFileHandle {
  write(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
  ): Promise<{ bytesWritten: number }>;
  datasync(): Promise<void>;
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

/** The file system calls the store makes, injectable so tests can make one of them fail. */
export interface SegmentFiles {
  /** Creates `dir` and its parents; resolves to the first directory created, if any. */
  mkdir(dir: string, mode: number): Promise<string | undefined>;
  readdir(dir: string): Promise<readonly SegmentDirEntry[]>;
  readFile(file: string): Promise<Buffer>;
  open(file: string, flags: 'r' | 'r+' | 'wx', mode?: number): Promise<SegmentFileHandle>;
}

/** `SegmentFiles` on the real file system. */
export const NODE_SEGMENT_FILES: SegmentFiles = Object.freeze({
  mkdir: (dir: string, mode: number) => mkdir(dir, { recursive: true, mode }),
  readdir: (dir: string) => readdir(dir, { withFileTypes: true }),
  readFile: (file: string) => readFile(file),
  open: (file: string, flags: string, mode?: number) => open(file, flags, mode),
});

/** Where and how a `SegmentFileStore` keeps its segments. */
export interface SegmentFileStoreOptions {
  readonly dir: string;
  /** A segment at or over this size takes no further batch; default 64 MiB. */
  readonly segmentMaxBytes?: number;
  /** A segment older than this takes no further batch; default 24 h. */
  readonly segmentMaxAgeMs?: number;
  /** The clock segment ages are measured on, in ms since the epoch; default `Date.now`. */
  readonly now?: () => number;
  readonly files?: SegmentFiles;
}

/** The segment batches are appended to. */
interface CurrentSegment {
  readonly fileName: string;
  readonly firstSequence: number;
  readonly handle: SegmentFileHandle;
  readonly createdAtMs: number;
  /** Bytes known durable: the file ends here once no failed batch is left on it. */
  size: number;
  /** False until the directory entry naming the file has been fsynced. */
  nameDurable: boolean;
  /** True when a failed batch could not be cut off yet: cut it before writing again. */
  mustRestore: boolean;
}

/**
 * Keeps logs as segment files `<logId>.<firstSequence>.audit` in one directory, each a run of
 * delimited frames that is only ever appended to (see `segment-names.ts`). A batch is one
 * write and one fdatasync; a batch never spans two segments. A segment takes no further batch
 * once it reaches `segmentMaxBytes` or, measured on `now` from its creation (after a restart,
 * from its first frame's time), is older than `segmentMaxAgeMs`.
 *
 * `append` calls must not overlap: each waits for the one before to settle.
 */
export class SegmentFileStore implements AuditStore {
  readonly description: string;
  private readonly dir: string;
  private readonly maxBytes: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private readonly files: SegmentFiles;
  private logId: string | undefined;
  private lastSequence = 0;
  private segment: CurrentSegment | undefined;
  private appending = false;

  constructor(options: SegmentFileStoreOptions) {
    this.dir = path.resolve(options.dir);
    this.maxBytes = options.segmentMaxBytes ?? DEFAULTS.audit.segmentMaxBytes;
    this.maxAgeMs = options.segmentMaxAgeMs ?? DEFAULTS.audit.segmentMaxAgeMs;
    this.now = options.now ?? Date.now;
    this.files = options.files ?? NODE_SEGMENT_FILES;
    this.description = `segment files in ${this.dir}`;
  }

  /**
   * Opens `logId`, creating the directory if missing, and cuts a torn tail (an incomplete
   * record, a corrupt length prefix, or zeros) off its last segment. Rejects with
   * `ERR_AUDIT_STORE_INVALID` for an invalid log id, a directory that cannot be read or
   * created, or a record that is not a frame anywhere else.
   */
  async open(logId: string): Promise<ChainTail> {
    validateLogId(logId);
    if (this.logId !== undefined) {
      const message = `audit ${this.description} already hold log ${this.logId} open`;
      throw new ProxyError('ERR_AUDIT_STORE_INVALID', message);
    }

    try {
      await this.createDir();
      const entries = await this.files.readdir(this.dir);
      const segments = groupSegments(entries, (id) => id === logId).get(logId) ?? [];
      const tail = await this.recover(segments);
      await this.syncDir(this.dir);
      if (this.segment !== undefined) this.segment.nameDurable = true;
      this.logId = logId;
      this.lastSequence = tail.lastSequence;
      return tail;
    } catch (err) {
      await this.close().catch(() => undefined); // the open error is the one to report
      if (isProxyError(err)) throw err;
      const message = `audit ${this.description} cannot be opened: ${errnoCode(err)}`;
      throw new ProxyError('ERR_AUDIT_STORE_INVALID', message, { cause: err });
    }
  }

  /**
   * Appends `frames` (the next sequences of the log) as one write and resolves after
   * fdatasync. All or nothing: on a failed write or sync the segment is cut back to where it
   * was, and the call rejects with `ERR_AUDIT_UNAVAILABLE`; the same frames may be retried.
   */
  async append(frames: readonly EncodedFrame[]): Promise<void> {
    if (this.appending) throw this.misuse('append called while another append is in flight');
    this.appending = true;
    try {
      await this.appendBatch(frames);
    } finally {
      this.appending = false;
    }
  }

  /** Closes the segment being appended to; closing again does nothing. */
  async close(): Promise<void> {
    const segment = this.segment;
    this.segment = undefined;
    this.logId = undefined;
    if (segment !== undefined) await segment.handle.close();
  }

  private async appendBatch(frames: readonly EncodedFrame[]): Promise<void> {
    const logId = this.checkBatch(frames);
    if (frames.length === 0) return;
    const bytes = Buffer.concat(frames.map((frame) => delimit(frame.bytes)));

    try {
      const segment = await this.segmentFor(logId, frames[0]!.sequence);
      await this.writeDurably(segment, bytes);
    } catch (err) {
      const message = `audit ${this.description} cannot be written: ${errnoCode(err)}`;
      throw new ProxyError('ERR_AUDIT_UNAVAILABLE', message, { cause: err });
    }

    this.lastSequence = frames[frames.length - 1]!.sequence;
  }

  /** Asserts what a segment's name and the store's bounds rely on; returns the open log. */
  private checkBatch(frames: readonly EncodedFrame[]): string {
    if (this.logId === undefined) throw this.misuse('append called on a store that is not open');
    frames.forEach((frame, index) => {
      const expected = this.lastSequence + 1 + index;
      if (frame.sequence !== expected) {
        throw this.misuse(`append got sequence ${frame.sequence} where ${expected} was next`);
      }
      if (frame.bytes.length > SEGMENT_MAX_FRAME_BYTES) {
        throw this.misuse(`append got a frame of ${frame.bytes.length} bytes`);
      }
    });
    return this.logId;
  }

  /** The segment the batch starting at `firstSequence` goes to, starting one if due. */
  private async segmentFor(logId: string, firstSequence: number): Promise<CurrentSegment> {
    const current = this.segment;
    if (current?.mustRestore === true) await this.restore(current);
    if (current !== undefined && !this.mustRotate(current, firstSequence)) {
      if (!current.nameDurable) await this.syncDir(this.dir);
      current.nameDurable = true;
      return current;
    }

    this.segment = undefined;
    if (current !== undefined) await current.handle.close();

    const fileName = segmentFileName(logId, firstSequence);
    const handle = await this.files.open(this.pathOf(fileName), 'wx', SEGMENT_MODE);
    const createdAtMs = this.now();
    const segment: CurrentSegment = {
      fileName,
      firstSequence,
      handle,
      createdAtMs,
      size: 0,
      nameDurable: false,
      mustRestore: false,
    };
    this.segment = segment;
    // Without this fsync a crash could lose the new file's name, and every frame in it.
    await this.syncDir(this.dir);
    segment.nameDurable = true;
    return segment;
  }

  private mustRotate(segment: CurrentSegment, firstSequence: number): boolean {
    // An empty segment is reused only if its name still tells its first frame's sequence.
    if (segment.size === 0) return segment.firstSequence !== firstSequence;
    return segment.size >= this.maxBytes || this.now() - segment.createdAtMs > this.maxAgeMs;
  }

  private async writeDurably(segment: CurrentSegment, bytes: Buffer): Promise<void> {
    try {
      await writeAll(segment.handle, bytes, segment.size);
      await segment.handle.datasync();
    } catch (err) {
      await this.restore(segment).catch(() => {
        // Cut again before the next write (see `segmentFor`); this batch's error is the cause.
        segment.mustRestore = true;
      });
      throw err;
    }
    segment.size += bytes.length;
  }

  /** Cuts a failed batch off the segment, so it ends where the last durable batch ended. */
  private async restore(segment: CurrentSegment): Promise<void> {
    await segment.handle.truncate(segment.size);
    await segment.handle.sync();
    segment.mustRestore = false;
  }

  /** Reads the log's segments back to where its chain stands; keeps the last one open. */
  private async recover(segments: readonly SegmentName[]): Promise<ChainTail> {
    const last = segments[segments.length - 1];
    if (last === undefined) {
      return { lastSequence: 0, lastHash: undefined, lastKeyId: undefined, torn: undefined };
    }

    const scan = await this.openLastSegment(last);
    let { last: lastFrame, keyId } = scan;
    // An empty last segment leaves the head to the one before; a key id may be further back.
    for (let i = segments.length - 2; i >= 0 && (!lastFrame || keyId === undefined); i--) {
      const earlier = await this.scan(segments[i]!, false);
      lastFrame ??= earlier.last;
      keyId ??= earlier.keyId;
    }
    const lastSequence = lastFrame?.sequence ?? 0;

    await this.keepIfReusable(last, lastSequence);
    return {
      lastSequence,
      lastHash: lastFrame && frameHash(lastFrame.bytes),
      lastKeyId: keyId,
      torn: scan.tornBytes === 0 ? undefined : { bytes: scan.tornBytes, segment: last.fileName },
    };
  }

  /** Scans the last segment and cuts its torn tail off, durably; holds it open for appends. */
  private async openLastSegment(last: SegmentName): Promise<SegmentScan> {
    const scan = await this.scan(last, true);
    const handle = await this.files.open(this.pathOf(last.fileName), 'r+');
    this.segment = {
      fileName: last.fileName,
      firstSequence: last.firstSequence,
      handle,
      createdAtMs: scan.firstTimeMs ?? this.now(),
      size: scan.wholeBytes,
      nameDurable: false,
      mustRestore: scan.tornBytes > 0,
    };
    if (scan.tornBytes > 0) await this.restore(this.segment);
    return scan;
  }

  /**
   * Keeps the last segment for appends unless it is empty and named for another sequence
   * than the next one; the next batch then starts a segment of its own.
   */
  private async keepIfReusable(last: SegmentName, lastSequence: number): Promise<void> {
    const segment = this.segment;
    if (segment === undefined || segment.size > 0) return;
    if (last.firstSequence === lastSequence + 1) return;
    this.segment = undefined;
    await segment.handle.close();
  }

  private async scan(segment: SegmentName, isLast: boolean): Promise<SegmentScan> {
    const data = await this.files.readFile(this.pathOf(segment.fileName));
    return scanSegment(data, isLast, `audit segment ${this.pathOf(segment.fileName)}`);
  }

  private async syncDir(dir: string): Promise<void> {
    const handle = await this.files.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  private async createDir(): Promise<void> {
    const created = await this.files.mkdir(this.dir, DIR_MODE);
    if (created === undefined) return;
    // A directory's name lives in its parent: fsync each parent of what was created, or a
    // crash could lose the directory with every segment in it.
    const top = path.resolve(created);
    for (let dir = this.dir; dir !== path.dirname(top); dir = path.dirname(dir)) {
      await this.syncDir(path.dirname(dir));
    }
  }

  private pathOf(fileName: string): string {
    return path.join(this.dir, fileName);
  }

  private misuse(what: string): ProxyError {
    return new ProxyError('ERR_AUDIT_UNAVAILABLE', `audit ${this.description}: ${what}`);
  }
}

/** Writes all of `bytes` at `position`; a write may take only part of them (a full disk). */
async function writeAll(handle: SegmentFileHandle, bytes: Buffer, position: number) {
  let written = 0;
  while (written < bytes.length) {
    const length = bytes.length - written;
    const result = await handle.write(bytes, written, length, position + written);
    written += result.bytesWritten;
  }
}
