// The fields of one server-sent event block, read from its wire bytes without copying them
// (WHATWG HTML §9.2.5 "Parsing an event stream", §9.2.6 "Interpreting an event stream").

/** A byte range `[start, end)` relative to the event's `bytes`. */
export interface SseByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * One block of an event stream: zero or more lines, then the blank line that ends it. A block
 * with no `data` line dispatches no event (§9.2.6) but is still reported, so that its bytes (a
 * keep-alive comment, an `id:`-only block, a stray blank line) are forwarded in order.
 */
export interface SseEventBytes {
  /**
   * The block's wire bytes, from its first line through its blank line; the stream's leading
   * BOM, if any, belongs to the first block. A masking filter may rewrite ranges in place.
   */
  readonly bytes: Buffer;
  /** The `event` field's value; 'message' when the block has none or an empty one. */
  readonly type: string;
  /**
   * Each `data` line's value in order (one leading space removed, §9.2.6). The event's data is
   * these values joined with LF; `[DONE]` is such a value, not a field.
   */
  readonly data: readonly SseByteRange[];
  /** The `id` field's value; undefined when absent or ignored for holding U+0000. */
  readonly id: string | undefined;
  /** The `retry` field in milliseconds; undefined when absent or not only ASCII digits. */
  readonly retry: number | undefined;
  /** True when the block has no field line: only comments (`:` lines) and its blank line. */
  readonly commentOnly: boolean;
}

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Reads the fields of one complete block. `atStreamStart` skips a leading UTF-8 BOM, which
 * §9.2.5 strips from the start of the stream only. Lines end at CR, LF or CRLF; reading stops
 * at the first blank line. Field values are decoded as UTF-8 with replacement, as §9.2.5 decodes
 * the stream; unknown field names are ignored. Never throws.
 */
export function parseSseBlock(bytes: Buffer, atStreamStart: boolean): SseEventBytes {
  const single = atStreamStart ? undefined : singleDataBlock(bytes);
  if (single !== undefined) return single;

  const fields = new BlockFields();
  let pos = atStreamStart && bytes.subarray(0, 3).equals(BOM) ? 3 : 0;
  // Line ends are found with indexOf (memchr); a CR is rare, so its position is kept until passed.
  let cr = bytes.indexOf(CR, pos);
  while (pos < bytes.length) {
    if (cr !== -1 && cr < pos) cr = bytes.indexOf(CR, pos);
    const lf = bytes.indexOf(LF, pos);
    const lineEnd = lineEndOf(lf, cr, bytes.length);
    if (lineEnd === pos) break;
    fields.readLine(bytes, pos, lineEnd);
    pos = lineEnd + (bytes[lineEnd] === CR && bytes[lineEnd + 1] === LF ? 2 : 1);
  }

  const { type, data, id, retry, hasField } = fields;
  return { bytes, type: type === '' ? 'message' : type, data, id, retry, commentOnly: !hasField };
}

/**
 * The block as what model servers write for every token, `data:` and one value, then LF LF,
 * read without a line loop; undefined for any other block. Its value holds no CR or LF: the
 * first LF is the one that ends the line, and a CR anywhere would have ended it earlier.
 */
function singleDataBlock(bytes: Buffer): SseEventBytes | undefined {
  const length = bytes.length;
  if (length < 7 || bytes[length - 1] !== LF || bytes[length - 2] !== LF) return undefined;
  if (!isName(bytes, 0, DATA_NAME) || bytes[4] !== COLON) return undefined;
  const end = length - 2;
  if (bytes.indexOf(LF, 5) !== end || bytes.indexOf(CR, 5) !== -1) return undefined;
  const value = bytes[5] === SPACE ? 6 : 5;
  return {
    bytes,
    type: 'message',
    data: [{ start: value, end }],
    id: undefined,
    retry: undefined,
    commentOnly: false,
  };
}

/** The event's data: its data values decoded as UTF-8 and joined with LF (§9.2.6). */
export function sseDataText(event: SseEventBytes): string {
  return event.data.map(({ start, end }) => event.bytes.toString('utf8', start, end)).join('\n');
}

/** The fields of a block as its lines are read. */
class BlockFields {
  type = '';
  readonly data: SseByteRange[] = [];
  id: string | undefined;
  retry: number | undefined;
  hasField = false;

  /** §9.2.6: a comment, `name: value` (one space trimmed), or a bare name with value ''. */
  readLine(bytes: Buffer, start: number, end: number): void {
    if (bytes[start] === COLON) return;
    const found = bytes.indexOf(COLON, start);
    const colon = found !== -1 && found < end ? found : end;
    let value = colon < end ? colon + 1 : end;
    if (value < end && bytes[value] === SPACE) value++;

    this.hasField = true;
    const length = colon - start;
    if (length === 4 && isName(bytes, start, DATA_NAME)) {
      this.data.push({ start: value, end });
    } else if (length === 5 && isName(bytes, start, EVENT_NAME)) {
      this.type = bytes.toString('utf8', value, end);
    } else if (length === 2 && isName(bytes, start, ID_NAME)) {
      if (!bytes.subarray(value, end).includes(0)) this.id = bytes.toString('utf8', value, end);
    } else if (length === 5 && isName(bytes, start, RETRY_NAME)) {
      if (isAsciiDigits(bytes, value, end))
        this.retry = Number(bytes.toString('latin1', value, end));
    }
  }
}

const DATA_NAME = Buffer.from('data');
const EVENT_NAME = Buffer.from('event');
const ID_NAME = Buffer.from('id');
const RETRY_NAME = Buffer.from('retry');

/**
 * Whether the field name at `start` is `name`; the caller has checked its length. Byte by byte:
 * names are two to five bytes, where a native compare costs more in the call than in the work.
 */
function isName(bytes: Buffer, start: number, name: Buffer): boolean {
  for (let i = 0; i < name.length; i++) {
    if (bytes[start + i] !== name[i]) return false;
  }
  return true;
}

/** The first line end: the earlier of an LF and a CR position (-1 for none), else `length`. */
function lineEndOf(lf: number, cr: number, length: number): number {
  if (lf === -1) return cr === -1 ? length : cr;
  return cr === -1 ? lf : Math.min(lf, cr);
}

function isAsciiDigits(bytes: Buffer, start: number, end: number): boolean {
  if (start === end) return false;
  for (let i = start; i < end; i++) {
    if (bytes[i]! < 0x30 || bytes[i]! > 0x39) return false;
  }
  return true;
}
