// Unit tests of the masking filter, its hooks called directly: prompts masked by route, response
// frames held and released through the callbacks, failures that end the exchange closed, the
// roles that see responses unmasked, and what the exchange records.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import type { OutgoingHttpHeaders } from 'node:http2';

import type { MaskDirection } from '../../../src/config/gateway-config';
import { ProxyError } from '../../../src/errors/proxy-error';
import type { TextCodec } from '../../../src/codecs/text-codec';
import {
  maskingFilterFactory,
  type MaskingSettings,
} from '../../../src/filters/masking/masking-filter';
import type { PeerCertificate } from '../../../src/identity/peer-certificate';
import { CardFingerprinter } from '../../../src/masking/card-fingerprint';
import type { FrameTexts } from '../../../src/masking/frame-holdback';
import { DEFAULT_MASK_OPTIONS } from '../../../src/masking/mask-options';
import { Exchange } from '../../../src/pipeline/exchange';
import { HOLD, type ExchangeMessage, type Filter } from '../../../src/pipeline/filter';
import { LocalReply } from '../../../src/pipeline/local-reply';
import { captureLogs, type CapturedLogger } from '../../fixtures/log-sink';

const VISA = '4111111111111111';
const GROUPED_VISA = '4111 1111 1111 1111';
const AMEX = '378282246310005';

/** A message that says which one it is. */
interface TestMessage extends ExchangeMessage {
  readonly id: string;
}

function message(id: string, text: string): TestMessage {
  return { id, frame: Buffer.from(text) };
}

/** What a frame reads as: its whole bytes, one text. */
function wholeFrame(
  message: TestMessage,
  stream: string | undefined,
  endsAll = false,
): FrameTexts<TestMessage> {
  return { pieces: [{ bytes: message.frame, stream }], endedStreams: [], endsAll };
}

/**
 * A codec that knows no protocol: a request is one text complete in itself; a response frame is
 * the next text of one stream, which a frame ending in `[END]` ends; a frame starting with `!`
 * cannot be read, and one starting with `?` carries no text.
 */
function fakeCodec(overrides: Partial<TextCodec<TestMessage>> = {}) {
  const headers: OutgoingHttpHeaders[] = [];
  const codec: TextCodec<TestMessage> = {
    requestTexts: (m) => (unreadable(m) ? undefined : wholeFrame(m, undefined)),
    responseHeaders: (h) => void headers.push(h),
    responseTexts: (m) => {
      if (unreadable(m)) return undefined;
      return wholeFrame(m, 'out/', m.frame.toString().endsWith('[END]'));
    },
    ...overrides,
  };
  return { codec, headers };
}

/** Throws the codec's error for a `!` frame; true for a `?` frame, which carries no text. */
function unreadable(m: TestMessage): boolean {
  if (m.frame[0] === 0x21) throw new ProxyError('ERR_JSON_MALFORMED', 'body is not valid JSON');
  return m.frame[0] === 0x3f;
}

/** Routes named after what they mask, and the role that may read responses unmasked. */
function settingsOf(overrides: Partial<MaskingSettings> = {}): MaskingSettings {
  const directions: MaskDirection[] = ['both', 'prompts', 'responses', 'none'];
  return {
    options: DEFAULT_MASK_OPTIONS,
    patterns: [],
    routes: new Map(directions.map((direction) => [direction, direction])),
    unmaskedRoles: new Set(['auditor']),
    fingerprinter: undefined,
    maxHeldBytes: 1024,
    ...overrides,
  };
}

/** A test-only certificate: the filter reads roles only. */
function peerCertificate(): PeerCertificate {
  return {
    thumbprint: 'x'.repeat(43),
    subject: 'CN=alice',
    commonName: 'alice',
    issuer: 'CN=test-only CA',
    serialNumber: '01',
    uris: [],
    emails: [],
    dnsNames: [],
    validFrom: new Date(0),
    validTo: new Date(0),
  };
}

function makeExchange(logs: CapturedLogger, route: string | undefined, roles?: string[]) {
  const exchange = new Exchange({
    id: 'ex-1',
    listener: 'http',
    protocol: 'http',
    operation: 'chat.completions',
    requestHeaders: {},
    session: { id: 's-1', remoteAddress: '127.0.0.1', tls: undefined },
    logger: logs.logger,
  });
  exchange.route = route;
  if (roles !== undefined) {
    exchange.identity = {
      subject: 'alice',
      certificate: peerCertificate(),
      token: undefined,
      roles,
    };
  }
  return exchange;
}

