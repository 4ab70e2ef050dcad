// Reads every log of a segment directory back, record by record, for verify and replay.

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ProxyError } from '../errors/proxy-error';
import type { AuditSource, StoredRecord } from './audit-store';
import {
  errnoCode,
  groupSegments,
  segmentRecords,
  validateLogId,
  type SegmentDirEntry,
  type SegmentName,
} from './segment-names';

/** Which directory a `SegmentFileSource` reads, and optionally which of its logs. */
export interface SegmentFileSourceOptions {
  readonly dir: string;
  /** Only these logs; all logs of the directory when absent. */
  readonly logIds?: readonly string[];
}

/**
 * The records of the segment files in a directory (as `SegmentFileStore` writes them): log by
 * log in log id order, each log's segments in first-sequence order, each segment's records in
 * file order. A torn tail or a corrupt length prefix is one `damage` record, after which the
 * rest of that segment is skipped. Files that are not segments are ignored.
 *
 * Reads one segment file at a time, so memory is bounded by the largest segment, not by the
 * directory. The directory is listed once, when iteration starts.
 */
export class SegmentFileSource implements AuditSource {
  readonly description: string;
  private readonly dir: string;
  private readonly logIds: ReadonlySet<string> | undefined;

  /** Throws ProxyError `ERR_AUDIT_STORE_INVALID` for a log id that cannot name a segment. */
  constructor(options: SegmentFileSourceOptions) {
    options.logIds?.forEach(validateLogId);
    this.dir = path.resolve(options.dir);
    this.logIds = options.logIds && new Set(options.logIds);
    this.description = `segment files in ${this.dir}`;
  }

  /**
   * Yields the records. Rejects with `ERR_AUDIT_STORE_INVALID` when the directory does not
   * exist or cannot be read, or when a segment listed in it cannot be read.
   */
  async *records(): AsyncGenerator<StoredRecord> {
    const logs = groupSegments(await this.list(), (logId) => this.logIds?.has(logId) ?? true);
    for (const [logId, segments] of logs) {
      for (const segment of segments) yield* this.segmentRecords(logId, segment);
    }
  }

  private async *segmentRecords(logId: string, segment: SegmentName): AsyncGenerator<StoredRecord> {
    const data = await this.read(segment.fileName);
    for (const record of segmentRecords(data)) {
      const where = `${segment.fileName}:${record.offset}`;
      if (record.kind === 'frame') yield { kind: 'frame', logId, where, bytes: record.bytes };
      else yield { kind: 'damage', logId, where, reason: record.reason };
    }
  }

  private async list(): Promise<readonly SegmentDirEntry[]> {
    try {
      return await readdir(this.dir, { withFileTypes: true });
    } catch (err) {
      throw this.unreadable(this.dir, err);
    }
  }

  private async read(fileName: string): Promise<Buffer> {
    const file = path.join(this.dir, fileName);
    try {
      return await readFile(file);
    } catch (err) {
      throw this.unreadable(file, err);
    }
  }

  private unreadable(what: string, err: unknown): ProxyError {
    const message = `audit ${what} cannot be read: ${errnoCode(err)}`;
    return new ProxyError('ERR_AUDIT_STORE_INVALID', message, { cause: err });
  }
}
