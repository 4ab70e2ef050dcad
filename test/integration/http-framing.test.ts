// The HTTP listener on raw sockets: framing, SSE event by event, failures on either side.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FilterFactory } from '../../src/pipeline/filter';
import type { HttpMessage } from '../../src/codecs/http-message';
import { makeTestPki } from '../fixtures/certificates';
import { startTestGateway } from '../fixtures/gateway-fixture';
import { connectRawHttp } from '../fixtures/http-client';
import { startRawHttpUpstream, type RawHttpRequest } from '../fixtures/raw-http-upstream';

const CHAT = JSON.stringify({
  model: 'demo-chat',
  stream: true,
  messages: [{ role: 'user', content: 'hi' }],
});

function chatRequest(body = CHAT, extra = ''): string {
  return `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\n${extra}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** A filter that records every response message the chain passes, to see events one by one. */
function eventRecorder(seen: Buffer[]): FilterFactory<HttpMessage> {
  return {
    name: 'event-recorder',
    create: () => ({
      onResponseMessage: (message) => {
        seen.push(Buffer.from(message.frame));
      },
    }),
  };
}

async function gatewayWithRawUpstream(
  t: TestContext,
  seen: Buffer[] = [],
  upstreamExtra: Record<string, unknown> = {},
) {
  const upstream = await startRawHttpUpstream();
  t.after(() => upstream.close());
  const under = await startTestGateway(
    t,
    { upstreams: [{ name: 'vllm', address: `http://${upstream.address}`, ...upstreamExtra }] },
    {},
    { extraHttpFilters: [eventRecorder(seen)] },
  );
  const client = await connectRawHttp(under.gateway.addresses.http);
  t.after(() => client.socket.destroy());
  return { upstream, client, ...under };
}

function sseHead(request: RawHttpRequest): void {
  request.socket.write(
    'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n',
  );
}

