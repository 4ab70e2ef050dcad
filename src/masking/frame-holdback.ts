// Holds the frames of one direction of an exchange while their text is undecided, and lets them
// go in the order they came, each masked, the moment every text in it is decided.

import type { FindingObserver } from './card-masker';
import type { MaskCounts, ResolvedMaskOptions } from './mask-options';
import type { MaskPattern, PatternCounts } from './pattern-masker';
import {
  addTextMaskCounts,
  emptyTextMaskCounts,
  maskText,
  StreamTextMasker,
  type TextMaskPolicy,
} from './text-masker';

/** One text a frame carries. */
export interface TextPiece {
  /** The text's bytes, which masking rewrites in place: a view into the frame, or a copy. */
  readonly bytes: Buffer;
  /**
   * The text this piece continues (an output tensor of one request, an OpenAI choice, a tool
   * call's arguments); undefined for a text complete in itself, which is masked at once.
   */
  readonly stream: string | undefined;
}

/** What a codec read of one frame. */
export interface FrameTexts<M> {
  readonly pieces: readonly TextPiece[];
  /** Prefixes of the stream keys whose text ends with this frame. */
  readonly endedStreams: readonly string[];
  /** Every stream ends with this frame (`[DONE]`, a terminal event). */
  readonly endsAll: boolean;
  /**
   * Called when the frame leaves, its pieces masked: the message to forward. Needed only where
   * a piece is a copy (a JSON string with escapes, a decompressed message); absent, the message
   * leaves as it is, masked in place.
   */
  readonly finish?: (message: M) => M;
  /** Token counts the frame reports (an OpenAI `usage` object), for the audit record. */
  readonly usage?: TokenCounts;
}

/** What a model server says an exchange cost, in tokens. */
export interface TokenCounts {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

const NO_TEXTS: Omit<FrameTexts<unknown>, 'finish'> = {
  pieces: [],
  endedStreams: [],
  endsAll: false,
};

/** How long and how much a holdback held. */
export interface HoldbackStats {
  /** Frames that waited for text after them. */
  readonly heldFrames: number;
  /** The most bytes of frames held at one time. */
  readonly maxHeldBytes: number;
  /** Total and longest wait of a held frame, in milliseconds. */
  readonly heldMs: number;
  readonly maxHeldMs: number;
}

/** A frame waiting for its pieces. */
interface HeldFrame<M> {
  readonly message: M;
  readonly texts: FrameTexts<M>;
  /** Pieces still held by their stream's masker. */
  waiting: number;
  /** `performance.now()` when it began to wait; 0 while it has not. */
  since: number;
}

/**
 * The frames of one direction of one exchange. Each stream has its own StreamTextMasker, so a card
 * number split across frames is found whatever the split; frames leave in arrival order, so a
 * clean frame behind a held one waits for it. A frame's bytes stay where they are: pieces are
 * views of it, masked in place, and a clean frame leaves as the same object.
 */
export class FrameHoldback<M extends { frame: Buffer }> {
  private readonly maskers = new Map<string, StreamTextMasker>();
  private readonly queue: HeldFrame<M>[] = [];
  private readonly owners = new Map<Buffer, HeldFrame<M>>();
  private readonly ended = emptyTextMaskCounts();
  private readonly policy: TextMaskPolicy;
  private queuedBytes = 0;
  private heldFrames = 0;
  private maxHeldBytes = 0;
  private heldMs = 0;
  private maxHeldMs = 0;

  /** `patterns`: the operator's own, masked after card data. */
  constructor(
    options: ResolvedMaskOptions,
    observe?: FindingObserver,
    patterns: readonly MaskPattern[] = [],
  ) {
    this.policy = { options, observe, patterns };
  }

  /** Bytes of the frames held now. */
  get heldBytes(): number {
    return this.queuedBytes;
  }

  /** Card data masked so far, by kind. */
  get counts(): MaskCounts {
    return this.allCounts().cards;
  }

  /** Matches of the operator's patterns masked so far, by pattern name. */
  get patternCounts(): PatternCounts {
    return this.allCounts().patterns;
  }

