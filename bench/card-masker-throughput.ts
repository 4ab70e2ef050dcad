// A standalone throughput probe of the card masker (not part of `npm run bench`): one-shot on
// clean prose and digit-dense text, and the streaming masker on small chunks.
// Run: npx tsc -p tsconfig.json && node dist/bench/card-masker-throughput.js

import { maskCardData } from '../src/masking/card-masker';
import { StreamMasker } from '../src/masking/stream-masker';

const PROSE = 'The quick brown fox jumps over the lazy dog, and then it rests. ';
const DENSE = 'At 2024-01-01 12:30:45 qty 12 at 19.99, ref 4111 1111 1111 1112, id 1704067200000. ';
const CARDS = 'Order 2024-01-01 qty 12 at 19.99, ref 4111 1111 1111 1111, id 12345678. ';

function text(unit: string, bytes: number): Buffer {
  return Buffer.from(unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes));
}

/** Seconds per call of `run`, best of five rounds. */
function time(rounds: number, run: () => void): number {
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) run();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9 / rounds);
  }
  return best;
}

function report(name: string, bytes: number, seconds: number): void {
  process.stdout.write(`${name}: ${(bytes / seconds / 1e9).toFixed(2)} GB/s\n`);
}

const prose = text(PROSE, 16 << 20);
report(
  'one-shot clean prose',
  prose.length,
  time(5, () => maskCardData(prose)),
);
const dense = text(DENSE, 4 << 20);
report(
  'one-shot digit-dense, no card',
  dense.length,
  time(3, () => maskCardData(dense)),
);
const cards = text(CARDS, 4 << 20);
const copy = Buffer.alloc(cards.length);
report(
  'one-shot a card every 74 bytes',
  cards.length,
  time(3, () => {
    cards.copy(copy);
    maskCardData(copy);
  }),
);

const token = Buffer.from(' token');
const masker = new StreamMasker();
const perChunk = time(200_000, () => masker.push(token));
process.stdout.write(`stream push of a 6-byte clean chunk: ${(perChunk * 1e9).toFixed(0)} ns\n`);
