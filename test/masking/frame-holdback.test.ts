// Unit and property tests of the frame holdback: frames leave at once when their text is decided,
// wait in arrival order while it is not, are masked in place, and are all let go by a flush.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import fc from 'fast-check';

import { maskCardData } from '../../src/masking/card-masker';
import { FrameHoldback, type FrameTexts, type TextPiece } from '../../src/masking/frame-holdback';
import { DEFAULT_MASK_OPTIONS } from '../../src/masking/mask-options';
import { BRAND_SAMPLES, chunksOf, grouped, inScript } from './card-fixtures';

const VISA = '4111111111111111';

/** A frame that says which one it is. */
interface TestFrame {
  readonly id: string;
  frame: Buffer;
}

/** A frame and what a codec read of it. */
interface ReadFrame {
  readonly message: TestFrame;
  readonly texts: FrameTexts<TestFrame> | undefined;
}

/** A frame whose whole bytes are one text of `stream`, and how it may end streams. */
function frameOf(
  id: string,
  text: string,
  stream: string | undefined,
  ends: Partial<Pick<FrameTexts<TestFrame>, 'endedStreams' | 'endsAll'>> = {},
): ReadFrame {
  const message = { id, frame: Buffer.from(text) };
  const pieces: TextPiece[] = [{ bytes: message.frame, stream }];
  return { message, texts: { pieces, endedStreams: [], endsAll: false, ...ends } };
}

/** A frame that carries no text of its own but may end streams (a terminal event). */
function endFrame(id: string, ends: Partial<FrameTexts<TestFrame>>): ReadFrame {
  const message = { id, frame: Buffer.from(`<${id}>`) };
  return { message, texts: { pieces: [], endedStreams: [], endsAll: false, ...ends } };
}

function add(holdback: FrameHoldback<TestFrame>, { message, texts }: ReadFrame): TestFrame[] {
  return holdback.add(message, texts);
}

function ids(frames: readonly TestFrame[]): string[] {
  return frames.map((frame) => frame.id);
}

function newHoldback(): FrameHoldback<TestFrame> {
  return new FrameHoldback<TestFrame>(DEFAULT_MASK_OPTIONS);
}

test('lets a frame without texts leave at once as the same object', () => {
  const holdback = newHoldback();
  const bare = { id: 'bare', frame: Buffer.from('event: ping') };
  const empty = endFrame('empty', {});

  const first = holdback.add(bare, undefined);
  const second = add(holdback, empty);

  assert.equal(first.length, 1);
  assert.equal(first[0], bare);
  assert.equal(second.length, 1);
  assert.equal(second[0], empty.message);
  assert.equal(holdback.heldBytes, 0);
});

test('lets a frame with clean text leave at once as the same object, not written to', () => {
  const holdback = newHoldback();
  const clean = frameOf('clean', 'hello, world: no numbers here ', 'choice/0/');
  const buffer = clean.message.frame;

  const out = add(holdback, clean);

  assert.equal(out.length, 1);
  assert.equal(out[0], clean.message);
  assert.equal(out[0]!.frame, buffer);
  assert.equal(buffer.toString(), 'hello, world: no numbers here ');
  assert.equal(holdback.heldBytes, 0);
});

test('holds a frame that may still be a card number and releases it masked in place', () => {
  const holdback = newHoldback();
  const start = frameOf('start', 'card 4111 1111', 'choice/0/');
  const rest = frameOf('rest', ' 1111 1111 ok', 'choice/0/');
  const startBuffer = start.message.frame;

  assert.deepEqual(add(holdback, start), []);
  assert.equal(holdback.heldBytes, startBuffer.length);
  const out = add(holdback, rest);

  assert.equal(out.length, 2);
  assert.equal(out[0], start.message);
  assert.equal(out[1], rest.message);
  assert.equal(out[0]!.frame, startBuffer);
  assert.equal(startBuffer.toString(), 'card **** ****');
  assert.equal(rest.message.frame.toString(), ' **** 1111 ok');
  assert.equal(holdback.heldBytes, 0);
});

