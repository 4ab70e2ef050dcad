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

/** The texts of one direction, each stream's bytes in arrival order. */
export class TextStreams {
  readonly streams = new Map<string, Buffer[]>();
  readonly lengths = new Map<string, number>();

  add(stream: string, bytes: Buffer): number {
    const offset = this.lengths.get(stream) ?? 0;
    let parts = this.streams.get(stream);
    if (parts === undefined) this.streams.set(stream, (parts = []));
    parts.push(bytes);
    this.lengths.set(stream, offset + bytes.length);
    return offset;
  }

  /** Each stream's text as it came, unmasked: only ever for a sealed original. */
  texts(): MaskedTextRecord[] {
    return [...this.streams].map(([stream, parts]) => ({
      stream,
      text: Buffer.concat(parts).toString('utf8'),
    }));
  }
}

/**
 * Collects an exchange's prompt and response texts, up to `maxBytes` of them together, and
 * gives them back masked. The copies are masked as whole texts, one stream at a time, with the
 * one-shot masker: by the streaming masker's oracle that is what the client saw where masking
 * ran, and it is masked all the same where it did not (a route that masks nothing, a role that
 * sees responses unmasked), because an audit frame never holds card data.
 */
export class AuditTranscript {
  private readonly prompt = new TextStreams();
  private readonly response = new TextStreams();
  private readonly chunks: ResponseChunkRecord[] = [];
  /** The token counts the response reported last, if it reported any. */
  usage: TokenCounts | undefined;
  private kept = 0;
  private promptCut = false;
  private responseCut = false;

  constructor(
    private readonly maxBytes: number,
    private readonly policy: TextMaskPolicy,
  ) {}

  /** Copies a prompt text; `stream` empty for a text complete in itself. */
  addPrompt(stream: string, bytes: Buffer): void {
    const copy = this.take(bytes);
    if (copy.length < bytes.length) this.promptCut = true;
    if (copy.length > 0) this.prompt.add(stream, copy);
  }

  /** Copies a response text and notes where in its stream it starts and when it left. */
  addResponse(stream: string, bytes: Buffer, atMs: number): void {
    const copy = this.take(bytes);
    if (copy.length < bytes.length) this.responseCut = true;
    if (copy.length === 0) return;
    const offset = this.response.add(stream, copy);
    this.chunks.push({ stream, offset, length: copy.length, atMs });
  }

  get promptTruncated(): boolean {
    return this.promptCut;
  }

  get responseTruncated(): boolean {
    return this.responseCut;
  }

  /** The prompt texts as they came, for a sealed original; the audit frame never holds them. */
  originalPrompt(): MaskedTextRecord[] {
    return this.prompt.texts();
  }

  /** The prompt texts, masked. */
  maskedPrompt(): MaskedTextRecord[] {
    return this.masked(this.prompt, this.promptCut);
  }

  /** The response texts, masked, and where each chunk of them lies (byte offsets). */
  maskedResponse(): { texts: MaskedTextRecord[]; chunks: ResponseChunkRecord[] } {
    const texts = this.masked(this.response, this.responseCut);
    const lengths = new Map(texts.map((t) => [t.stream, Buffer.byteLength(t.text)]));
    const chunks = this.chunks.filter((c) => c.offset + c.length <= (lengths.get(c.stream) ?? 0));
    return { texts, chunks };
  }

  /** A copy of what fits the budget, plus the margin that lets a cut number still be masked. */
  private take(bytes: Buffer): Buffer {
    const room = this.maxBytes + CUT_MARGIN_BYTES - this.kept;
    const length = Math.max(0, Math.min(room, bytes.length));
    this.kept += length;
    return Buffer.from(bytes.subarray(0, length));
  }

  private masked(texts: TextStreams, cut: boolean): MaskedTextRecord[] {
    const out: MaskedTextRecord[] = [];
    let budget = this.maxBytes;
    for (const [stream, parts] of texts.streams) {
      const whole = Buffer.concat(parts);
      maskText(whole, this.policy, emptyTextMaskCounts());
      const keep = Math.min(budget, whole.length);
      budget -= keep;
      let text = whole.subarray(0, keep).toString('utf8');
      // Which stream the budget cut is not tracked: in a cut direction every tail is scrubbed.
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
