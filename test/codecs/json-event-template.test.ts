// The event template: an event that repeats the remembered one but for one string's content.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { JsonEventTemplate } from '../../src/codecs/json-event-template';

const BEFORE = 'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"';
const AFTER = '"},"finish_reason":null}]}\n\n';

function event(content: string): Buffer {
  return Buffer.from(BEFORE + content + AFTER);
}

function remembered(content = 'Hello'): JsonEventTemplate {
  const template = new JsonEventTemplate();
  const frame = event(content);
  template.remember(frame, BEFORE.length, BEFORE.length + Buffer.byteLength(content));
  return template;
}

test('finds the varying string in an event that repeats the remembered one', () => {
  const template = remembered();

  for (const content of ['', ' world', '4111 1111', 'caf\u00e9 \u20ac \u{1f600}']) {
    const frame = event(content);
    const span = template.match(frame);
    assert.deepEqual(span, {
      start: BEFORE.length,
      end: BEFORE.length + Buffer.byteLength(content),
    });
  }
});

test('keeps a copy of the bytes around the string, not a view of the remembered frame', () => {
  const template = new JsonEventTemplate();
  const frame = event('Hello');
  template.remember(frame, BEFORE.length, BEFORE.length + 5);

  frame.fill(0x2a);

  assert.ok(template.match(event('again')) !== undefined);
});

test('refuses a string with an escape, a control byte or bytes that are not UTF-8', () => {
  const template = remembered();

  assert.equal(template.match(event('a \\" quote')), undefined);
  assert.equal(template.match(event('\\u0034111')), undefined);
  assert.equal(template.match(event('tab\there')), undefined);
  const broken = Buffer.concat([
    Buffer.from(BEFORE),
    Buffer.from([0xc3, 0x28]),
    Buffer.from(AFTER),
  ]);
  assert.equal(template.match(broken), undefined);
});

test('refuses an event whose bytes before or after the string differ', () => {
  const template = remembered();

  assert.equal(template.match(Buffer.from(BEFORE.replace('c1', 'c2') + 'x' + AFTER)), undefined);
  assert.equal(
    template.match(Buffer.from(BEFORE + 'x' + AFTER.replace('null', '"stop"'))),
    undefined,
  );
  assert.equal(template.match(Buffer.from(BEFORE + 'x"' + AFTER)), undefined);
  assert.equal(template.match(Buffer.from(BEFORE + 'x' + AFTER + 'data: [DONE]\n\n')), undefined);
  assert.equal(template.match(Buffer.from(BEFORE.slice(0, -3))), undefined);
});

test('refuses a tail of the same length that differs in one byte, short or long', () => {
  // A tail longer than 64 bytes is compared natively, a shorter one byte by byte.
  const longAfter =
    '"},"logprobs":null,"finish_reason":null,"stop_reason":null}],"usage":null}\n\n';
  for (const after of [AFTER, longAfter]) {
    const template = new JsonEventTemplate();
    template.remember(Buffer.from(BEFORE + 'Hello' + after), BEFORE.length, BEFORE.length + 5);
    assert.ok(template.match(Buffer.from(BEFORE + 'x' + after)) !== undefined);
    for (const at of [1, after.length >> 1, after.length - 1]) {
      const changed = after.slice(0, at) + '~' + after.slice(at + 1);
      assert.equal(template.match(Buffer.from(BEFORE + 'x' + changed)), undefined);
    }
  }
});

test('matches nothing before remember and after forget', () => {
  const template = new JsonEventTemplate();
  assert.equal(template.match(event('Hello')), undefined);

  const known = remembered();
  known.forget();

  assert.equal(known.match(event('Hello')), undefined);
});