test('releases frames in arrival order: a clean frame behind a held one waits for it', () => {
  const holdback = newHoldback();
  const held = frameOf('held', 'PAN 4111 1111', 'choice/0/');
  const clean = frameOf('clean', 'plain words', 'choice/1/');
  const bare = { id: 'bare', frame: Buffer.from(': keep-alive') };
  const decider = frameOf('decider', ' 1111 1111 ok', 'choice/0/');

  assert.deepEqual(add(holdback, held), []);
  assert.deepEqual(add(holdback, clean), []);
  assert.deepEqual(holdback.add(bare, undefined), []);
  const out = add(holdback, decider);

  assert.deepEqual(ids(out), ['held', 'clean', 'bare', 'decider']);
  assert.equal(out[1], clean.message);
  assert.equal(
    Buffer.concat(out.map((frame) => frame.frame)).toString(),
    ['PAN **** ****', 'plain words', ': keep-alive', ' **** 1111 ok'].join(''),
  );
});

test('ends the streams that endedStreams names by prefix and releases what they held', () => {
  const holdback = newHoldback();
  const first = frameOf('first', grouped(VISA, [4, 4, 4, 4], ' '), 'choice/0/content');
  const second = frameOf('second', '5555 5555', 'choice/1/content');
  const endFirst = endFrame('end-0', { endedStreams: ['choice/0/'] });
  const endSecond = endFrame('end-1', { endedStreams: ['choice/1/'] });

  assert.deepEqual(add(holdback, first), []);
  assert.deepEqual(add(holdback, second), []);
  const afterFirst = add(holdback, endFirst);
  const afterSecond = add(holdback, endSecond);

  // A 4-4-4-4 number may grow a fifth group, so only the end of its text decides it.
  assert.deepEqual(ids(afterFirst), ['first']);
  assert.equal(first.message.frame.toString(), '**** **** **** 1111');
  assert.deepEqual(ids(afterSecond), ['second', 'end-0', 'end-1']);
  assert.equal(second.message.frame.toString(), '5555 5555');
  assert.equal(holdback.heldBytes, 0);
});

test('ends a stream in the frame that carries its last text', () => {
  const holdback = newHoldback();
  const last = frameOf('last', `PAN ${grouped(VISA, [4, 4, 4, 4], '-')}`, 'choice/0/', {
    endedStreams: ['choice/0/'],
  });

  const out = add(holdback, last);

  assert.deepEqual(ids(out), ['last']);
  assert.equal(last.message.frame.toString(), 'PAN ****-****-****-1111');
});

test('endsAll ends every stream and releases every held frame', () => {
  const holdback = newHoldback();
  const a = frameOf('a', `x ${VISA.slice(0, 8)}`, 'tensor/a/');
  const b = frameOf('b', 'y 4111 1111 1111 1111', 'tensor/b/');
  const c = frameOf('c', `${VISA.slice(8)}`, 'tensor/a/');

  assert.deepEqual(add(holdback, a), []);
  assert.deepEqual(add(holdback, b), []);
  assert.deepEqual(add(holdback, c), []);
  const out = add(holdback, endFrame('done', { endsAll: true }));

  assert.deepEqual(ids(out), ['a', 'b', 'c', 'done']);
  assert.equal(a.message.frame.toString() + c.message.frame.toString(), 'x ************1111');
  assert.equal(b.message.frame.toString(), 'y **** **** **** 1111');
  assert.equal(holdback.heldBytes, 0);
});

test('flush ends every stream and releases every held frame in order', () => {
  const holdback = newHoldback();
  const a = frameOf('a', 'card 4111 1111 1111 1111', 'choice/0/');
  const b = frameOf('b', 'then 12', 'choice/1/');
  add(holdback, a);
  add(holdback, b);

  const out = holdback.flush();

  assert.deepEqual(ids(out), ['a', 'b']);
  assert.equal(a.message.frame.toString(), 'card **** **** **** 1111');
  assert.equal(b.message.frame.toString(), 'then 12');
  assert.equal(holdback.heldBytes, 0);
  assert.deepEqual(holdback.flush(), []);
});

test('starts a new text for a stream key that comes back after its end', () => {
  const holdback = newHoldback();
  add(holdback, frameOf('a', '4111 1111', 'choice/0/', { endedStreams: ['choice/0/'] }));

  const b = frameOf('b', ' 1111 1111', 'choice/0/');
  const out = [...add(holdback, b), ...holdback.flush()];

  assert.deepEqual(ids(out), ['b']);
  assert.equal(b.message.frame.toString(), ' 1111 1111');
  assert.equal(holdback.counts.pan, 0);
});

