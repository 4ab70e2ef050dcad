// Property tests: any split of a random event stream into chunks yields the events of the
// one-chunk parse, byte for byte, and every byte of the stream comes back exactly once, in order.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import fc from 'fast-check';

import { SseDecoder, type SseEventBytes } from '../../src/codecs/sse-decoder';
import { parseSseBlock } from '../../src/codecs/sse-event';

const RUNS = { seed: 20250611, numRuns: 400 };

const EOL = fc.constantFrom('\n', '\r', '\r\n');

/** A field value: printable ASCII, non-ASCII, spaces and colons, never a line end. */
const valueArb = fc
  .string({
    unit: fc.constantFrom('a', ' ', ':', '{', '"', 'é', '😀', '\u0000', '0', '9'),
    maxLength: 8,
  })
  .map((value) => value);

/** One line of a block: a known field, a comment, an unknown field or a bare name. */
const lineArb = fc
  .tuple(
    fc.constantFrom('data', 'data', 'event', 'id', 'retry', ':', 'other', 'data:', 'data: '),
    valueArb,
  )
  .map(([name, value]) =>
    name === ':' ? `:${value}` : name.endsWith(':') ? `${name}${value}` : `${name}: ${value}`,
  );

/** A block: some lines then a blank line, with random line ends (which may merge into CRLF). */
const blockArb = fc
  .tuple(fc.array(fc.tuple(lineArb, EOL), { maxLength: 4 }), EOL)
  .map(([lines, blank]) => lines.map(([line, eol]) => line + eol).join('') + blank);

/** A stream: optional BOM, blocks, and an optional unfinished tail. */
const streamArb = fc
  .tuple(fc.boolean(), fc.array(blockArb, { maxLength: 6 }), fc.option(lineArb, { nil: undefined }))
  .map(([bom, blocks, tail]) =>
    Buffer.from((bom ? '\ufeff' : '') + blocks.join('') + (tail ?? '')),
  );

/** Cut points into a stream of `length` bytes, sorted, possibly repeated (empty chunks). */
function chunksOf(stream: Buffer, cuts: readonly number[]): Buffer[] {
  const points = cuts.map((cut) => cut % (stream.length + 1)).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, stream.length]) {
    chunks.push(Buffer.from(stream.subarray(start, point)));
    start = point;
  }
  return chunks;
}

/** Everything a caller sees of one event, in comparable form. */
function view(event: SseEventBytes) {
  const { bytes, type, data, id, retry, commentOnly } = event;
  return { bytes: Buffer.from(bytes), type, data, id, retry, commentOnly };
}

function decodeAll(chunks: readonly Buffer[]) {
  const decoder = new SseDecoder();
  const events: SseEventBytes[] = [];
  for (const chunk of chunks) decoder.push(chunk, (event) => events.push(event));
  const rest = decoder.end();
  return { events, rest, lastEventId: decoder.lastEventId };
}

test('any split yields the events and leftovers of the one-chunk parse', () => {
  fc.assert(
    fc.property(streamArb, fc.array(fc.nat(), { maxLength: 8 }), (stream, cuts) => {
      const whole = decodeAll([stream]);
      const split = decodeAll(chunksOf(stream, cuts));

      assert.deepEqual(split.events.map(view), whole.events.map(view));
      assert.deepEqual(split.rest, whole.rest);
    }),
    RUNS,
  );
});

test('the event bytes and the end leftovers concatenate to the input', () => {
  fc.assert(
    fc.property(streamArb, fc.array(fc.nat(), { maxLength: 8 }), (stream, cuts) => {
      const { events, rest } = decodeAll(chunksOf(stream, cuts));
      const pieces = events.map((event) => event.bytes);
      if (rest !== undefined) pieces.push(rest);

      assert.deepEqual(Buffer.concat(pieces), stream);
    }),
    RUNS,
  );
});

test('every data range lies inside its event and holds no line end', () => {
  fc.assert(
    fc.property(streamArb, (stream) => {
      for (const event of decodeAll([stream]).events) {
        for (const { start, end } of event.data) {
          assert.ok(start >= 0 && start <= end && end <= event.bytes.length);
          const value = event.bytes.subarray(start, end);
          assert.ok(!value.includes(0x0a) && !value.includes(0x0d));
        }
      }
    }),
    RUNS,
  );
});

/** Blocks of one data line, the shape read without the line loop, among blocks of any shape. */
const dataBlockArb = fc.oneof(
  blockArb,
  fc
    .tuple(fc.constantFrom('data:', 'data: ', 'data:  '), valueArb, EOL, EOL)
    .map(([name, value, eol, blank]) => `${name}${value}${eol}${blank}`),
);

test('a block reads the same with and without the one-data-line shortcut', () => {
  fc.assert(
    fc.property(dataBlockArb, (text) => {
      const bytes = Buffer.from(text);
      // At the stream's start a block is always read line by line (a BOM may lead it).
      assert.deepEqual(view(parseSseBlock(bytes, false)), view(parseSseBlock(bytes, true)));
    }),
    RUNS,
  );
});
