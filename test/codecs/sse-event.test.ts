// Reading the fields of one server-sent event block (WHATWG HTML §9.2.6).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseSseBlock, sseDataText, type SseEventBytes } from '../../src/codecs/sse-event';

function block(text: string, atStreamStart = false): SseEventBytes {
  return parseSseBlock(Buffer.from(text), atStreamStart);
}

/** Each data value as text. */
function dataValues(event: SseEventBytes): string[] {
  return event.data.map(({ start, end }) => event.bytes.toString('utf8', start, end));
}

test('reads a vLLM chat chunk: one data line, type message', () => {
  const event = block('data: {"choices":[]}\n\n');

  assert.deepEqual(dataValues(event), ['{"choices":[]}']);
  assert.deepEqual(event.data, [{ start: 6, end: 20 }]);
  assert.equal(event.type, 'message');
  assert.equal(event.id, undefined);
  assert.equal(event.retry, undefined);
  assert.equal(event.commentOnly, false);
});

test('removes exactly one leading space after the colon, and none when absent', () => {
  assert.deepEqual(dataValues(block('data:x\n\n')), ['x']);
  assert.deepEqual(dataValues(block('data: x\n\n')), ['x']);
  assert.deepEqual(dataValues(block('data:  x \n\n')), [' x ']);
  assert.deepEqual(dataValues(block('data:\tx\n\n')), ['\tx']);
});

test('joins several data lines with LF, keeping each line range', () => {
  const event = block('data: {"a":\ndata: 1}\ndata:\n\n');

  assert.deepEqual(dataValues(event), ['{"a":', '1}', '']);
  assert.equal(sseDataText(event), '{"a":\n1}\n');
});

test('takes a line without a colon as a field name with an empty value', () => {
  const event = block('data\n\n');

  assert.deepEqual(dataValues(event), ['']);
  assert.equal(sseDataText(event), '');
});

test('reads CR, LF and CRLF line ends alike', () => {
  for (const eol of ['\n', '\r', '\r\n']) {
    const event = block(`event: delta${eol}data: a${eol}data: b${eol}${eol}`);
    assert.deepEqual(dataValues(event), ['a', 'b'], JSON.stringify(eol));
    assert.equal(event.type, 'delta');
  }
});

test('treats comment lines as nothing, and flags a block of comments only', () => {
  const keepAlive = block(': ping\n\n');
  assert.equal(keepAlive.commentOnly, true);
  assert.deepEqual(keepAlive.data, []);

  const mixed = block(': note\ndata: x\n: more\n\n');
  assert.equal(mixed.commentOnly, false);
  assert.deepEqual(dataValues(mixed), ['x']);
  assert.equal(block('\n').commentOnly, true);
});

test('defaults the type to message when the event field is empty, last one wins', () => {
  assert.equal(block('event:\ndata: x\n\n').type, 'message');
  assert.equal(
    block('event: a\nevent: response.output_text.delta\ndata: x\n\n').type,
    'response.output_text.delta',
  );
  assert.equal(block('event: é\n\n').type, 'é');
});

test('reads id, ignoring one that holds U+0000', () => {
  assert.equal(block('id: 42\ndata: x\n\n').id, '42');
  assert.equal(block('id\n\n').id, '');
  assert.equal(block('id: a\u0000b\n\n').id, undefined);
  assert.equal(block('id: 1\nid: 2\n\n').id, '2');
});

test('reads retry only when it is ASCII digits', () => {
  assert.equal(block('retry: 3000\n\n').retry, 3000);
  assert.equal(block('retry: 3000ms\n\n').retry, undefined);
  assert.equal(block('retry: -1\n\n').retry, undefined);
  assert.equal(block('retry:\n\n').retry, undefined);
});

test('ignores unknown fields and field names that differ in case', () => {
  const event = block('Data: x\nfoo: bar\ndata : y\n\n');

  assert.deepEqual(event.data, []);
  assert.equal(event.commentOnly, false);
});

test('keeps [DONE] as data, not a field', () => {
  assert.equal(sseDataText(block('data: [DONE]\n\n')), '[DONE]');
});

test('skips a BOM only at the start of the stream', () => {
  const bom = '\ufeff';
  assert.deepEqual(dataValues(block(`${bom}data: x\n\n`, true)), ['x']);
  assert.deepEqual(block(`${bom}data: x\n\n`, false).data, []);
  assert.deepEqual(block(`${bom}${bom}data: x\n\n`, true).data, []);
});

test('stops at the first blank line', () => {
  assert.deepEqual(dataValues(block('data: a\n\ndata: b\n\n')), ['a']);
});

test('gives data ranges in bytes for non-ASCII values', () => {
  const event = block('data: €😀\n\n');

  assert.deepEqual(event.data, [{ start: 6, end: 13 }]);
  assert.equal(sseDataText(event), '€😀');
});