interface Setup {
  readonly route?: string;
  readonly roles?: string[];
  readonly settings?: MaskingSettings;
  readonly codec?: TextCodec<TestMessage>;
}

/** A masking filter on a fake exchange, with callbacks that record what it passed on. */
function makeFilter(setup: Setup = {}) {
  const logs = captureLogs();
  const exchange = makeExchange(logs, 'route' in setup ? setup.route : 'both', setup.roles);
  const requests: TestMessage[] = [];
  const responses: TestMessage[] = [];
  const replies: LocalReply[] = [];
  const callbacks = {
    continueRequestMessage: (m: TestMessage) => void requests.push(m),
    continueResponseMessage: (m: TestMessage) => void responses.push(m),
    reply: (reply: LocalReply) => void replies.push(reply),
  };
  const codec = setup.codec ?? fakeCodec().codec;
  const factory = maskingFilterFactory(setup.settings ?? settingsOf(), () => codec);
  const filter = factory.create(exchange, callbacks) as Required<Filter<TestMessage>>;
  return { filter, exchange, logs, requests, responses, replies };
}

function texts(messages: readonly TestMessage[]): string[] {
  return messages.map((m) => m.frame.toString());
}

/** The reply a hook answered, asserted to be one. */
function replyOf(result: unknown): LocalReply {
  assert.ok(result instanceof LocalReply, `expected a LocalReply, got ${String(result)}`);
  return result;
}

test('masks a request message in place on routes that mask prompts', () => {
  for (const route of ['both', 'prompts']) {
    const { filter, exchange, requests } = makeFilter({ route });
    const prompt = message('q', `my card is ${VISA}`);
    const buffer = prompt.frame;

    const result = filter.onRequestMessage(prompt);

    assert.equal(result, undefined, route);
    assert.equal(prompt.frame, buffer);
    assert.equal(buffer.toString(), 'my card is ************1111', route);
    assert.deepEqual(requests, []);
    assert.equal(exchange.masking?.prompts, true);
    assert.equal(exchange.masking?.promptCounts.pan, 1);
  }
});

test('leaves request messages untouched on routes that mask responses or nothing', () => {
  for (const route of ['responses', 'none']) {
    const { filter, exchange, requests } = makeFilter({ route });
    const prompt = message('q', `my card is ${VISA}`);

    const result = filter.onRequestMessage(prompt);

    assert.equal(result, undefined, route);
    assert.equal(prompt.frame.toString(), `my card is ${VISA}`, route);
    assert.deepEqual(requests, []);
    assert.equal(exchange.masking?.prompts, false);
    assert.equal(exchange.masking?.promptCounts.pan, 0);
  }
});

test('masks both ways on a route the settings do not list, or before a route is known', () => {
  for (const route of ['unlisted', undefined]) {
    const { filter, exchange } = makeFilter({ route });
    const prompt = message('q', VISA);
    const answer = message('a', `${VISA} ok`);

    filter.onRequestMessage(prompt);
    filter.onResponseMessage(answer);

    assert.equal(prompt.frame.toString(), '************1111', String(route));
    assert.equal(answer.frame.toString(), '************1111 ok', String(route));
    assert.equal(exchange.masking?.responses, true);
  }
});

test('holds a request message the codec rebuilt and continues the rebuilt one', () => {
  const rebuilt = message('q2', 'rebuilt');
  const { codec } = fakeCodec({
    requestTexts: (m) => ({ ...wholeFrame(m, undefined), finish: () => rebuilt }),
  });
  const { filter, requests } = makeFilter({ codec });

  const result = filter.onRequestMessage(message('q', VISA));

  assert.equal(result, HOLD);
  assert.equal(requests.length, 1);
  assert.equal(requests[0], rebuilt);
});

test('answers a request message the codec cannot read with the codec error', () => {
  const { filter, requests } = makeFilter();

  const reply = replyOf(filter.onRequestMessage(message('q', '!{')));

  assert.equal(reply.error.code, 'ERR_JSON_MALFORMED');
  assert.equal(reply.detail, 'json_malformed');
  assert.deepEqual(requests, []);
});

test('passes a clean response frame on at once as the same object', () => {
  const { filter, responses } = makeFilter();
  const answer = message('a', 'hello there');

  const result = filter.onResponseMessage(answer);

  assert.equal(result, undefined);
  assert.equal(answer.frame.toString(), 'hello there');
  assert.deepEqual(responses, []);
});

