// Splits a header or trailer section into lines across chunks, within a byte budget.

import { ProxyError } from '../errors/proxy-error';
import { CR, LF } from './http1-syntax';

/** Initial size of the buffer that holds a line split across chunks. */
const CARRY_INITIAL_BYTES = 256;

/**
 * Finds the lines of one header-like section (RFC 9112 §2.1, §5, §7.1.2) in the chunks it
 * arrives in. A line that lies inside one chunk is read in place; only a line split across
 * chunks is copied, into a carry buffer reused for the life of the splitter.
 *
 * Every byte handed over counts against `maxBytes`; ERR_HEADERS_TOO_LARGE is raised as soon as
 * the section would need more, so a peer sending no line end can never make it buffer more.
 * A line ends at LF, and a CR just before it is dropped: RFC 9112 §2.2 lets a recipient accept a
 * bare LF. Any other CR stays in the line, where the syntax checks refuse it.
 */
export class Http1LineSplitter {
  /** Bytes of the section taken so far, line ends included. */
  consumed = 0;
  /** Where the last line found lies: `line[lineStart, lineEnd)`, without CR LF. */
  line: Buffer = Buffer.alloc(0);
  lineStart = 0;
  lineEnd = 0;

  private carry: Buffer | undefined;
  private carryLength = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly section: string,
  ) {}

  /** Forgets the section read so far, to read another with the same budget. */
  reset(): void {
    this.consumed = 0;
    this.carryLength = 0;
  }

  /**
   * Looks for the end of the next line in `chunk` from `offset`. Returns the offset just past
   * its LF, with the line in `line`, `lineStart` and `lineEnd`; or -1 when the chunk ends first,
   * in which case the rest of the chunk has been taken and kept. Throws ERR_HEADERS_TOO_LARGE.
   */
  next(chunk: Buffer, offset: number): number {
    const budget = this.maxBytes - this.consumed;
    const lf = chunk.indexOf(LF, offset);
    const available = (lf === -1 ? chunk.length : lf + 1) - offset;
    if (available > budget || (lf === -1 && available === budget)) this.refuse();
    this.consumed += available;

    if (lf === -1) {
      if (available > 0) this.keep(chunk, offset, chunk.length);
      return -1;
    }
    if (this.carryLength === 0) {
      this.setLine(chunk, offset, lf);
    } else {
      this.keep(chunk, offset, lf);
      this.setLine(this.carry!, 0, this.carryLength);
      this.carryLength = 0;
    }
    return lf + 1;
  }

  private setLine(bytes: Buffer, start: number, lfAt: number): void {
    this.line = bytes;
    this.lineStart = start;
    this.lineEnd = lfAt > start && bytes[lfAt - 1] === CR ? lfAt - 1 : lfAt;
  }

  /** Appends `chunk[start, end)` to the carry; the budget check above bounds its growth. */
  private keep(chunk: Buffer, start: number, end: number): void {
    const needed = this.carryLength + end - start;
    if (this.carry === undefined || this.carry.length < needed) {
      const size = Math.min(Math.max(CARRY_INITIAL_BYTES, needed * 2), this.maxBytes);
      const grown = Buffer.allocUnsafe(Math.max(size, needed));
      if (this.carry !== undefined) this.carry.copy(grown, 0, 0, this.carryLength);
      this.carry = grown;
    }
    this.carryLength += chunk.copy(this.carry, this.carryLength, start, end);
  }

  private refuse(): never {
    throw new ProxyError(
      'ERR_HEADERS_TOO_LARGE',
      `${this.section} is longer than the limit of ${this.maxBytes} bytes`,
    );
  }
}
