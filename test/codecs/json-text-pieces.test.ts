// Unit tests of JSON text pieces: plain strings masked in the wire bytes themselves, escaped ones
// decoded, masked as text and re-encoded into a new frame only when the mask changed them.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { formatJsonPath } from '../../src/codecs/json-path';
import { scanJson } from '../../src/codecs/json-text-scanner';
import { jsonTextPieces, type StreamedSpan } from '../../src/codecs/json-text-pieces';
import { maskCardData } from '../../src/masking/card-masker';

/** A message as a codec sees it; `rebuilt` marks the copies `rebuild` made. */
interface TestMessage {
  readonly frame: Buffer;
  readonly rebuilt?: boolean;
}

/** The spans, of no stream, of every string value of the JSON document `wire[from, to)`. */
function stringSpans(wire: Buffer, from = 0, to = wire.length): StreamedSpan[] {
  const spans: StreamedSpan[] = [];
  scanJson(wire.subarray(from, to), {
    scalar: (path, kind, start, end, escaped) => {
      if (kind !== 'string') return;
      const span = { path: formatJsonPath(path), start: from + start, end: from + end };
      spans.push({ ...span, escaped, stream: undefined });
    },
  });
  return spans;
}

/** The pieces of `wire`, with a rebuild that records each frame it was given. */
function piecesOf(wire: Buffer, spans: readonly StreamedSpan[] = stringSpans(wire)) {
  const rebuilds: Buffer[] = [];
  const rebuild = (message: TestMessage, frame: Buffer): TestMessage => {
    rebuilds.push(frame);
    return { ...message, frame, rebuilt: true };
  };
  return { ...jsonTextPieces(wire, spans, rebuild), rebuilds };
}

/** Masks each piece as the holdback would. */
function maskAll(pieces: readonly { bytes: Buffer }[]): void {
  for (const piece of pieces) maskCardData(piece.bytes);
}

test('gives an unescaped string as a view of the wire, so masking it writes the wire', () => {
  const wire = Buffer.from('{"content":"card 4111111111111111 ok"}');
  const { pieces, finish } = piecesOf(wire);

  maskAll(pieces);

  assert.equal(pieces.length, 1);
  assert.equal(pieces[0]!.bytes.buffer, wire.buffer);
  assert.equal(finish, undefined);
  assert.equal(wire.toString(), '{"content":"card ************1111 ok"}');
});

test('decodes an escaped string into a copy, so masking it leaves the wire as it was', () => {
  const text = '{"content":"card \\u0034111111111111111 ok"}';
  const wire = Buffer.from(text);
  const { pieces } = piecesOf(wire);

  assert.equal(pieces[0]!.bytes.toString(), 'card 4111111111111111 ok');
  maskAll(pieces);

  assert.equal(pieces[0]!.bytes.toString(), 'card ************1111 ok');
  assert.equal(wire.toString(), text);
});

test('re-encodes the frame when masking changed an escaped string', () => {
  const wire = Buffer.from('{"content":"card \\u0034111111111111111 ok","n":1}');
  const message: TestMessage = { frame: wire };
  const { pieces, finish, rebuilds } = piecesOf(wire);
  maskAll(pieces);

  const out = finish!(message);

  assert.equal(rebuilds.length, 1);
  assert.equal(out.rebuilt, true);
  assert.notEqual(out.frame, wire);
  assert.deepEqual(JSON.parse(out.frame.toString()), { content: 'card ************1111 ok', n: 1 });
});

test('returns the same message when masking left the escaped strings unchanged', () => {
  const wire = Buffer.from('{"content":"say \\"hi\\" \\u00e9 12 \\u0034"}');
  const message: TestMessage = { frame: wire };
  const { pieces, finish, rebuilds } = piecesOf(wire);
  maskAll(pieces);

  const out = finish!(message);

  assert.equal(out, message);
  assert.deepEqual(rebuilds, []);
});

test('keeps escaped quotes, backslashes and control characters in a re-encoded string', () => {
  const wire = Buffer.from(
    '{"content":"\\"quoted\\" C:\\\\cards\\\\ \\t4111\\u002d1111-1111-1111\\n\\u0000end"}',
  );
  const { pieces, finish } = piecesOf(wire);
  maskAll(pieces);

  const out = finish!({ frame: wire });

  const content = JSON.parse(out.frame.toString()).content;
  assert.equal(content, '"quoted" C:\\cards\\ \t****-****-****-1111\n\u0000end');
});

test('keeps the other strings of a re-encoded frame: in-place masks and untouched escapes', () => {
  const wire = Buffer.from(
    '{"a":"plain 4111111111111111","b":"\\u0041BC","c":"esc \\u0035555555555554444"}',
  );
  const { pieces, finish } = piecesOf(wire);
  maskAll(pieces);

  const out = finish!({ frame: wire });

  const text = out.frame.toString();
  assert.deepEqual(JSON.parse(text), {
    a: 'plain ************1111',
    b: 'ABC',
    c: 'esc ************4444',
  });
  assert.ok(text.includes('"b":"\\u0041BC"'), text);
});

test('keeps the bytes around the JSON of an event frame', () => {
  const wire = Buffer.from('data: {"delta":"\\u0034111111111111111"}\n\n');
  const { pieces, finish } = piecesOf(wire, stringSpans(wire, 'data: '.length, wire.length - 2));
  maskAll(pieces);

  const out = finish!({ frame: wire });

  assert.equal(out.frame.toString(), 'data: {"delta":"************1111"}\n\n');
});

test('gives each piece the stream of its span', () => {
  const wire = Buffer.from('{"a":"x","b":"\\u0079"}');
  const spans = stringSpans(wire).map((span, i) => ({ ...span, stream: i === 0 ? 'a/' : 'b/' }));

  const { pieces } = piecesOf(wire, spans);

  assert.deepEqual(
    pieces.map(({ bytes, stream }) => [bytes.toString(), stream]),
    [
      ['x', 'a/'],
      ['y', 'b/'],
    ],
  );
});

test('keeps an escaped lone surrogate as it was when it re-encodes the string', () => {
  // JSON (RFC 8259 §8.2) allows an unpaired `\ud800`; masking a card next to it must not turn
  // it into U+FFFD, which would change the text beyond the masked digits.
  const wire = Buffer.from('{"content":"\\ud800 \\u0034111111111111111"}');
  const { pieces, finish } = piecesOf(wire);
  maskAll(pieces);

  const out = finish!({ frame: wire });

  assert.equal(JSON.parse(out.frame.toString()).content, '\ud800 ************1111');
});