function chunk(text: string): string {
  return `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
}

const EVENTS = [
  'data: {"choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n',
  'data: {"choices":[{"index":0,"delta":{"content":"lo"}}]}\n\n',
  'data: [DONE]\n\n',
];

test('an SSE event split across many TCP writes reaches the chain whole and the client unchanged', async (t) => {
  const seen: Buffer[] = [];
  const { upstream, client } = await gatewayWithRawUpstream(t, seen);
  client.send(chatRequest());

  const request = await upstream.nextRequest();
  sseHead(request);
  const stream = EVENTS.join('');
  for (const byte of Buffer.from(stream)) {
    request.socket.write(chunk(String.fromCharCode(byte)));
    await new Promise((resolve) => setImmediate(resolve));
  }
  request.socket.write('0\r\n\r\n');
  const text = await client.waitFor((received) => received.endsWith('0\r\n\r\n'));

  assert.deepEqual(
    seen.map((event) => event.toString()),
    EVENTS,
  );
  assert.equal(decodeChunked(text.slice(text.indexOf('\r\n\r\n') + 4)), stream);
});

test('many SSE events in one write, with CRLF line endings, pass one by one', async (t) => {
  const seen: Buffer[] = [];
  const { upstream, client } = await gatewayWithRawUpstream(t, seen);
  client.send(chatRequest());
  const events = EVENTS.map((event) => event.replaceAll('\n', '\r\n'));

  const request = await upstream.nextRequest();
  sseHead(request);
  request.socket.write(chunk(events.join('')) + '0\r\n\r\n');
  await client.waitFor((received) => received.endsWith('0\r\n\r\n'));

  assert.deepEqual(
    seen.map((event) => event.toString()),
    events,
  );
});

test('an upstream that dies mid-stream ends the client stream with an error event', async (t) => {
  const { upstream, client } = await gatewayWithRawUpstream(t);
  client.send(chatRequest());

  const request = await upstream.nextRequest();
  sseHead(request);
  request.socket.write(chunk(EVENTS[0]!));
  await client.waitFor((received) => received.includes('Hel'));
  request.socket.destroy();
  const text = await client.waitFor((received) => received.endsWith('0\r\n\r\n'));
  const body = decodeChunked(text.slice(text.indexOf('\r\n\r\n') + 4));

  assert.ok(body.startsWith(EVENTS[0]!));
  const error = JSON.parse(body.split('\n\n')[1]!.slice('data: '.length));
  assert.equal(error.error.code, 'upstream_unavailable');
  assert.ok(body.endsWith('data: [DONE]\n\n'));
});

test('a client that disconnects mid-stream aborts the upstream request', async (t) => {
  const { upstream, client } = await gatewayWithRawUpstream(t);
  client.send(chatRequest());

  const request = await upstream.nextRequest();
  const upstreamClosed = new Promise((resolve) => request.socket.once('close', resolve));
  sseHead(request);
  request.socket.write(chunk(EVENTS[0]!));
  await client.waitFor((received) => received.includes('Hel'));
  client.socket.destroy();

  await upstreamClosed;
});

test('relays a non-streamed response with its content-length and keeps the connection', async (t) => {
  const { upstream, client } = await gatewayWithRawUpstream(t);
  const body = '{"id":"x","choices":[{"message":{"content":"hello"}}]}';

  for (const round of [1, 2]) {
    client.send(chatRequest(JSON.stringify({ model: 'demo-chat', messages: [] })));
    const request = await upstream.nextRequest();
    request.socket.write(
      `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nx-upstream: a\r\n\r\n${body}`,
    );
    const text = await client.waitFor((received) => received.split(body).length - 1 === round);

    assert.match(text, new RegExp(`content-length: ${body.length}`));
    assert.match(text, /x-upstream: a/);
  }
});

test('drops client credentials and review ids, adds the upstream key, drops hop-by-hop headers', async (t) => {
  const { upstream, client } = await gatewayWithRawUpstream(t, [], {
    credentials: { bearerToken: 'upstream-key' },
  });
  client.send(
    chatRequest(
      CHAT,
      'authorization: Bearer client-key\r\nconnection: keep-alive, x-hop\r\nx-hop: 1\r\n' +
        'x-tenant: acme\r\nx-infergate-review-id: review-1\r\n',
    ),
  );

  const request = await upstream.nextRequest();

  assert.equal(request.headers.get('authorization'), 'Bearer upstream-key');
  assert.equal(request.headers.get('x-tenant'), 'acme');
  assert.equal(request.headers.has('x-hop'), false);
  assert.equal(request.headers.has('x-infergate-review-id'), false);
  assert.deepEqual(JSON.parse(request.body.toString()), JSON.parse(CHAT));
});

test('refuses pipelined requests cleanly: the first is answered, then the connection closes', async (t) => {
  const { upstream, client } = await gatewayWithRawUpstream(t);
  client.send(chatRequest() + chatRequest());

  const request = await upstream.nextRequest();
  request.socket.write(
    'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}',
  );
  await client.closed;

  assert.match(client.received(), /^HTTP\/1\.1 200 OK\r\n/);
  assert.equal(client.received().split('HTTP/1.1').length - 1, 1);
});

/** A completions request whose body is `body`, bytes as given. */
function completionsBytes(body: Buffer): Buffer {
  const head = `POST /v1/completions HTTP/1.1\r\nhost: g\r\ncontent-length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), body]);
}

const DEEP_JSON = `{"model":"echo","prompt":${'['.repeat(100)}${']'.repeat(100)}}`;
const MANY_HEADERS = Array.from({ length: 150 }, (_, i) => `x-h${i}: v\r\n`).join('');