test('holds response frames while a number may continue and releases them masked', () => {
  const { filter, exchange, responses } = makeFilter();
  const first = message('a1', 'card 4111 1111');
  const second = message('a2', ' 1111 1111 ok');

  const held = filter.onResponseMessage(first);
  const heldResponses = [...responses];
  const released = filter.onResponseMessage(second);

  assert.equal(held, HOLD);
  assert.deepEqual(heldResponses, []);
  assert.equal(released, HOLD);
  assert.equal(responses.length, 2);
  assert.equal(responses[0], first);
  assert.equal(responses[1], second);
  assert.deepEqual(texts(responses), ['card **** ****', ' **** 1111 ok']);
  assert.equal(exchange.masking?.responseCounts.pan, 1);
});

test('holds a frame without text behind a held frame and releases them in order', () => {
  const { filter, responses } = makeFilter();
  const first = message('a1', `x ${VISA.slice(0, 8)}`);
  const bare = message('a2', '? keep-alive');
  const last = message('a3', `${VISA.slice(8)} [END]`);

  const results = [first, bare, last].map((m) => filter.onResponseMessage(m));

  assert.deepEqual(results, [HOLD, HOLD, HOLD]);
  assert.deepEqual(
    responses.map((m) => m.id),
    ['a1', 'a2', 'a3'],
  );
  assert.equal(first.frame.toString() + last.frame.toString(), `x ************1111 [END]`);
});

test('lets a frame without text pass at once when nothing is held', () => {
  const { filter, responses } = makeFilter();

  const result = filter.onResponseMessage(message('a', '? ping'));

  assert.equal(result, undefined);
  assert.deepEqual(responses, []);
});

test('ends the exchange closed, blaming the upstream, when a response cannot be read', () => {
  const { filter, exchange, logs, responses } = makeFilter();
  exchange.upstream = 'triton-a';
  const held = message('a1', 'card 4111 1111');
  filter.onResponseMessage(held);

  const reply = replyOf(filter.onResponseMessage(message('a2', '!{')));
  const later = filter.onResponseMessage(message('a3', ' 1111 1111 clean text'));
  const trailers = filter.onResponseTrailers({});

  // The codec's own error (ERR_JSON_MALFORMED, 400) would blame the caller for the upstream.
  assert.equal(reply.error.code, 'ERR_MASKING_FAILED');
  assert.equal(reply.error.httpStatus, 502);
  assert.equal(reply.detail, 'masking_unreadable_response');
  assert.match(reply.error.message, /"triton-a"/);
  assert.equal((reply.error.cause as ProxyError).code, 'ERR_JSON_MALFORMED');
  assert.equal(later, HOLD);
  assert.equal(trailers, undefined);
  assert.deepEqual(responses, []);
  const line = logs.lines.find((l) => l.msg === 'masking failed');
  assert.equal(line?.code, 'ERR_MASKING_FAILED');
  assert.equal(line?.detail, 'masking_unreadable_response');
  assert.ok(!logs.text().includes('4111'));
});

test('answers internal_error when the codec throws something other than a ProxyError', () => {
  const { codec } = fakeCodec({
    responseTexts: () => {
      throw new TypeError('codec bug');
    },
  });
  const { filter, responses } = makeFilter({ codec });

  const reply = replyOf(filter.onResponseMessage(message('a1', 'text')));
  const later = filter.onResponseMessage(message('a2', 'more text'));

  assert.equal(reply.error.code, 'ERR_FILTER_EXCEPTION');
  assert.equal(reply.detail, 'internal_error');
  assert.equal(later, HOLD);
  assert.deepEqual(responses, []);
});

test('fails with masking_hold_exceeded once held bytes pass maxHeldBytes', () => {
  const settings = settingsOf({ maxHeldBytes: 32 });
  const { filter, responses } = makeFilter({ settings });
  const atLimit = message('a1', `${'x'.repeat(27)} 4111`);
  const over = message('a2', '1');

  const first = filter.onResponseMessage(atLimit);
  const reply = replyOf(filter.onResponseMessage(over));
  const later = filter.onResponseMessage(message('a3', ' 1111 1111 1111 ok'));
  filter.onResponseTrailers({});

  assert.equal(atLimit.frame.length, 32);
  assert.equal(first, HOLD);
  assert.equal(reply.error.code, 'ERR_MASKING_FAILED');
  assert.equal(reply.error.httpStatus, 502);
  assert.equal(reply.detail, 'masking_hold_exceeded');
  assert.match(reply.error.message, /\b32\b/);
  assert.equal(later, HOLD);
  assert.deepEqual(responses, []);
});

