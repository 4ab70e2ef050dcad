// The texts of one exchange as the audit trail keeps them: copied as they pass, masked once.

import type { MaskedTextRecord, ResponseChunkRecord } from '../../audit/audit-events';
import type { TokenCounts } from '../../masking/frame-holdback';
import { emptyTextMaskCounts, maskText, type TextMaskPolicy } from '../../masking/text-masker';

/**
 * Digits and the separators a card number may be written with, at the end of a text: what a
 * cut may leave of a card number too short for the masker to recognise.
 */
const CUT_NUMBER_TAIL = /[\p{Nd}\s\-.\u00ad\u200b-\u200d\u2060\ufeff]+$/u;

/** Bytes kept past the budget so a card number the cut crosses is still whole when masked. */
const CUT_MARGIN_BYTES = 256;

/** One text: the stream it continues ('' for a text complete in itself) and its pieces. */
interface Text {
  readonly stream: string;
  readonly parts: Buffer[];
  readonly index: number;
  length: number;
}

/**
 * The texts of one direction in arrival order. Pieces of one stream join into one text; a
 * piece of no stream is a text of its own, so two texts are never masked as one (digits at
 * the end of one and the start of the next are not a card number).
 */
export class TextStreams {
  private readonly texts: Text[] = [];
  private readonly byStream = new Map<string, Text>();
  /** Texts already handed out by `takeNew`. */
  private taken = 0;

  /** Adds a piece; which text it joined, and the offset at which it starts within it. */
  add(stream: string | undefined, bytes: Buffer): { index: number; offset: number } {
    let text = stream === undefined ? undefined : this.byStream.get(stream);
    if (text === undefined) {
      text = { stream: stream ?? '', parts: [], length: 0, index: this.texts.length };
      this.texts.push(text);
      if (stream !== undefined) this.byStream.set(stream, text);
    }
    const offset = text.length;
    text.parts.push(bytes);
    text.length += bytes.length;
    return { index: text.index, offset };
  }

  /** Every text, each as one buffer. */
  all(): { stream: string; bytes: Buffer }[] {
    return this.texts.map(joined);
  }

  /** The texts that came since the last call: a stream's later requests. */
  takeNew(): { stream: string; bytes: Buffer }[] {
    const fresh = this.texts.slice(this.taken).map(joined);
    this.taken = this.texts.length;
    return fresh;
  }
}

function joined(text: Text): { stream: string; bytes: Buffer } {
  return { stream: text.stream, bytes: Buffer.concat(text.parts, text.length) };
}

/**
 * Collects an exchange's prompt and response texts, up to `maxBytes` of them together, and
 * gives them back masked. The copies are masked as whole texts with the one-shot masker: by the
 * streaming masker's oracle that is what the client saw where masking ran, and it is masked all
 * the same where it did not (a route that masks nothing, a role that sees responses unmasked),
 * because an audit frame never holds card data. Masking works on joined copies, so the pieces
 * themselves stay as they came, for a sealed original.
 */
export class AuditTranscript {
  private readonly prompt = new TextStreams();
  private readonly response = new TextStreams();
  private readonly chunks: (ResponseChunkRecord & { readonly index: number })[] = [];
  /** The token counts the response reported last, if it reported any. */
  usage: TokenCounts | undefined;
  private kept = 0;
  private promptCut = false;
  private responseCut = false;

  constructor(
    private readonly maxBytes: number,
    private readonly policy: TextMaskPolicy,
  ) {}

  /** Copies a prompt text, complete in itself. */
  addPrompt(bytes: Buffer): void {
    const copy = this.take(bytes);
    if (copy.length < bytes.length) this.promptCut = true;
    if (copy.length > 0) this.prompt.add(undefined, copy);
  }

  /** Copies a response text and notes where in its stream it starts and when it left. */
  addResponse(stream: string | undefined, bytes: Buffer, atMs: number): void {
    const copy = this.take(bytes);
    if (copy.length < bytes.length) this.responseCut = true;
    if (copy.length === 0) return;
    const { index, offset } = this.response.add(stream, copy);
    this.chunks.push({ stream: stream ?? '', offset, length: copy.length, atMs, index });
  }

  get promptTruncated(): boolean {
    return this.promptCut;
  }

  get responseTruncated(): boolean {
    return this.responseCut;
  }

  /**
   * The prompt texts that came since the last call, masked, with their originals for a sealed
   * record: the whole prompt at the start of an exchange, a stream's later requests at its end.
   */
  takePrompt(): { masked: MaskedTextRecord[]; originals: MaskedTextRecord[] } {
    const texts = this.prompt.takeNew();
    const originals = texts.map(({ stream, bytes }) => ({ stream, text: bytes.toString('utf8') }));
    return { masked: this.masked(texts, this.promptCut), originals };
  }

  /** The response texts, masked, and where each chunk of them lies (byte offsets). */
  maskedResponse(): { texts: MaskedTextRecord[]; chunks: ResponseChunkRecord[] } {
    const texts = this.masked(this.response.all(), this.responseCut);
    const lengths = texts.map((text) => Buffer.byteLength(text.text));
    const chunks = this.chunks
      .filter((chunk) => chunk.offset + chunk.length <= lengths[chunk.index]!)
      .map(({ stream, offset, length, atMs }) => ({ stream, offset, length, atMs }));
    return { texts, chunks };
  }

  /** The response texts as they came, for a sealed original; never for a frame in the clear. */
  originalResponse(): MaskedTextRecord[] {
    return this.response.all().map(({ stream, bytes }) => ({ stream, text: bytes.toString() }));
  }

  /** A copy of what fits the budget, plus the margin that lets a cut number still be masked. */
  private take(bytes: Buffer): Buffer {
    const room = this.maxBytes + CUT_MARGIN_BYTES - this.kept;
    const length = Math.max(0, Math.min(room, bytes.length));
    this.kept += length;
    return Buffer.from(bytes.subarray(0, length));
  }

  private masked(texts: { stream: string; bytes: Buffer }[], cut: boolean): MaskedTextRecord[] {
    const out: MaskedTextRecord[] = [];
    let budget = this.maxBytes;
    for (const { stream, bytes } of texts) {
      const whole = Buffer.from(bytes);
      maskText(whole, this.policy, emptyTextMaskCounts());
      const keep = Math.min(budget, whole.length);
      budget -= keep;
      let text = whole.subarray(0, keep).toString('utf8');
      // Which text the budget cut is not tracked: in a cut direction every tail is scrubbed.
      if (cut) text = scrubCutTail(text, this.policy);
      out.push({ stream, text });
    }
    return out;
  }
}

/** Masks the digits a cut left at the end of a text: a part of a number is card data too. */
function scrubCutTail(text: string, policy: TextMaskPolicy): string {
  const mask = String.fromCharCode(policy.options.maskByte);
  return text.replace(CUT_NUMBER_TAIL, (tail) => tail.replace(/\p{Nd}/gu, mask));
}