const REFUSALS: readonly [string, string | Buffer, RegExp][] = [
  [
    'two different Content-Length values',
    'POST /v1/completions HTTP/1.1\r\nhost: g\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}',
    /^HTTP\/1\.1 400 /,
  ],
  [
    'JSON nested deeper than the limit',
    completionsBytes(Buffer.from(DEEP_JSON)),
    /^HTTP\/1\.1 400 [^]*"type":"invalid_request_error"/,
  ],
  [
    'a body that is not UTF-8',
    completionsBytes(Buffer.from([...Buffer.from('{"model":"echo","prompt":"'), 0xff, 0x22, 0x7d])),
    /^HTTP\/1\.1 400 [^]*"type":"invalid_request_error"/,
  ],
  [
    'more header lines than the limit',
    `GET /health HTTP/1.1\r\nhost: g\r\n${MANY_HEADERS}\r\n`,
    /^HTTP\/1\.1 431 /,
  ],
  ['a request line that is not HTTP', 'GARBAGE\r\n\r\n', /^HTTP\/1\.1 400 /],
  [
    'Content-Length together with Transfer-Encoding',
    'POST /v1/completions HTTP/1.1\r\nhost: g\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n',
    /^HTTP\/1\.1 400 /,
  ],
  [
    'an unknown path',
    'GET /v1/secret HTTP/1.1\r\nhost: g\r\n\r\n',
    /^HTTP\/1\.1 404 [^]*"code":"unknown_operation"/,
  ],
  [
    'malformed JSON',
    'POST /v1/completions HTTP/1.1\r\nhost: g\r\ncontent-length: 7\r\n\r\n{"model',
    /^HTTP\/1\.1 400 [^]*"type":"invalid_request_error"/,
  ],
  [
    'a body above the limit',
    'POST /v1/completions HTTP/1.1\r\nhost: g\r\ncontent-length: 99999999\r\n\r\n',
    /^HTTP\/1\.1 413 /,
  ],
  [
    'a compressed request body',
    'POST /v1/completions HTTP/1.1\r\nhost: g\r\ncontent-encoding: gzip\r\ncontent-length: 2\r\n\r\n{}',
    /^HTTP\/1\.1 415 [^]*"code":"unsupported_encoding"/,
  ],
  [
    'oversized headers',
    `GET /health HTTP/1.1\r\nhost: g\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`,
    /^HTTP\/1\.1 431 /,
  ],
];

for (const [what, bytes, expected] of REFUSALS) {
  test(`answers ${what} with a clear error in the OpenAI shape`, async (t) => {
    const { client } = await gatewayWithRawUpstream(t);

    client.send(bytes);
    const text = await client.waitFor((received) => /\r\n\r\n[^]*\}$/.test(received));

    assert.match(text, expected);
    assert.match(text, /"error":\{"message":"[^"]+"/);
  });
}

test('answers 503 naming the upstream when it cannot be reached', async (t) => {
  const gone = await startRawHttpUpstream();
  await gone.close();
  const { gateway } = await startTestGateway(t, {
    upstreams: [{ name: 'gone', address: `http://${gone.address}` }],
  });
  const client = await connectRawHttp(gateway.addresses.http);
  t.after(() => client.socket.destroy());

  client.send(chatRequest());
  const text = await client.waitFor((received) => received.endsWith('}'));

  assert.match(text, /^HTTP\/1\.1 503 /);
  assert.match(text, /upstream \\"gone\\" is unavailable/);
});

test('answers 504 when the upstream does not answer in time', async (t) => {
  const { upstream, client } = await gatewayWithRawUpstream(t, [], { headersTimeoutMs: 200 });
  client.send(chatRequest());

  await upstream.nextRequest();
  const text = await client.waitFor((received) => received.endsWith('}'));

  assert.match(text, /^HTTP\/1\.1 504 /);
  assert.match(text, /"code":"upstream_timeout"/);
});

/** Joins the data of a chunked body (RFC 9112 §7.1). */
function decodeChunked(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const lineEnd = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, lineEnd), 16);
    if (size === 0) return out;
    out += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
}

test('a JSON response reaches the chain as one message, whatever its chunking', async (t) => {
  const seen: Buffer[] = [];
  const { upstream, client } = await gatewayWithRawUpstream(t, seen);
  const body = '{"id":"x","choices":[{"message":{"content":"hello"}}]}';
  client.send(chatRequest(JSON.stringify({ model: 'demo-chat', messages: [] })));

  const request = await upstream.nextRequest();
  request.socket.write(
    'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n',
  );
  request.socket.write(chunk(body.slice(0, 10)) + chunk(body.slice(10)) + '0\r\n\r\n');
  const text = await client.waitFor((received) => received.endsWith(body));

  assert.deepEqual(
    seen.map((message) => message.toString()),
    [body],
  );
  assert.match(text, new RegExp(`content-length: ${body.length}\\r\\n`));
});

