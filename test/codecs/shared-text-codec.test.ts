// Unit tests of the shared text codec: one codec per exchange, each message decoded once, and
// a later reader sees the texts as an earlier filter rewrote them in place.

import assert from 'node:assert/strict';
import type { OutgoingHttpHeaders } from 'node:http2';
import { test } from 'node:test';

import type { HttpMessage } from '../../src/codecs/http-message';
import { httpTextCodec } from '../../src/codecs/http-text-codec';
import { sharedTextCodec } from '../../src/codecs/shared-text-codec';
import type { TextCodec } from '../../src/codecs/text-codec';
import { ProxyError } from '../../src/errors/proxy-error';
import { Exchange } from '../../src/pipeline/exchange';
import type { ExchangeMessage } from '../../src/pipeline/filter';
import { captureLogs } from '../fixtures/log-sink';

function makeExchange(id: string, operation = 'chat.completions'): Exchange {
  return new Exchange({
    id,
    listener: 'http',
    protocol: 'http',
    operation,
    requestHeaders: {},
    session: { id: 's-1', remoteAddress: '127.0.0.1', tls: undefined },
    logger: captureLogs().logger,
  });
}

/**
 * A codec that counts its decodes: a frame is one text, a frame starting with `?` carries
 * none, and one starting with `!` cannot be read.
 */
function countingCodec() {
  const calls = { request: 0, response: 0, created: 0, headers: [] as OutgoingHttpHeaders[] };
  const read = (message: ExchangeMessage) => {
    const text = message.frame.toString();
    if (text.startsWith('!')) throw new ProxyError('ERR_MALFORMED_MESSAGE', 'unreadable frame');
    if (text.startsWith('?')) return undefined;
    return { pieces: [{ bytes: message.frame, stream: 'out/' }], endedStreams: [], endsAll: false };
  };
  const factory = (): TextCodec<ExchangeMessage> => {
    calls.created += 1;
    return {
      requestTexts: (message) => ((calls.request += 1), read(message)),
      responseHeaders: (headers) => void calls.headers.push(headers),
      responseTexts: (message) => ((calls.response += 1), read(message)),
    };
  };
  return { calls, factory };
}

test('readers of one exchange share one codec, and another exchange gets its own', () => {
  const { calls, factory } = countingCodec();
  const shared = sharedTextCodec(factory);
  const first = makeExchange('ex-1');

  assert.equal(shared(first), shared(first));
  assert.notEqual(shared(first), shared(makeExchange('ex-2')));
  assert.equal(calls.created, 2);
});

test('a message is decoded by its first reader only, each direction on its own', () => {
  const { calls, factory } = countingCodec();
  const shared = sharedTextCodec(factory);
  const exchange = makeExchange('ex-1');
  const request = { frame: Buffer.from('prompt') };
  const response = { frame: Buffer.from('answer') };

  const masking = shared(exchange).responseTexts(response);
  const audit = shared(exchange).responseTexts(response);
  shared(exchange).requestTexts(request);
  shared(exchange).requestTexts(request);

  assert.equal(audit, masking);
  assert.deepEqual(
    { request: calls.request, response: calls.response },
    { request: 1, response: 1 },
  );
});

test('a message without text is remembered as such', () => {
  const { calls, factory } = countingCodec();
  const codec = sharedTextCodec(factory)(makeExchange('ex-1'));
  const textless = { frame: Buffer.from('?') };

  assert.equal(codec.responseTexts(textless), undefined);
  assert.equal(codec.responseTexts(textless), undefined);
  assert.equal(calls.response, 1);
});

test('a message the codec cannot read is read again by the next reader, which gets the error', () => {
  const { calls, factory } = countingCodec();
  const codec = sharedTextCodec(factory)(makeExchange('ex-1'));
  const broken = { frame: Buffer.from('!') };

  assert.throws(() => codec.responseTexts(broken), { code: 'ERR_MALFORMED_MESSAGE' });
  assert.throws(() => codec.responseTexts(broken), { code: 'ERR_MALFORMED_MESSAGE' });
  assert.equal(calls.response, 2);
});

test('a new message object for the same bytes is read afresh', () => {
  const { calls, factory } = countingCodec();
  const codec = sharedTextCodec(factory)(makeExchange('ex-1'));
  const frame = Buffer.from('answer');

  codec.responseTexts({ frame });
  codec.responseTexts({ frame });
  assert.equal(calls.response, 2);
});

test('a copy of a read message with a new frame, as masking re-encodes one, is read afresh', () => {
  const { calls, factory } = countingCodec();
  const codec = sharedTextCodec(factory)(makeExchange('ex-1'));
  const read = { frame: Buffer.from('answer \\u0031') };
  codec.responseTexts(read);

  const reencoded = { ...read, frame: Buffer.from('answer 1') };
  const texts = codec.responseTexts(reencoded);

  assert.equal(calls.response, 2);
  assert.equal(texts?.pieces[0]?.bytes, reencoded.frame);
  assert.equal(codec.responseTexts(reencoded), texts);
  assert.equal(calls.response, 2);
});

test('response headers reach the codec', () => {
  const { calls, factory } = countingCodec();
  sharedTextCodec(factory)(makeExchange('ex-1')).responseHeaders?.({ 'grpc-encoding': 'gzip' });

  assert.deepEqual(calls.headers, [{ 'grpc-encoding': 'gzip' }]);
});

test('a later reader of an OpenAI body sees the text as a filter rewrote it in place', () => {
  const shared = sharedTextCodec(httpTextCodec);
  const exchange = makeExchange('ex-1');
  const body = '{"choices":[{"index":0,"message":{"role":"assistant","content":"pin 1234"}}]}';
  const message: HttpMessage = { kind: 'whole-body', frame: Buffer.from(body), headers: {} };

  const first = shared(exchange).responseTexts(message);
  const piece = first?.pieces[0];
  assert.ok(piece !== undefined);
  piece.bytes.write('****', piece.bytes.length - 4);
  const later = shared(exchange).responseTexts(message);

  assert.equal(later?.pieces[0]?.bytes.toString(), 'pin ****');
  assert.match(message.frame.toString(), /"content":"pin \*\*\*\*"/);
});
