// The masking engine alone, in the bench process without sockets or children: one-shot
// throughput on three kinds of text and the streaming masker's cost per small chunk.

import { maskCardData } from '../src/masking/card-masker';
import { FrameHoldback } from '../src/masking/frame-holdback';
import { DEFAULT_MASK_OPTIONS } from '../src/masking/mask-options';
import { StreamMasker } from '../src/masking/stream-masker';
import {
  bestSecondsPerCall,
  engineFigure,
  type EngineFigure,
  type EngineTarget,
} from './engine-figure';

/**
 * Each probe keeps the best of this many passes, so a pass slowed by the JIT or by a neighbour on
 * the machine does not count.
 */
const PASSES = 5;

/** Prose without a digit: the common case, which every exchange pays for. */
const PROSE_UNIT = 'The quick brown fox jumps over the lazy dog, and then it rests. ';
/** Dates, times, amounts and a 16-digit reference that fails the Luhn check: digits, no card. */
const DENSE_UNIT =
  'At 2024-01-01 12:30:45 qty 12 at 19.99, ref 4111 1111 1111 1112, id 1704067200000. ';
/** A valid test card number in every 72-byte unit, so masking writes all the time. */
const CARDS_UNIT = 'Order 2024-01-01 qty 12 at 19.99, ref 4111 1111 1111 1111, id 12345678. ';
/** A streamed token without digits, about what a model server sends per event. */
const CLEAN_CHUNK = ' token';

const MIB = 1 << 20;
/** Decimal megabytes, as throughput targets are stated. */
const BYTES_PER_MB = 1e6;
const NS_PER_S = 1e9;

/** A probe: what it measures, how to run one call of it, and what one call processes. */
interface EngineProbe {
  readonly key: string;
  readonly label: string;
  readonly unit: EngineFigure['unit'];
  readonly target?: EngineTarget;
  /** Bytes one call masks, for MB/s; 0 for a figure in ns per call (chunk). */
  readonly bytes: number;
  readonly callsPerPass: number;
  /** Builds the inputs once (outside the timing) and returns one call. */
  readonly prepare: () => () => void;
}

/** `unit` repeated and cut to exactly `bytes` bytes (every unit is ASCII). */
function repeatedText(unit: string, bytes: number): Buffer {
  return Buffer.from(unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes));
}

/** Masking one clean buffer writes nothing to it, so one buffer serves every call. */
function oneShotClean(unit: string, bytes: number): () => () => void {
  return () => {
    const text = repeatedText(unit, bytes);
    return () => maskCardData(text);
  };
}

/**
 * Masking writes into the buffer, so each call first restores the original text; the copy runs at
 * memory speed and is counted in, which understates the masker by a few percent at most.
 */
function oneShotCards(bytes: number): () => () => void {
  return () => {
    const original = repeatedText(CARDS_UNIT, bytes);
    const copy = Buffer.alloc(original.length);
    return () => {
      original.copy(copy);
      maskCardData(copy);
    };
  };
}

/** One masker for all calls: a long stream of clean tokens, each released by its own push. */
function streamPush(): () => void {
  const chunk = Buffer.from(CLEAN_CHUNK);
  const masker = new StreamMasker();
  return () => masker.push(chunk);
}

const PROBES: readonly EngineProbe[] = [
  {
    key: 'oneShotProse',
    label: 'one-shot clean prose, 16 MiB',
    unit: 'MB/s',
    target: { bound: 'atLeast', value: 1_000 },
    bytes: 16 * MIB,
    callsPerPass: 5,
    prepare: oneShotClean(PROSE_UNIT, 16 * MIB),
  },
  {
    key: 'oneShotDigitDense',
    label: 'one-shot digit-dense, no card, 4 MiB',
    unit: 'MB/s',
    target: { bound: 'atLeast', value: 300 },
    bytes: 4 * MIB,
    callsPerPass: 3,
    prepare: oneShotClean(DENSE_UNIT, 4 * MIB),
  },
  {
    key: 'oneShotCards',
    label: 'one-shot a card every 72 B, 4 MiB',
    unit: 'MB/s',
    bytes: 4 * MIB,
    callsPerPass: 3,
    prepare: oneShotCards(4 * MIB),
  },
  {
    key: 'streamPushCleanChunk',
    label: 'stream push, 6-byte clean chunk',
    unit: 'ns/chunk',
    target: { bound: 'below', value: 1_000 },
    bytes: 0,
    callsPerPass: 200_000,
    prepare: streamPush,
  },
];

function measureProbe(probe: EngineProbe): EngineFigure {
  const seconds = bestSecondsPerCall(PASSES, probe.callsPerPass, probe.prepare());
  const value =
    probe.unit === 'ns/chunk' ? seconds * NS_PER_S : probe.bytes / seconds / BYTES_PER_MB;

  return engineFigure(probe.key, probe.label, probe.unit, value, probe.target);
}

/** The events of a 256-token chat stream whose tokens spell a card number in its middle. */
function cardStreamEvents(): Buffer[] {
  const tokens = Array.from({ length: 256 }, () => ' token');
  tokens.splice(128, 4, ' 4111', ' 1111', ' 1111', ' 1111');
  return tokens.map((token) =>
    Buffer.from(`data: {"choices":[{"index":0,"delta":{"content":"${token}"}}]}\n\n`),
  );
}

/**
 * What the holdback keeps back of that stream, event by event as a gateway sees it: the most
 * bytes of events held at once and how many events waited. Counts, not time: an event waits for
 * the next token, so its delay is the stream's own token gap.
 */
function holdbackFigures(): EngineFigure[] {
  const holdback = new FrameHoldback<{ frame: Buffer }>(DEFAULT_MASK_OPTIONS);
  for (const frame of cardStreamEvents()) {
    const start = frame.indexOf('"content":"') + 11;
    const end = frame.indexOf('"', start);
    holdback.add(
      { frame },
      {
        pieces: [{ bytes: frame.subarray(start, end), stream: 'c0/' }],
        endedStreams: [],
        endsAll: false,
      },
    );
  }
  holdback.flush();
  const { maxHeldBytes, heldFrames } = holdback.stats;
  const label = 'card over 4 of 256 tokens:';
  return [
    { key: 'holdbackMaxBytes', label: `${label} most held`, unit: 'bytes', value: maxHeldBytes },
    { key: 'holdbackFrames', label: `${label} events held`, unit: 'frames', value: heldFrames },
  ];
}

/**
 * Measures every engine figure in turn, synchronously: run it before any child starts, so the
 * engine has a core to itself. `progress` gets one line per figure. Never throws for a slow
 * engine; a missed target is reported in the figure.
 */
export function measureMaskingEngine(progress: (line: string) => void): EngineFigure[] {
  const timed = PROBES.map((probe) => {
    const figure = measureProbe(probe);
    progress(`engine          ${probe.label.padEnd(36)} ${figure.value.toFixed(0)} ${figure.unit}`);
    return figure;
  });
  return [...timed, ...holdbackFigures()];
}