test('a client that stops reading stops the upstream writing', async (t) => {
  const { upstream, client } = await gatewayWithRawUpstream(t);
  client.socket.pause();
  client.send(chatRequest());

  const request = await upstream.nextRequest();
  sseHead(request);
  // A well-formed chat event, so the masking filter reads (and passes) every byte of it.
  const content = 'x'.repeat(64 * 1024);
  const event = chunk(`data: {"choices":[{"index":0,"delta":{"content":"${content}"}}]}\n\n`);
  const written = await writeUntilStalled(request.socket, event, 64 * 1024 * 1024);

  assert.ok(written < 16 * 1024 * 1024, `upstream wrote ${written} bytes before it had to wait`);
  const drained = new Promise((resolve) => request.socket.once('drain', resolve));
  client.socket.resume();
  await drained;
});

/** Writes until the socket stays full for a while of event-loop turns; returns bytes written. */
async function writeUntilStalled(socket: Socket, bytes: string, limit: number): Promise<number> {
  let written = 0;
  while (written < limit) {
    written += Buffer.byteLength(bytes);
    if (socket.write(bytes)) continue;
    const drained = await Promise.race([
      new Promise<boolean>((resolve) => socket.once('drain', () => resolve(true))),
      settleTurns(200).then(() => false),
    ]);
    if (!drained) return written;
  }
  return written;
}

/** Lets I/O run for a number of event-loop turns: no clock involved. */
async function settleTurns(turns: number): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

test('forwards to an https upstream, verifying its certificate', async (t) => {
  const pki = makeTestPki();
  const upstream = await startRawHttpUpstream(pki.server);
  t.after(() => upstream.close());
  const dir = mkdtempSync(join(tmpdir(), 'infergate-https-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'ca.pem'), pki.ca);
  const { gateway } = await startTestGateway(t, {
    upstreams: [
      {
        name: 'secure',
        address: `https://127.0.0.1:${upstream.port}`,
        tls: { caFile: join(dir, 'ca.pem'), serverName: 'localhost' },
      },
    ],
  });
  const client = await connectRawHttp(gateway.addresses.http);
  t.after(() => client.socket.destroy());

  client.send('GET /v1/models HTTP/1.1\r\nhost: gw\r\n\r\n');
  const request = await upstream.nextRequest();
  request.socket.write(
    'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}',
  );
  const text = await client.waitFor((received) => received.endsWith('{}'));

  assert.match(request.head, /^GET \/v1\/models HTTP\/1\.1/);
  assert.match(text, /^HTTP\/1\.1 200 OK/);
});

test('a client that closes once it has the whole declared body ended the exchange normally', async (t) => {
  const upstream = await startRawHttpUpstream();
  t.after(() => upstream.close());
  // Holds the response's end in the chain, so the client has every byte before it is seen here.
  let release = () => undefined as void;
  const held = new Promise<void>((resolve) => (release = resolve));
  t.after(() => release());
  const holdEnd: FilterFactory<HttpMessage> = {
    name: 'end-holder',
    create: () => ({ onResponseTrailers: () => held.then(() => undefined) }),
  };
  const { gateway, logs } = await startTestGateway(
    t,
    { upstreams: [{ name: 'vllm', address: `http://${upstream.address}` }] },
    {},
    { extraHttpFilters: [holdEnd] },
  );
  const client = await connectRawHttp(gateway.addresses.http);
  t.after(() => client.socket.destroy());
  const body = '{"id":"x","choices":[{"message":{"content":"hello"}}]}';

  client.send(
    chatRequest(JSON.stringify({ model: 'demo-chat', messages: [] }), 'connection: close\r\n'),
  );
  const request = await upstream.nextRequest();
  request.socket.write(
    `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
  );
  await client.waitFor((received) => received.endsWith(body));
  client.socket.destroy();
  const access = await logs.waitFor((line) => line.msg === 'access');

  assert.equal(access.status, 200);
  assert.equal(access.detail, undefined);
});
