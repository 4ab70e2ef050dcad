// gRPC metadata across the proxy: relayed and dropped headers, deadlines, status messages.

import assert from 'node:assert/strict';
import http2, { type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import type { UpstreamConfig } from '../../../src/config/gateway-config';
import {
  decodeGrpcMessage,
  encodeGrpcMessage,
  formatGrpcTimeout,
  parseGrpcTimeout,
  relayedResponseHeaders,
  statusTrailers,
  upstreamRequestHeaders,
} from '../../../src/listeners/grpc/grpc-metadata';
import { proxyErrorOf } from '../../fixtures/proxy-errors';

const INFER_PATH = '/inference.GRPCInferenceService/ModelInfer';

/** An upstream as the config loader produces it. */
function upstream(overrides: Partial<UpstreamConfig> = {}): UpstreamConfig {
  return {
    name: 'models',
    scheme: 'grpc',
    protocol: 'grpc',
    secure: false,
    host: '10.0.0.7',
    port: 8001,
    authority: '10.0.0.7:8001',
    tls: undefined,
    credentialHeaders: {},
    connections: 1,
    connectTimeoutMs: 5000,
    headersTimeoutMs: 300_000,
    bodyTimeoutMs: 300_000,
    ...overrides,
  };
}

/** Request headers as a client sends them through the gateway's listener. */
function clientHeaders(extra: IncomingHttpHeaders = {}): IncomingHttpHeaders {
  return {
    ':method': 'POST',
    ':scheme': 'https',
    ':authority': 'gateway.example:9001',
    ':path': '/something/else',
    'content-type': 'application/grpc',
    te: 'trailers',
    ...extra,
  };
}

test('relays custom metadata and drops hop-by-hop, credential, review and pseudo headers', () => {
  const downstream = clientHeaders({
    host: 'gateway.example',
    connection: 'keep-alive',
    'keep-alive': 'timeout=5',
    'proxy-connection': 'keep-alive',
    'transfer-encoding': 'chunked',
    upgrade: 'h2c',
    authorization: 'Bearer client-secret',
    'proxy-authorization': 'Basic Y2xpZW50',
    cookie: 'session=abc',
    'x-api-key': 'client-key',
    'x-infergate-review-id': 'review-1',
    'grpc-timeout': '5S',
    'user-agent': 'grpc-python/1.60',
    'x-request-id': 'req-1',
    'trace-context-bin': 'AAECAw==',
    'x-tags': ['a', 'b'],
  });

  const headers = upstreamRequestHeaders(downstream, INFER_PATH, upstream(), undefined);

  assert.deepEqual(headers, {
    ':method': 'POST',
    ':scheme': 'http',
    ':authority': '10.0.0.7:8001',
    ':path': INFER_PATH,
    te: 'trailers',
    'content-type': 'application/grpc',
    'user-agent': 'grpc-python/1.60',
    'x-request-id': 'req-1',
    'trace-context-bin': 'AAECAw==',
    'x-tags': ['a', 'b'],
  });
});

test('does not relay http2-settings, which node:http2 refuses to send upstream', () => {
  const downstream = clientHeaders({ 'http2-settings': 'AAMAAABkAAQAoAAAAAIAAAAA' });

  const headers = upstreamRequestHeaders(downstream, INFER_PATH, upstream(), undefined);

  assert.equal(headers['http2-settings'], undefined);
});

test('builds request headers that a real HTTP/2 client sends and server receives', async (t) => {
  const server = http2.createServer();
  const received = new Promise<IncomingHttpHeaders>((resolve) =>
    server.on('stream', (stream, headers) => {
      resolve(headers);
      stream.respond({ ':status': 200 });
      stream.end();
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const session = http2.connect(`http://127.0.0.1:${port}`);
  t.after(() => {
    session.destroy();
    server.close();
  });
  const target = upstream({ authority: `127.0.0.1:${port}` });
  const downstream = clientHeaders({ 'x-request-id': 'req-7', 'http2-settings': 'AAMAAABk' });

  const stream = session.request(upstreamRequestHeaders(downstream, INFER_PATH, target, 2000));
  stream.resume();
  stream.end();
  const headers = await received;

  assert.equal(headers[':path'], INFER_PATH);
  assert.equal(headers[':authority'], `127.0.0.1:${port}`);
  assert.equal(headers['x-request-id'], 'req-7');
  assert.equal(headers['grpc-timeout'], '2000000u');
  assert.equal(headers.te, 'trailers');
  assert.equal(headers['http2-settings'], undefined);
});

test("adds the upstream's credential headers over the client's", () => {
  const credentialed = upstream({
    credentialHeaders: { authorization: 'Bearer upstream-token', 'x-team': 'gateway' },
  });
  const downstream = clientHeaders({ authorization: 'Bearer client', 'x-team': 'client' });

  const headers = upstreamRequestHeaders(downstream, INFER_PATH, credentialed, undefined);

  assert.equal(headers.authorization, 'Bearer upstream-token');
  assert.equal(headers['x-team'], 'gateway');
});

test('sets https as the scheme for a grpcs upstream and its own authority', () => {
  const secure = upstream({ scheme: 'grpcs', secure: true, authority: '[::1]:8443' });

  const headers = upstreamRequestHeaders(clientHeaders(), INFER_PATH, secure, undefined);

  assert.equal(headers[':scheme'], 'https');
  assert.equal(headers[':authority'], '[::1]:8443');
  assert.equal(headers[':path'], INFER_PATH);
  assert.equal(headers[':method'], 'POST');
});

test('sends the remaining time as a fresh grpc-timeout instead of the client one', () => {
  const downstream = clientHeaders({ 'grpc-timeout': '30S' });

  const headers = upstreamRequestHeaders(downstream, INFER_PATH, upstream(), 1500);

  assert.equal(headers['grpc-timeout'], '1500000u');
});

test('relays response headers without pseudo and hop-by-hop headers', () => {
  const fromUpstream: IncomingHttpHeaders = {
    ':status': '200',
    'content-type': 'application/grpc',
    connection: 'close',
    'keep-alive': 'timeout=5',
    'grpc-status': '0',
    'x-model-version': '3',
  };

  const relayed = relayedResponseHeaders(fromUpstream);

  assert.deepEqual(relayed, {
    'content-type': 'application/grpc',
    'grpc-status': '0',
    'x-model-version': '3',
  });
});

test('parses grpc-timeout in every unit to milliseconds', () => {
  assert.equal(parseGrpcTimeout('2H'), 7_200_000);
  assert.equal(parseGrpcTimeout('3M'), 180_000);
  assert.equal(parseGrpcTimeout('4S'), 4_000);
  assert.equal(parseGrpcTimeout('250m'), 250);
  assert.equal(parseGrpcTimeout('5u'), 0.005);
  assert.equal(parseGrpcTimeout('6n'), 0.000006);
  assert.equal(parseGrpcTimeout('99999999S'), 99_999_999_000);
  assert.equal(parseGrpcTimeout('0m'), 0);
});

test('reads the first grpc-timeout when several are given and undefined when none', () => {
  assert.equal(parseGrpcTimeout(['250m', '1S']), 250);
  assert.equal(parseGrpcTimeout(undefined), undefined);
});

test('rejects a grpc-timeout of 9 digits, a bad unit or no digits', () => {
  for (const value of ['123456789S', '10s', '10x', '10', 'S', '', '-1S', '1.5S', ' 1S', '1S ']) {
    const error = proxyErrorOf(() => parseGrpcTimeout(value));

    assert.equal(error.code, 'ERR_MALFORMED_HEADER', value);
    assert.equal(error.grpcStatus, 3, value);
    assert.equal(error.message, `grpc-timeout "${value}" is malformed`);
  }
});

test('cuts a long malformed grpc-timeout short in the error message', () => {
  const error = proxyErrorOf(() => parseGrpcTimeout('9'.repeat(40)));

  assert.equal(error.message, `grpc-timeout "${'9'.repeat(16)}" is malformed`);
});

test('formats grpc-timeout in the finest unit that fits in 8 digits', () => {
  assert.equal(formatGrpcTimeout(0), '0u');
  assert.equal(formatGrpcTimeout(1.5), '1500u');
  assert.equal(formatGrpcTimeout(0.0004), '1u');
  assert.equal(formatGrpcTimeout(99_999.999), '99999999u');
  assert.equal(formatGrpcTimeout(100_000), '100000m');
  assert.equal(formatGrpcTimeout(99_999_999), '99999999m');
  assert.equal(formatGrpcTimeout(100_000_000), '100000S');
  assert.equal(formatGrpcTimeout(-20), '0u');
  assert.equal(formatGrpcTimeout(Number.POSITIVE_INFINITY), '99999999H');
});

test('round-trips any timeout to no less than it and at most one unit more', () => {
  const units: Record<string, number> = { u: 0.001, m: 1, S: 1000, M: 60_000, H: 3_600_000 };

  fc.assert(
    fc.property(fc.double({ min: 0, max: 1e13, noNaN: true }), (ms) => {
      const text = formatGrpcTimeout(ms);
      const parsed = parseGrpcTimeout(text)!;
      const unit = units[text.slice(-1)]!;

      assert.match(text, /^\d{1,8}[umSMH]$/);
      assert.ok(parsed >= ms - ms * 1e-12, `${ms} -> ${text}`);
      assert.ok(parsed - ms <= unit + ms * 1e-12, `${ms} -> ${text}`);
    }),
    { seed: 42, numRuns: 2000 },
  );
});

test('percent-encodes %, non-ASCII and control characters in grpc-message', () => {
  assert.equal(encodeGrpcMessage('plain text ~!'), 'plain text ~!');
  assert.equal(encodeGrpcMessage('100%'), '100%25');
  assert.equal(encodeGrpcMessage('café'), 'caf%C3%A9');
  assert.equal(encodeGrpcMessage('模型'), '%E6%A8%A1%E5%9E%8B');
  assert.equal(encodeGrpcMessage('line\nnext\ttab\r\x00\x7f'), 'line%0Anext%09tab%0D%00%7F');
});

test('decodes what it encodes back to the same text', () => {
  for (const text of ['100% done', 'café 模型 😀', 'a\nb', 'plain']) {
    assert.equal(decodeGrpcMessage(encodeGrpcMessage(text)), text);
  }
});

test('keeps the text of a grpc-message with bad escapes instead of failing', () => {
  assert.equal(decodeGrpcMessage('bad %ZZ escape'), 'bad %ZZ escape');
  assert.equal(decodeGrpcMessage('truncated %E6%A8'), 'truncated %E6%A8');
  assert.equal(decodeGrpcMessage('trailing %'), 'trailing %');
  assert.equal(decodeGrpcMessage('caf%C3%A9'), 'café');
});

test('builds status trailers with an encoded message', () => {
  assert.deepEqual(statusTrailers(5, 'no route for "模型"'), {
    'grpc-status': '5',
    'grpc-message': 'no route for "%E6%A8%A1%E5%9E%8B"',
  });
});
