// Reassembling server-sent events from transport chunks split anywhere.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { SseDecoder, type SseEventBytes } from '../../src/codecs/sse-decoder';
import { sseDataText } from '../../src/codecs/sse-event';
import { assertProxyError } from '../fixtures/proxy-errors';

/** A decoder with a recording sink; `push` feeds it chunks in order. */
function makeDecoder(maxEventBytes?: number) {
  const decoder = new SseDecoder(maxEventBytes === undefined ? {} : { maxEventBytes });
  const events: SseEventBytes[] = [];
  const push = (...chunks: (Buffer | string)[]) => {
    for (const chunk of chunks) {
      decoder.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, (event) =>
        events.push(event),
      );
    }
  };
  return { decoder, events, push };
}

/** What a test compares of an event: its bytes as text, type and data. */
function summary(event: SseEventBytes) {
  return { bytes: event.bytes.toString(), type: event.type, data: sseDataText(event) };
}

/** A vLLM-shaped chat stream with a keep-alive comment and every line-end style. */
const STREAM =
  ': keep-alive\n\n' +
  'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n' +
  'data: {"choices":[{"index":0,"delta":{"content":"Ünïcödé 😀"}}]}\r\n\r\n' +
  'event: message\rdata: {"choices":[{"index":0,"delta":{"content":" two"}}]}\r\r' +
  'id: 7\ndata: line one\ndata: line two\n\n' +
  'data: [DONE]\n\n';

const STREAM_EVENTS = [
  { bytes: ': keep-alive\n\n', type: 'message', data: '' },
  {
    bytes: 'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n',
    type: 'message',
    data: '{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}',
  },
  {
    bytes: 'data: {"choices":[{"index":0,"delta":{"content":"Ünïcödé 😀"}}]}\r\n\r\n',
    type: 'message',
    data: '{"choices":[{"index":0,"delta":{"content":"Ünïcödé 😀"}}]}',
  },
  {
    bytes: 'event: message\rdata: {"choices":[{"index":0,"delta":{"content":" two"}}]}\r\r',
    type: 'message',
    data: '{"choices":[{"index":0,"delta":{"content":" two"}}]}',
  },
  {
    bytes: 'id: 7\ndata: line one\ndata: line two\n\n',
    type: 'message',
    data: 'line one\nline two',
  },
  { bytes: 'data: [DONE]\n\n', type: 'message', data: '[DONE]' },
];

test('hands on the events of one chunk as views of that chunk', () => {
  const { decoder, events } = makeDecoder();
  const chunk = Buffer.from(STREAM);

  decoder.push(chunk, (event) => events.push(event));

  assert.deepEqual(events.map(summary), STREAM_EVENTS);
  for (const event of events) assert.equal(event.bytes.buffer, chunk.buffer);
  chunk[0] = 0x3b;
  assert.equal(events[0]!.bytes[0], 0x3b);
  assert.equal(decoder.end(), undefined);
});

test('decodes a stream split in two at every byte position', () => {
  const stream = Buffer.from(STREAM);

  for (let at = 0; at <= stream.length; at++) {
    const { decoder, events, push } = makeDecoder();
    push(stream.subarray(0, at), stream.subarray(at));
    const rest = decoder.end();

    assert.deepEqual(events.map(summary), STREAM_EVENTS, `split at ${at}`);
    assert.equal(rest, undefined, `split at ${at}`);
  }
});

test('decodes a stream split in three at every pair of byte positions', () => {
  const stream = Buffer.from(STREAM.slice(0, 160));
  const expected = makeDecoder();
  expected.push(stream);
  const expectedRest = expected.decoder.end()?.toString();

  for (let first = 0; first <= stream.length; first++) {
    for (let second = first; second <= stream.length; second++) {
      const { decoder, events, push } = makeDecoder();
      push(stream.subarray(0, first), stream.subarray(first, second), stream.subarray(second));

      assert.deepEqual(events.map(summary), expected.events.map(summary), `${first}/${second}`);
      assert.equal(decoder.end()?.toString(), expectedRest, `${first}/${second}`);
    }
  }
});

test('copies an event that spans chunks once, into a buffer of its own', () => {
  const { events, push } = makeDecoder();
  const first = Buffer.from('data: {"a"');
  const second = Buffer.from(':1}\n\n');

  push(first, second);
  first.fill(0);
  second.fill(0);

  assert.equal(events.length, 1);
  assert.equal(events[0]!.bytes.toString(), 'data: {"a":1}\n\n');
});

