// The request parser as the listener drives it: bodies, limits, keep-alive and pipelining.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findHeader, Http1RequestParser } from '../../src/codecs/http1-request-parser';
import { ProxyError } from '../../src/errors/proxy-error';
import { assertProxyError, proxyErrorOf } from '../fixtures/proxy-errors';
import { parseChunks, parseText, request, splitEvery, TEST_LIMITS } from './http1-request-fixtures';

const CHAT_POST = request(
  [
    'POST /v1/chat/completions?stream=1 HTTP/1.1',
    'Host: gw.example',
    'Content-Type: application/json',
    'Content-Length: 11',
  ],
  '{"model":1}',
);

test('reads the head of a request with a content-length body', () => {
  const { head, body, ends, consumed } = parseText(CHAT_POST);

  assert.deepEqual(head, {
    method: 'POST',
    target: '/v1/chat/completions?stream=1',
    path: '/v1/chat/completions',
    version: '1.1',
    headers: [
      ['host', 'gw.example'],
      ['content-type', 'application/json'],
      ['content-length', '11'],
    ],
    contentLength: 11,
    chunked: false,
    keepAlive: true,
    expectContinue: false,
    headBytes: CHAT_POST.length - 11,
  });
  assert.equal(body.toString(), '{"model":1}');
  assert.equal(ends, 1);
  assert.equal(consumed, CHAT_POST.length);
});

test('hands on body bytes as views of the pushed chunk', () => {
  const chunk = Buffer.from(CHAT_POST);
  const { bodyChunks } = parseChunks([chunk]);

  assert.equal(bodyChunks.length, 1);
  assert.equal(bodyChunks[0]!.buffer, chunk.buffer);
  assert.equal(bodyChunks[0]!.byteOffset, chunk.byteOffset + chunk.length - 11);
});

test('ends a request without a body right after its head', () => {
  const parser = new Http1RequestParser(TEST_LIMITS);
  const { head, body, ends } = parseText(request(['GET /v1/models HTTP/1.1', 'Host: a']), parser);

  assert.equal(head?.contentLength, undefined);
  assert.equal(body.length, 0);
  assert.equal(ends, 1);
  assert.equal(parser.state, 'done');
});

test('gives the same result when fed one byte at a time', () => {
  const whole = parseText(CHAT_POST);
  const split = parseChunks(splitEvery(Buffer.from(CHAT_POST), 1));

  assert.deepEqual(split.head, whole.head);
  assert.deepEqual(split.body, whole.body);
  assert.equal(split.ends, 1);
  assert.equal(split.consumed, CHAT_POST.length);
});

test('moves through head, body and done as bytes arrive', () => {
  const parser = new Http1RequestParser(TEST_LIMITS);
  const bytes = Buffer.from(CHAT_POST);
  const sink = { onHead() {}, onBody() {}, onEnd() {} };

  assert.equal(parser.state, 'head');
  parser.push(bytes.subarray(0, bytes.length - 5), sink);
  assert.equal(parser.state, 'body');
  parser.push(bytes.subarray(bytes.length - 5), sink);
  assert.equal(parser.state, 'done');
  assert.equal(parser.push(Buffer.from('GET'), sink), 0);
});

test('leaves the bytes of a pipelined second request unconsumed', () => {
  const second = request(['GET /v1/models HTTP/1.1', 'Host: a']);
  const chunk = Buffer.from(CHAT_POST + second);
  const { consumed, ends } = parseChunks([chunk]);

  assert.equal(consumed, CHAT_POST.length);
  assert.equal(ends, 1);
});

test('reads a second request on a kept-alive connection after reset', () => {
  const parser = new Http1RequestParser(TEST_LIMITS);
  const second = request(['GET /v1/models HTTP/1.1', 'Host: a', 'Connection: close']);
  const chunk = Buffer.from(CHAT_POST + second);
  const first = parseChunks([chunk], parser);
  assert.equal(first.head?.keepAlive, true);

  parser.reset();
  const next = parseChunks([chunk.subarray(first.consumed)], parser);

  assert.equal(next.head?.path, '/v1/models');
  assert.equal(next.head?.keepAlive, false);
  assert.equal(next.ends, 1);
  assert.equal(next.consumed, second.length);
});

test('finds the first value of a header by its lower-case name', () => {
  const { head } = parseText(request(['GET / HTTP/1.1', 'Host: a', 'X-A: 1', 'x-a: 2']));

  assert.equal(findHeader(head!, 'x-a'), '1');
  assert.equal(findHeader(head!, 'x-b'), undefined);
});

test('refuses a head longer than maxHeaderBytes as soon as the limit is crossed', () => {
  const parser = new Http1RequestParser(TEST_LIMITS);
  const sink = { onHead() {}, onBody() {}, onEnd() {} };
  parser.push(Buffer.from('GET /'), sink);

  assertProxyError(
    () => parser.push(Buffer.alloc(TEST_LIMITS.maxHeaderBytes, 'a'), sink),
    'ERR_HEADERS_TOO_LARGE',
    /request head is longer than the limit of 1024 bytes/,
  );
});

test('accepts a head of exactly maxHeaderBytes and refuses one byte more', () => {
  const base = request(['GET / HTTP/1.1', 'Host: a', 'X-Pad: ']);
  const fits = request(['GET / HTTP/1.1', 'Host: a', `X-Pad: ${'p'.repeat(1024 - base.length)}`]);
  const over = request(['GET / HTTP/1.1', 'Host: a', `X-Pad: ${'p'.repeat(1025 - base.length)}`]);

  assert.equal(parseText(fits).head?.headBytes, 1024);
  assertProxyError(() => parseText(over), 'ERR_HEADERS_TOO_LARGE', /request head/);
});

test('counts empty lines before the request line against the head limit', () => {
  const text = '\r\n'.repeat(600) + request(['GET / HTTP/1.1', 'Host: a']);

  assertProxyError(() => parseText(text), 'ERR_HEADERS_TOO_LARGE', /request head/);
});

test('refuses more than maxHeaderCount header fields', () => {
  const fields = Array.from({ length: 16 }, (_, i) => `X-${i}: v`);

  assert.equal(parseText(request(['GET / HTTP/1.1', 'Host: a', ...fields.slice(1)])).ends, 1);
  assertProxyError(
    () => parseText(request(['GET / HTTP/1.1', 'Host: a', ...fields])),
    'ERR_HEADERS_TOO_LARGE',
    /more than 16 header fields/,
  );
});

test('refuses a content-length above maxBodyBytes before reading any body byte', () => {
  const text = request(['POST / HTTP/1.1', 'Host: a', 'Content-Length: 4097']);
  let bodyCalls = 0;
  const parser = new Http1RequestParser(TEST_LIMITS);
  const sink = { onHead() {}, onBody: () => bodyCalls++, onEnd() {} };

  assertProxyError(
    () => parser.push(Buffer.from(text + 'x'), sink),
    'ERR_BODY_TOO_LARGE',
    /content-length 4097 exceeds the limit of 4096 bytes/,
  );
  assert.equal(bodyCalls, 0);
});

test('throws the same error on every push after a failure, even after reset', () => {
  const parser = new Http1RequestParser(TEST_LIMITS);
  const sink = { onHead() {}, onBody() {}, onEnd() {} };
  const first = proxyErrorOf(() => parser.push(Buffer.from('GET / HTTP/3.0\r\n'), sink));

  parser.reset();
  const again = proxyErrorOf(() => parser.push(Buffer.from(CHAT_POST), sink));

  assert.ok(first instanceof ProxyError);
  assert.equal(again, first);
});