test('applies finish to each frame as it leaves, after its pieces are masked', () => {
  const holdback = newHoldback();
  const finished: string[] = [];
  /** A frame whose text is a copy, as a decoded JSON escape is: finish writes it back. */
  const copied = (id: string, text: string): ReadFrame => {
    const message = { id, frame: Buffer.from(`[${text}]`) };
    const bytes = Buffer.from(text);
    const finish = (m: TestFrame): TestFrame => {
      finished.push(m.id);
      return { id: `${m.id}+`, frame: Buffer.from(`[${bytes.toString()}]`) };
    };
    const texts = { pieces: [{ bytes, stream: 'c/' }], endedStreams: [], endsAll: false, finish };
    return { message, texts };
  };

  assert.deepEqual(add(holdback, copied('a', 'card 4111 1111')), []);
  assert.deepEqual(finished, []);
  const out = add(holdback, copied('b', ' 1111 1111 ok'));

  assert.deepEqual(finished, ['a', 'b']);
  assert.deepEqual(ids(out), ['a+', 'b+']);
  assert.deepEqual(
    out.map((frame) => frame.frame.toString()),
    ['[card **** ****]', '[ **** 1111 ok]'],
  );
});

test('applies finish to a frame that leaves at once', () => {
  const holdback = newHoldback();
  const message = { id: 'a', frame: Buffer.from('hello') };
  const rebuilt = { id: 'a2', frame: Buffer.from('hello') };
  const texts = {
    pieces: [{ bytes: Buffer.from('hello'), stream: 'c/' }],
    endedStreams: [],
    endsAll: false,
    finish: () => rebuilt,
  };

  const out = holdback.add(message, texts);

  assert.equal(out.length, 1);
  assert.equal(out[0], rebuilt);
});

test('masks a piece of no stream at once as a whole text, even in a frame that waits', () => {
  const holdback = newHoldback();
  const held = frameOf('held', 'PAN 4111 1111', 'choice/0/');
  const whole = frameOf('whole', `tool: ${VISA}`, undefined);
  add(holdback, held);

  const out = add(holdback, whole);

  assert.deepEqual(out, []);
  assert.equal(whole.message.frame.toString(), 'tool: ************1111');
  assert.deepEqual(ids(holdback.flush()), ['held', 'whole']);
});

test('never joins pieces of no stream: each is a text complete in itself', () => {
  const holdback = newHoldback();
  const a = frameOf('a', '4111 1111', undefined);
  const b = frameOf('b', ' 1111 1111', undefined);

  const out = [...add(holdback, a), ...add(holdback, b)];

  assert.deepEqual(ids(out), ['a', 'b']);
  assert.equal(a.message.frame.toString() + b.message.frame.toString(), '4111 1111 1111 1111');
  assert.equal(holdback.counts.pan, 0);
});

test('masks several pieces of one frame, each in its own stream', () => {
  const holdback = newHoldback();
  const frame = Buffer.from(`${VISA}|${VISA.slice(0, 6)}`);
  const message = { id: 'pair', frame };
  const pieces = [
    { bytes: frame.subarray(0, 16), stream: 'choice/0/' },
    { bytes: frame.subarray(17), stream: 'choice/1/' },
  ];

  assert.deepEqual(holdback.add(message, { pieces, endedStreams: [], endsAll: false }), []);
  const rest = frameOf('rest', VISA.slice(6), 'choice/1/', { endsAll: true });
  const out = add(holdback, rest);

  assert.deepEqual(ids(out), ['pair', 'rest']);
  assert.equal(frame.toString(), '************1111|******');
  assert.equal(rest.message.frame.toString(), '******1111');
});