test('takes a CR ending one chunk and an LF starting the next as one line end', () => {
  const { events, push, decoder } = makeDecoder();

  push('data: a\r', '\ndata: b\r\n\r', '\ndata: c\n\n');

  assert.deepEqual(events.map(summary), [
    { bytes: 'data: a\r\ndata: b\r\n\r\n', type: 'message', data: 'a\nb' },
    { bytes: 'data: c\n\n', type: 'message', data: 'c' },
  ]);
  assert.equal(decoder.end(), undefined);
});

test('holds an event ending in a lone CR at a chunk end until the next byte arrives', () => {
  const { events, push, decoder } = makeDecoder();
  const first = Buffer.from('data: a\r\r');

  push(first);
  assert.equal(events.length, 0);
  push('data: b\r\r');

  assert.deepEqual(events.map(summary), [{ bytes: 'data: a\r\r', type: 'message', data: 'a' }]);
  first[6] = 0x41;
  assert.equal(events[0]!.bytes[6], 0x41, 'a view of the chunk, not a copy');
  assert.equal(decoder.end(), undefined);
  assert.deepEqual(events.map(summary)[1], { bytes: 'data: b\r\r', type: 'message', data: 'b' });
});

test('end hands a held event to the sink it is given', () => {
  const { push, decoder, events } = makeDecoder();
  push('data: x\r\r');
  const late: SseEventBytes[] = [];

  assert.equal(
    decoder.end((event) => late.push(event)),
    undefined,
  );
  assert.equal(events.length, 0);
  assert.deepEqual(late.map(summary), [{ bytes: 'data: x\r\r', type: 'message', data: 'x' }]);
});

test('returns an unfinished event at the end, undispatched', () => {
  const { events, push, decoder } = makeDecoder();

  push('data: one\n\ndata: {"choices":', '[{"text":"cut');

  assert.deepEqual(events.map(summary), [{ bytes: 'data: one\n\n', type: 'message', data: 'one' }]);
  assert.equal(decoder.end()?.toString(), 'data: {"choices":[{"text":"cut');
  assert.equal(decoder.end(), undefined);
});

test('reports blank lines between events as blocks of their own', () => {
  const { events, push } = makeDecoder();

  push('\n\ndata: x\n\n\r\n');

  assert.deepEqual(
    events.map((event) => [event.bytes.toString(), event.commentOnly, event.data.length]),
    [
      ['\n', true, 0],
      ['\n', true, 0],
      ['data: x\n\n', false, 1],
      ['\r\n', true, 0],
    ],
  );
});

test('keeps the stream BOM in the first event bytes and skips it when reading fields', () => {
  const bom = Buffer.from([0xef, 0xbb, 0xbf]);
  const { events, push } = makeDecoder();

  push(bom.subarray(0, 1), Buffer.concat([bom.subarray(1), Buffer.from('data: x\n\n')]));
  push(Buffer.concat([bom, Buffer.from('data: y\n\n')]));

  assert.deepEqual(events[0]!.bytes, Buffer.concat([bom, Buffer.from('data: x\n\n')]));
  assert.equal(sseDataText(events[0]!), 'x');
  assert.deepEqual(events[1]!.data, []);
});

test('keeps the last event id across events until an id field changes it', () => {
  const { decoder, push } = makeDecoder();

  push('id: 1\ndata: a\n\ndata: b\n\n');
  assert.equal(decoder.lastEventId, '1');
  push('id: 2\n\n');
  assert.equal(decoder.lastEventId, '2');
});

test('ignores an empty chunk', () => {
  const { events, push, decoder } = makeDecoder();

  push('data: a\r', '', '\n\n');

  assert.deepEqual(events.map(summary), [{ bytes: 'data: a\r\n\n', type: 'message', data: 'a' }]);
  assert.equal(decoder.end(), undefined);
});

test('accepts an event of exactly the limit and refuses one byte more', () => {
  const event = 'data: ' + 'x'.repeat(12) + '\n\n';
  makeDecoder(event.length).push(event);

  assertProxyError(
    () => makeDecoder(event.length - 1).push(event),
    'ERR_SSE_EVENT_TOO_LARGE',
    /^server-sent event of at least 20 bytes exceeds the limit of 19 bytes$/,
  );
  assertProxyError(
    () => makeDecoder(10).push('data: ', 'xxxx', 'x'),
    'ERR_SSE_EVENT_TOO_LARGE',
    /at least 11 bytes/,
  );
});

test('bounds the memory of an event that never ends', () => {
  const { push } = makeDecoder(1024);
  const chunk = 'data: ' + 'x'.repeat(600);

  push(chunk);
  assertProxyError(() => push(chunk), 'ERR_SSE_EVENT_TOO_LARGE', /limit of 1024 bytes/);
});