  get stats(): HoldbackStats {
    const { heldFrames, maxHeldBytes, heldMs, maxHeldMs } = this;
    return { heldFrames, maxHeldBytes, heldMs, maxHeldMs };
  }

  /**
   * Masks what `texts` lets be decided and returns the frames that may leave now, in order;
   * a frame without texts (undefined) leaves when the frames before it have.
   */
  add(message: M, texts: FrameTexts<M> | undefined): M[] {
    texts ??= NO_TEXTS;
    // Made only once a piece is held: a frame that leaves at once, the common case, needs none.
    let frame: HeldFrame<M> | undefined;
    for (const piece of texts.pieces) {
      if (piece.stream === undefined) {
        maskText(piece.bytes, this.policy, this.ended);
        continue;
      }
      const released = this.masker(piece.stream).push(piece.bytes);
      // With no piece held anywhere, a piece released at once was decided at once: it needs no
      // owner (a clean token, the common case, then costs no map entry).
      if (this.owners.size === 0 && released.length === 1 && released[0] === piece.bytes) continue;
      frame ??= { message, texts, waiting: 0, since: 0 };
      frame.waiting++;
      this.owners.set(piece.bytes, frame);
      this.settle(released);
    }
    if (texts.endsAll) this.endStreams(() => true);
    else if (texts.endedStreams.length > 0) {
      const prefixes = texts.endedStreams;
      this.endStreams((key) => prefixes.some((prefix) => key.startsWith(prefix)));
    }

    // Nothing before it and nothing of it held: the frame leaves at once.
    if ((frame === undefined || frame.waiting === 0) && this.queue.length === 0) {
      return [finished(message, texts)];
    }
    frame ??= { message, texts, waiting: 0, since: 0 };
    this.queue.push(frame);
    this.queuedBytes += message.frame.length;
    const out = this.release();
    if (this.queue.length > 0 && this.queue[this.queue.length - 1] === frame) {
      frame.since = performance.now();
      this.heldFrames++;
      this.maxHeldBytes = Math.max(this.maxHeldBytes, this.queuedBytes);
    }
    return out;
  }

  /** Ends every stream and returns every frame still held, in order. */
  flush(): M[] {
    this.endStreams(() => true);
    return this.release();
  }

  private allCounts() {
    const counts = emptyTextMaskCounts();
    addTextMaskCounts(counts, this.ended);
    for (const masker of this.maskers.values()) addTextMaskCounts(counts, masker.counts);
    return counts;
  }

  private masker(stream: string): StreamTextMasker {
    let masker = this.maskers.get(stream);
    if (masker === undefined) {
      masker = new StreamTextMasker(this.policy);
      this.maskers.set(stream, masker);
    }
    return masker;
  }

  private endStreams(ends: (key: string) => boolean): void {
    for (const [key, masker] of this.maskers) {
      if (!ends(key)) continue;
      this.settle(masker.end());
      addTextMaskCounts(this.ended, masker.counts);
      this.maskers.delete(key);
    }
  }

  /** Marks the pieces a masker released as decided. */
  private settle(released: readonly Buffer[]): void {
    for (const bytes of released) {
      const frame = this.owners.get(bytes);
      if (frame === undefined) continue;
      this.owners.delete(bytes);
      frame.waiting--;
    }
  }

  private release(): M[] {
    const out: M[] = [];
    while (this.queue.length > 0 && this.queue[0]!.waiting === 0) {
      const frame = this.queue.shift()!;
      this.queuedBytes -= frame.message.frame.length;
      if (frame.since !== 0) this.noteWait(performance.now() - frame.since);
      out.push(finished(frame.message, frame.texts));
    }
    return out;
  }

  private noteWait(ms: number): void {
    this.heldMs += ms;
    this.maxHeldMs = Math.max(this.maxHeldMs, ms);
  }
}

/** The message a frame leaves as: itself, or what its codec makes of its masked pieces. */
function finished<M>(message: M, texts: FrameTexts<M>): M {
  return texts.finish === undefined ? message : texts.finish(message);
}