test('passes responses unmasked to a caller with an unmasked role, masking its prompts', () => {
  const { filter, exchange, responses } = makeFilter({ roles: ['reader', 'auditor'] });
  const prompt = message('q', `card ${VISA}`);
  const answer = message('a', `card ${VISA.slice(0, 8)}`);

  filter.onRequestMessage(prompt);
  const result = filter.onResponseMessage(answer);

  assert.equal(prompt.frame.toString(), 'card ************1111');
  assert.equal(result, undefined);
  assert.equal(answer.frame.toString(), `card ${VISA.slice(0, 8)}`);
  assert.deepEqual(responses, []);
  assert.equal(exchange.masking?.prompts, true);
  assert.equal(exchange.masking?.responses, false);
});

test('masks responses for a caller whose roles are not unmasked', () => {
  const { filter, exchange } = makeFilter({ roles: ['reader'] });
  const answer = message('a', `card ${VISA} ok`);

  filter.onResponseMessage(answer);

  assert.equal(answer.frame.toString(), 'card ************1111 ok');
  assert.equal(exchange.masking?.responses, true);
});

test('leaves responses unmasked on routes that mask prompts or nothing', () => {
  for (const route of ['prompts', 'none']) {
    const { filter, exchange } = makeFilter({ route });
    const answer = message('a', `card ${VISA} ok`);

    const result = filter.onResponseMessage(answer);

    assert.equal(result, undefined, route);
    assert.equal(answer.frame.toString(), `card ${VISA} ok`, route);
    assert.equal(exchange.masking?.responses, false, route);
  }
});

test('flushes the held frames, masked, at the response trailers', () => {
  const { filter, responses } = makeFilter();
  const held = message('a', `card ${GROUPED_VISA}`);

  const result = filter.onResponseMessage(held);
  const heldResponses = [...responses];
  const trailers = filter.onResponseTrailers({ 'grpc-status': '0' });

  // A 4-4-4-4 number may still grow a fifth group; only the end of the text decides it.
  assert.equal(result, HOLD);
  assert.deepEqual(heldResponses, []);
  assert.equal(trailers, undefined);
  assert.equal(responses.length, 1);
  assert.equal(responses[0], held);
  assert.equal(held.frame.toString(), 'card **** **** **** 1111');
});

test('shows the response headers to the codec', () => {
  const { codec, headers } = fakeCodec();
  const { filter } = makeFilter({ codec });

  const result = filter.onResponseHeaders({ ':status': 200 });

  assert.equal(result, undefined);
  assert.deepEqual(headers, [{ ':status': 200 }]);
});

test('records counts, fingerprints and hold-back on exchange.masking', () => {
  const key = Buffer.alloc(32, 0x42);
  const settings = settingsOf({ fingerprinter: new CardFingerprinter(key) });
  const { filter, exchange } = makeFilter({ settings });
  const empty = exchange.masking!.held;

  filter.onRequestMessage(message('q', `pay with ${VISA}, CVV: 123`));
  const first = message('a1', 'card 4111 1111');
  filter.onResponseMessage(first);
  filter.onResponseMessage(message('a2', ` 1111 1111 or ${AMEX} [END]`));
  filter.onResponseTrailers({});

  const record = exchange.masking!;
  assert.deepEqual(empty, { heldFrames: 0, maxHeldBytes: 0, heldMs: 0, maxHeldMs: 0 });
  assert.deepEqual(record.promptCounts, { pan: 1, cvv: 1, expiry: 0, track1: 0, track2: 0 });
  assert.deepEqual(record.responseCounts, { pan: 2, cvv: 0, expiry: 0, track1: 0, track2: 0 });
  assert.deepEqual(record.promptPatternCounts, {});
  assert.deepEqual(record.responsePatternCounts, {});
  // The prompt and the response name the same Visa number: one fingerprint for both.
  const hmac = (digits: string) => createHmac('sha256', key).update(digits).digest('hex');
  assert.deepEqual([...record.fingerprints].sort(), [hmac(VISA), hmac(AMEX)].sort());
  assert.equal(record.held.heldFrames, 1);
  assert.equal(record.held.maxHeldBytes, first.frame.length);
});
