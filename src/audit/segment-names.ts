// The audit segment file format: `<logId>.<firstSequence>.audit` files of varint-delimited
// frames, how they are named and read, shared by the segment store and the segment source.

import { ProxyError } from '../errors/proxy-error';
import { decodeFrame, readDelimited, type DecodedFrame } from './audit-frame-codec';

/** The suffix of every segment file; other files in the directory are not ours. */
export const SEGMENT_SUFFIX = '.audit';

/** Digits the first sequence is zero-padded to, so names sort by sequence up to 10^12. */
export const SEGMENT_SEQUENCE_DIGITS = 12;

/**
 * The largest frame a segment may hold. The store refuses bigger frames, so a length prefix
 * announcing more can only be damage (and is cut off as such at open, never a real frame).
 */
export const SEGMENT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** 255 bytes is the usual file name limit; a name adds '.', the digits and the suffix. */
const LOG_ID_MAX_LENGTH = 255 - 1 - SEGMENT_SEQUENCE_DIGITS - SEGMENT_SUFFIX.length;

/**
 * A log id becomes part of a path: a slash or backslash would leave the audit directory (path
 * traversal) and a leading dot would allow '.', '..' and hidden files, so only this alphabet
 * is accepted.
 */
const LOG_ID_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

const SEQUENCE_PATTERN = /^[0-9]{12,}$/;

/** A segment file of a log, as its name describes it. */
export interface SegmentName {
  readonly fileName: string;
  readonly logId: string;
  readonly firstSequence: number;
}

/** What a directory listing says of an entry (a `Dirent`). */
export interface SegmentDirEntry {
  readonly name: string;
  isFile(): boolean;
}

/** One record of a segment, at the offset of its length prefix. */
export type SegmentRecord =
  | { readonly kind: 'frame'; readonly offset: number; readonly bytes: Buffer }
  | { readonly kind: 'damage'; readonly offset: number; readonly reason: string };

/** What `scanSegment` found in a segment. */
export interface SegmentScan {
  /** Where the last whole frame ends; the file's length unless it has a torn tail. */
  readonly wholeBytes: number;
  readonly tornBytes: number;
  readonly last: { readonly sequence: number; readonly bytes: Buffer } | undefined;
  readonly firstTimeMs: number | undefined;
  readonly keyId: string | undefined;
}

/** Throws ProxyError `ERR_AUDIT_STORE_INVALID` unless `logId` can name segment files. */
export function validateLogId(logId: string): void {
  if (logId.length <= LOG_ID_MAX_LENGTH && LOG_ID_PATTERN.test(logId)) return;
  throw new ProxyError(
    'ERR_AUDIT_STORE_INVALID',
    `audit log id ${JSON.stringify(logId.slice(0, 80))} is not 1 to ${LOG_ID_MAX_LENGTH} ` +
      'letters, digits, dots, underscores or dashes with no leading dot',
  );
}

/** The file name of `logId`'s segment whose first frame has `firstSequence`. */
export function segmentFileName(logId: string, firstSequence: number): string {
  const digits = String(firstSequence).padStart(SEGMENT_SEQUENCE_DIGITS, '0');
  return `${logId}.${digits}${SEGMENT_SUFFIX}`;
}

/**
 * Reads a segment file name back, or undefined for a file that is not a segment. Parsed from
 * the right, because a log id may itself contain dots and digits.
 */
export function parseSegmentName(fileName: string): SegmentName | undefined {
  if (!fileName.endsWith(SEGMENT_SUFFIX)) return undefined;
  const stem = fileName.slice(0, -SEGMENT_SUFFIX.length);
  const dot = stem.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const logId = stem.slice(0, dot);
  const digits = stem.slice(dot + 1);
  if (!LOG_ID_PATTERN.test(logId) || !SEQUENCE_PATTERN.test(digits)) return undefined;
  const firstSequence = Number(digits);
  if (!Number.isSafeInteger(firstSequence)) return undefined;
  return { fileName, logId, firstSequence };
}

/**
 * The segments among `entries`, grouped by log id (in log id order), each log's segments in
 * first-sequence order. `accept` keeps only the logs it returns true for.
 */