test('counts card data of every stream, ended or not, and of pieces of no stream', () => {
  const holdback = newHoldback();
  add(holdback, frameOf('a', `${VISA} `, 's0/', { endedStreams: ['s0/'] }));
  add(holdback, frameOf('b', `CVV: 123 and 378282246310005 `, 's1/'));
  add(holdback, frameOf('c', `exp 12/25 ${VISA}`, undefined));
  add(holdback, frameOf('d', `;${VISA}=25121010000012300000? `, 's2/'));

  const before = holdback.counts;
  holdback.flush();

  // The Amex number may still anchor a code after it, so it is masked and counted at the flush.
  assert.deepEqual(before, { pan: 3, cvv: 1, expiry: 1, track1: 0, track2: 1 });
  assert.deepEqual(holdback.counts, { pan: 4, cvv: 1, expiry: 1, track1: 0, track2: 1 });
});

test('stats count frames that waited and the most bytes held at once', () => {
  const holdback = newHoldback();
  const a = frameOf('a', 'card 4111 1111', 's/');
  const b = frameOf('b', 'clean', 't/');
  const c = frameOf('c', ' 1111 1111 ok', 's/');
  const d = frameOf('d', 'later 4111', 's/');

  add(holdback, a);
  add(holdback, b);
  add(holdback, c);
  add(holdback, d);
  const before = holdback.stats;
  holdback.flush();
  const after = holdback.stats;

  // a and b waited together; c left at once; d waited alone and left at the flush.
  assert.equal(before.heldFrames, 3);
  assert.equal(before.maxHeldBytes, a.message.frame.length + b.message.frame.length);
  assert.equal(after.heldFrames, 3);
  assert.equal(after.maxHeldBytes, before.maxHeldBytes);
  assert.ok(after.maxHeldMs <= after.heldMs);
});

test('stats stay zero when nothing waits', () => {
  const holdback = newHoldback();
  add(holdback, frameOf('a', 'plain', 's/'));
  add(holdback, frameOf('b', `${VISA} ok`, undefined));

  assert.deepEqual(holdback.stats, { heldFrames: 0, maxHeldBytes: 0, heldMs: 0, maxHeldMs: 0 });
});

// Property: several streams, each one text cut into chunks, the chunks carried by frames in any
// interleaving that keeps each stream's order; the holdback must let every frame go once, in
// arrival order, and leave each stream's text masked exactly as the one-shot masker masks it.

const RUNS = { seed: 20250613, numRuns: 200 };

/** A card number written some way: script, grouping, separator, invisible characters. */
const cardArb = fc
  .tuple(
    fc.constantFrom(...BRAND_SAMPLES.map(({ card }) => card), VISA),
    fc.constantFrom(0x30, 0x30, 0xff10, 0x660),
    fc.constantFrom('', ' ', '-', '\u00a0'),
    fc.constantFrom('', '', '\u200b'),
  )
  .map(([card, zero, separator, invisible]) => {
    const digits = inScript(card, zero);
    if (separator === '') return [...digits].join(invisible);
    return grouped(digits, [4, 4, 4, card.length - 12], separator);
  });

const pieceArb = fc.oneof(
  fc.constantFrom('a', 'PAN:', ' ', '\n', '"', 'é', '😀', '-', '.', 'x'),
  fc.constantFrom('0', '4', '12', '2024', '\uff14', '\u200b', 'CVV: ', '123', 'exp ', '12/25'),
  cardArb,
  fc.constantFrom(`;${VISA}=25121010000012300000?`, `%B${VISA}^DOE/JOHN^2512101000000000000?`),
);

const textArb = fc.array(pieceArb, { maxLength: 12 }).map((pieces) => Buffer.from(pieces.join('')));

/** One stream's text, where it is cut, and whether a frame names it in endedStreams. */
const streamArb = fc.record({
  text: textArb,
  cuts: fc.array(fc.nat(), { maxLength: 6 }),
  endsNamed: fc.boolean(),
});

/** How a property run sends its streams: chunk order across streams and frame sizes. */
interface Plan {
  readonly streams: readonly { text: Buffer; cuts: number[]; endsNamed: boolean }[];
  /** Picks the stream of each next chunk among those with chunks left. */
  readonly picks: readonly number[];
  /** How many chunks each frame carries. */
  readonly sizes: readonly number[];
  /** Whether a frame without texts goes before each frame of chunks. */
  readonly bare: readonly boolean[];
  /** Whether a last frame ends every stream, as `[DONE]` does. */
  readonly endsAll: boolean;
}

