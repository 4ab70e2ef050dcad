// The texts of one exchange as the audit trail keeps them: copied as they pass, masked once.

import type { MaskedTextRecord } from '../../audit/audit-events';
import type { TokenCounts } from '../../masking/frame-holdback';
import { emptyTextMaskCounts, maskText, type TextMaskPolicy } from '../../masking/text-masker';

/**
 * Digits and the separators a card number may be written with, at the end of a text: what a
 * cut may leave of a card number too short for the masker to recognise.
 */
const CUT_NUMBER_TAIL = /[\p{Nd}\s\-.\u00ad\u200b-\u200d\u2060\ufeff]+$/u;

/** Bytes kept past the budget so a card number the cut crosses is still whole when masked. */
const CUT_MARGIN_BYTES = 256;

/** A text as it came, unmasked: for a sealed original only, never for a frame in the clear. */
export interface OriginalText {
  readonly stream: string;
  readonly bytes: Buffer;
}

/** First room of a text's buffer; it doubles as pieces fill it. */
const INITIAL_TEXT_BYTES = 256;

/**
 * One text: the stream it continues ('' for a text complete in itself) and its bytes so far, in
 * one buffer that grows by doubling, so a streamed text costs a copy per piece and no object.
 */
interface Text {
  readonly stream: string;
  readonly index: number;
  bytes: Buffer;
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

  /**
   * Copies the first `length` bytes of `bytes` into a text; which text it joined. Its offset
   * within it is where the text's earlier pieces end.
   */
  add(stream: string | undefined, bytes: Buffer, length: number): number {
    let text = stream === undefined ? undefined : this.byStream.get(stream);
    if (text === undefined) {
      const room = Math.max(INITIAL_TEXT_BYTES, length);
      text = {
        stream: stream ?? '',
        bytes: Buffer.allocUnsafe(room),
        length: 0,
        index: this.texts.length,
      };
      this.texts.push(text);
      if (stream !== undefined) this.byStream.set(stream, text);
    }
    if (text.length + length > text.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(text.bytes.length * 2, text.length + length));
      text.bytes.copy(grown, 0, 0, text.length);
      text.bytes = grown;
    }
    bytes.copy(text.bytes, text.length, 0, length);
    text.length += length;
    return text.index;
  }

  /** Every text, each as one buffer (a view of the text's own, valid until the next `add`). */
  all(): OriginalText[] {
    return this.texts.map(whole);
  }

  /** The texts that came since the last call: a stream's later requests. */
  takeNew(): OriginalText[] {
    const fresh = this.texts.slice(this.taken).map(whole);
    this.taken = this.texts.length;
    return fresh;
  }
}

function whole(text: Text): OriginalText {
  return { stream: text.stream, bytes: text.bytes.subarray(0, text.length) };
}

/** Where the pieces of a response lie, as `ExchangeFinished` records them (packed lists). */
export interface ResponsePieces {
  readonly chunkTexts: number[];
  readonly chunkLengths: number[];
  readonly chunkAtMs: number[];
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
  private readonly pieces: ResponsePieces = { chunkTexts: [], chunkLengths: [], chunkAtMs: [] };
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
    const length = this.take(bytes);
    if (length < bytes.length) this.promptCut = true;
    if (length > 0) this.prompt.add(undefined, bytes, length);
  }

  /** Copies a response text and notes which text it continues, its length and when it left. */
  addResponse(stream: string | undefined, bytes: Buffer, atMs: number): void {
    const length = this.take(bytes);
    if (length < bytes.length) this.responseCut = true;
    if (length === 0) return;
    const text = this.response.add(stream, bytes, length);
    this.pieces.chunkTexts.push(text);
    this.pieces.chunkLengths.push(length);
    this.pieces.chunkAtMs.push(atMs);
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
  takePrompt(): { masked: MaskedTextRecord[]; originals: OriginalText[] } {
    const texts = this.prompt.takeNew();
    return { masked: this.masked(texts, this.promptCut), originals: texts };
  }

  /**
   * The response texts, masked, and where each piece of them lies. A piece that ends past its
   * masked text (the budget cut the text) is left out, and so are that text's later pieces.
   */
  maskedResponse(): { texts: MaskedTextRecord[]; pieces: ResponsePieces } {
    const texts = this.masked(this.response.all(), this.responseCut);
    const room = texts.map((text) => Buffer.byteLength(text.text));
    const { chunkTexts, chunkLengths, chunkAtMs } = this.pieces;
    let kept: ResponsePieces | undefined;
    for (let i = 0; i < chunkTexts.length; i++) {
      const text = chunkTexts[i]!;
      room[text]! -= chunkLengths[i]!;
      if (room[text]! < 0) {
        kept ??= {
          chunkTexts: chunkTexts.slice(0, i),
          chunkLengths: chunkLengths.slice(0, i),
          chunkAtMs: chunkAtMs.slice(0, i),
        };
      } else if (kept !== undefined) {
        kept.chunkTexts.push(text);
        kept.chunkLengths.push(chunkLengths[i]!);
        kept.chunkAtMs.push(chunkAtMs[i]!);
      }
    }
    return { texts, pieces: kept ?? this.pieces };
  }

  /** How much of `bytes` fits the budget, plus the margin that lets a cut number be masked. */
  private take(bytes: Buffer): number {
    const room = this.maxBytes + CUT_MARGIN_BYTES - this.kept;
    const length = Math.max(0, Math.min(room, bytes.length));
    this.kept += length;
    return length;
  }

  private masked(texts: readonly OriginalText[], cut: boolean): MaskedTextRecord[] {
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