export function groupSegments(
  entries: readonly SegmentDirEntry[],
  accept: (logId: string) => boolean = () => true,
): Map<string, SegmentName[]> {
  const byLog = new Map<string, SegmentName[]>();
  for (const entry of entries) {
    const segment = entry.isFile() ? parseSegmentName(entry.name) : undefined;
    if (segment === undefined || !accept(segment.logId)) continue;
    const list = byLog.get(segment.logId) ?? [];
    list.push(segment);
    byLog.set(segment.logId, list);
  }
  const sorted = [...byLog.keys()].sort(compareStrings);
  return new Map(sorted.map((logId) => [logId, byLog.get(logId)!.sort(byFirstSequence)]));
}

/**
 * The records of a segment's bytes in order. Damage (a torn tail, a corrupt length prefix)
 * is yielded once and ends the walk: after a bad prefix nothing says where the next record
 * starts.
 */
export function* segmentRecords(data: Buffer): Generator<SegmentRecord> {
  let offset = 0;
  while (offset < data.length) {
    const read = readDelimited(data, offset, SEGMENT_MAX_FRAME_BYTES);
    if (read.kind === 'frame') {
      yield { kind: 'frame', offset, bytes: read.bytes };
      offset = read.next;
      continue;
    }
    const reason =
      read.kind === 'torn'
        ? `torn record: ${data.length - offset} bytes after the last whole record`
        : `corrupt length prefix: ${read.reason}`;
    yield { kind: 'damage', offset, reason };
    return;
  }
}

/**
 * Reads a segment's records. A record that is damaged or not a frame rejects, except at the
 * end of the last segment (`tailMayTear`), where it is the torn tail of a crash: an incomplete
 * record, a corrupt length prefix, or zeros (a file whose size reached the disk before its
 * data, as XFS and ext4 in writeback mode may leave).
 */
export function scanSegment(data: Buffer, tailMayTear: boolean, where: string): SegmentScan {
  let last: SegmentScan['last'];
  let firstTimeMs: number | undefined;
  let keyId: string | undefined;
  for (const record of segmentRecords(data)) {
    const frame = record.kind === 'frame' ? decodeOrUndefined(record.bytes) : undefined;
    if (record.kind === 'frame' && frame !== undefined) {
      last = { sequence: frame.sequence, bytes: record.bytes };
      firstTimeMs ??= frame.timeUnixMicros / 1000;
      keyId = signingKeyId(frame) ?? keyId;
      continue;
    }
    const torn = record.kind === 'damage' || isZeroFill(data, record.offset);
    if (!tailMayTear || !torn) throw damaged(where, record);
    const tornBytes = data.length - record.offset;
    return { wholeBytes: record.offset, tornBytes, last, firstTimeMs, keyId };
  }
  return { wholeBytes: data.length, tornBytes: 0, last, firstTimeMs, keyId };
}

/** The key that signs the log from `frame` on, if `frame` says. */
function signingKeyId(frame: DecodedFrame): string | undefined {
  if (frame.kind === 'checkpoint' || frame.kind === 'keyRotated') return frame.body.keyId;
  return undefined;
}

function decodeOrUndefined(bytes: Buffer): DecodedFrame | undefined {
  try {
    return decodeFrame(bytes);
  } catch {
    // Bytes that are not a frame: the caller decides whether they are a torn tail or damage.
    return undefined;
  }
}

function isZeroFill(data: Buffer, offset: number): boolean {
  for (let i = offset; i < data.length; i++) if (data[i] !== 0) return false;
  return true;
}

function damaged(where: string, record: SegmentRecord): ProxyError {
  const what = record.kind === 'damage' ? record.reason : 'a record that is not a frame';
  const message = `${where} holds ${what} at offset ${record.offset}`;
  return new ProxyError('ERR_AUDIT_STORE_INVALID', message);
}

/** The errno code of a failed file operation, for messages; never the path or data. */
export function errnoCode(err: unknown): string {
  const code = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
  return typeof code === 'string' ? code : 'an unknown error';
}

function byFirstSequence(a: SegmentName, b: SegmentName): number {
  return a.firstSequence - b.firstSequence;
}

// Plain code-unit order, not locale order, so every process lists logs the same way.
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