const planArb: fc.Arbitrary<Plan> = fc.record({
  streams: fc.array(streamArb, { minLength: 1, maxLength: 4 }),
  picks: fc.array(fc.nat(), { maxLength: 40 }),
  sizes: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 20 }),
  bare: fc.array(fc.boolean(), { maxLength: 20 }),
  endsAll: fc.boolean(),
});

/** Where a chunk of a stream lies: its frame and the bytes of the frame it occupies. */
interface ChunkPlace {
  readonly frame: number;
  readonly start: number;
  readonly end: number;
}

/** The element `n` of `list` taken cyclically, or `fallback` for an empty list. */
function cyclic<T>(list: readonly T[], n: number, fallback: T): T {
  return list.length === 0 ? fallback : list[n % list.length]!;
}

/** Builds a plan's frames, each stream's chunks in order, and notes where each chunk went. */
class PlanFrames {
  readonly frames: ReadFrame[] = [];
  readonly places: ChunkPlace[][];
  private readonly chunks: Buffer[][];
  private readonly next: number[];
  private step = 0;

  constructor(private readonly plan: Plan) {
    this.chunks = plan.streams.map(({ text, cuts }) => chunksOf(text, cuts));
    this.next = this.chunks.map(() => 0);
    this.places = this.chunks.map(() => []);
    for (let k = 0; this.open().length > 0; k++) {
      if (cyclic(plan.bare, k, false)) this.push({ id: `f${this.frames.length}` }, undefined);
      this.addChunks(cyclic(plan.sizes, k, 1));
    }
    if (plan.endsAll) this.frames.push(endFrame(`f${this.frames.length}`, { endsAll: true }));
  }

  private open(): number[] {
    return this.chunks.map((_, s) => s).filter((s) => this.next[s]! < this.chunks[s]!.length);
  }

  /** A frame of up to `size` next chunks back to back after a tag, its pieces views of it. */
  private addChunks(size: number): void {
    const index = this.frames.length;
    const parts: Buffer[] = [Buffer.from(`<f${index}>`)];
    const spans: { stream: string; start: number; end: number }[] = [];
    const ended: string[] = [];
    let pos = parts[0]!.length;
    for (let i = 0; i < size && this.open().length > 0; i++) {
      const open = this.open();
      const s = open[cyclic(this.plan.picks, this.step++, 0) % open.length]!;
      const chunk = this.chunks[s]![this.next[s]!++]!;
      parts.push(chunk);
      spans.push({ stream: `s${s}/`, start: pos, end: pos + chunk.length });
      this.places[s]!.push({ frame: index, start: pos, end: pos + chunk.length });
      pos += chunk.length;
      const last = this.next[s] === this.chunks[s]!.length;
      if (last && this.plan.streams[s]!.endsNamed) ended.push(`s${s}/`);
    }

    const frame = Buffer.concat(parts);
    const pieces = spans.map(({ stream, start, end }) => ({
      bytes: frame.subarray(start, end),
      stream,
    }));
    this.push({ id: `f${index}`, frame }, { pieces, endedStreams: ended, endsAll: false });
  }

  private push(message: { id: string; frame?: Buffer }, texts: FrameTexts<TestFrame> | undefined) {
    const frame = message.frame ?? Buffer.from(`<${message.id}>`);
    this.frames.push({ message: { id: message.id, frame }, texts });
  }
}

test('any interleaving of streams lets every frame go once, in order, masked as a whole', () => {
  fc.assert(
    fc.property(planArb, (plan) => {
      const { frames, places } = new PlanFrames(plan);
      const holdback = newHoldback();

      const out = frames.flatMap((frame) => add(holdback, frame));
      out.push(...holdback.flush());

      assert.equal(out.length, frames.length);
      out.forEach((message, i) => assert.equal(message, frames[i]!.message));
      assert.equal(holdback.heldBytes, 0);
      plan.streams.forEach(({ text }, s) => {
        const expected = Buffer.from(text);
        maskCardData(expected);
        const masked = places[s]!.map(({ frame, start, end }) =>
          frames[frame]!.message.frame.subarray(start, end),
        );
        assert.deepEqual(Buffer.concat(masked), expected);
      });
    }),
    RUNS,
  );
});
