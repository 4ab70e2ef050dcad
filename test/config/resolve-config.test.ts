// Cross-field rules for gRPC and HTTP upstreams: connections, TLS, routes per protocol, ports.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildConfig } from '../../src/config/load-config';
import { configErrorOf, env } from './config-fixtures';

/** One cleartext gRPC upstream and one cleartext HTTP upstream, with the given routes. */
function grpcAndHttp(routes?: unknown[]): Record<string, unknown> {
  const upstreams = [
    { name: 'triton', address: 'grpc://127.0.0.1:8001' },
    { name: 'vllm', address: 'http://127.0.0.1:8000' },
  ];
  return routes === undefined ? { upstreams } : { upstreams, routes };
}

test('gives an http upstream 64 connections and a grpc upstream 1 by default', () => {
  const config = buildConfig(grpcAndHttp(), env());

  assert.deepEqual(
    config.upstreams.map(({ name, protocol, connections }) => ({ name, protocol, connections })),
    [
      { name: 'triton', protocol: 'grpc', connections: 1 },
      { name: 'vllm', protocol: 'http', connections: 64 },
    ],
  );
});

test('keeps connections as written for grpc and http upstreams', () => {
  const document = {
    upstreams: [
      { name: 'triton', address: 'grpc://127.0.0.1:8001', connections: 4 },
      { name: 'vllm', address: 'https://models.internal:8443', connections: 200 },
    ],
  };

  const config = buildConfig(document, env());

  assert.deepEqual(
    config.upstreams.map((upstream) => upstream.connections),
    [4, 200],
  );
});

test('applies the http timeouts to an http upstream and keeps values as written', () => {
  const document = {
    upstreams: [{ name: 'vllm', address: 'http://127.0.0.1:8000', headersTimeoutMs: 2500 }],
  };

  const upstream = buildConfig(document, env()).upstreams[0]!;

  assert.equal(upstream.headersTimeoutMs, 2500);
  assert.equal(upstream.bodyTimeoutMs, 300_000);
  assert.equal(upstream.connectTimeoutMs, 5000);
});

test('resolves an https upstream with TLS settings and an http upstream without TLS', () => {
  const document = {
    upstreams: [
      { name: 'secure', address: 'https://models.internal:8443', tls: { serverName: 'm.example' } },
      { name: 'plain', address: 'http://127.0.0.1:8000' },
    ],
    routes: [{ name: 'all', default: true, upstream: 'secure' }],
  };

  const [secure, plain] = buildConfig(document, env()).upstreams;

  assert.deepEqual(secure!.tls, {
    ca: undefined,
    cert: undefined,
    key: undefined,
    serverName: 'm.example',
    files: { caFile: undefined, certFile: undefined, keyFile: undefined },
  });
  assert.equal(secure!.secure, true);
  assert.equal(plain!.tls, undefined);
  assert.equal(plain!.secure, false);
});

test('rejects tls settings on an http:// upstream', () => {
  const document = {
    upstreams: [
      { name: 'vllm', address: 'http://127.0.0.1:8000', tls: { serverName: 'models.example' } },
    ],
  };

  const error = configErrorOf(() => buildConfig(document, env()));

  assert.deepEqual(error.issues, [
    { path: 'upstreams[0].tls', reason: 'TLS settings need a grpcs:// or https:// address' },
  ]);
});

test('adds an implicit default route per protocol for one grpc and one http upstream', () => {
  const config = buildConfig(grpcAndHttp(), env());

  assert.deepEqual(config.routes, [
    {
      name: 'default',
      models: [],
      default: true,
      upstream: 'triton',
      protocol: 'grpc',
      masking: 'both',
    },
    {
      name: 'default',
      models: [],
      default: true,
      upstream: 'vllm',
      protocol: 'http',
      masking: 'both',
    },
  ]);
});

test('gives a route the protocol of its http upstream and adds the grpc default alone', () => {
  const routes = [{ name: 'chat', models: ['llama-*'], upstream: 'vllm' }];

  const config = buildConfig(grpcAndHttp(routes), env());

  assert.deepEqual(config.routes, [
    {
      name: 'chat',
      models: ['llama-*'],
      default: false,
      upstream: 'vllm',
      protocol: 'http',
      masking: 'both',
    },
    {
      name: 'default',
      models: [],
      default: true,
      upstream: 'triton',
      protocol: 'grpc',
      masking: 'both',
    },
  ]);
});

test('accepts one default route per protocol', () => {
  const routes = [
    { name: 'grpc-all', default: true, upstream: 'triton' },
    { name: 'http-all', default: true, upstream: 'vllm' },
  ];

  const config = buildConfig(grpcAndHttp(routes), env());

  assert.deepEqual(config.routes, [
    {
      name: 'grpc-all',
      models: [],
      default: true,
      upstream: 'triton',
      protocol: 'grpc',
      masking: 'both',
    },
    {
      name: 'http-all',
      models: [],
      default: true,
      upstream: 'vllm',
      protocol: 'http',
      masking: 'both',
    },
  ]);
});

test('rejects two default routes of the http protocol', () => {
  const document = {
    upstreams: [
      { name: 'vllm', address: 'http://127.0.0.1:8000' },
      { name: 'openai', address: 'https://models.internal:8443' },
    ],
    routes: [
      { name: 'first', default: true, upstream: 'vllm' },
      { name: 'second', default: true, upstream: 'openai' },
    ],
  };

  const error = configErrorOf(() => buildConfig(document, env()));

  assert.deepEqual(error.issues, [
    { path: 'routes', reason: '2 http routes are marked default; at most one may be' },
  ]);
});

test('requires routes for several http upstreams even when grpc needs none', () => {
  const document = {
    upstreams: [
      { name: 'triton', address: 'grpc://127.0.0.1:8001' },
      { name: 'vllm', address: 'http://127.0.0.1:8000' },
      { name: 'openai', address: 'https://models.internal:8443' },
    ],
  };

  const error = configErrorOf(() => buildConfig(document, env()));

  assert.deepEqual(error.issues, [
    { path: 'routes', reason: 'several http upstreams need routes' },
  ]);
});

test('reports the route problems of both protocols in protocol order', () => {
  const document = {
    upstreams: [
      { name: 'a', address: 'grpc://127.0.0.1:8001' },
      { name: 'b', address: 'grpc://127.0.0.1:8002' },
      { name: 'c', address: 'http://127.0.0.1:8003' },
      { name: 'd', address: 'http://127.0.0.1:8004' },
    ],
    routes: [
      { name: 'c-all', default: true, upstream: 'c' },
      { name: 'd-all', default: true, upstream: 'd' },
    ],
  };

  const error = configErrorOf(() => buildConfig(document, env()));

  assert.deepEqual(error.issues, [
    { path: 'routes', reason: 'several grpc upstreams need routes' },
    { path: 'routes', reason: '2 http routes are marked default; at most one may be' },
  ]);
});

test('rejects http and admin listeners on the same host and port', () => {
  const document = {
    upstreams: [{ name: 'vllm', address: 'http://127.0.0.1:8000' }],
    listeners: {
      http: { host: '127.0.0.1', port: 9500 },
      admin: { host: '127.0.0.1', port: 9500 },
    },
  };

  const error = configErrorOf(() => buildConfig(document, env()));

  assert.deepEqual(error.issues, [
    { path: 'listeners.admin.port', reason: "port 9500 is already the http listener's" },
  ]);
});

test('rejects grpc and http listeners on the same host and port', () => {
  const document = {
    upstreams: [{ name: 'triton', address: 'grpc://127.0.0.1:8001' }],
    listeners: { grpc: { port: 9000 } },
  };

  const error = configErrorOf(() => buildConfig(document, env()));

  assert.deepEqual(error.issues, [
    { path: 'listeners.http.port', reason: "port 9000 is already the grpc listener's" },
  ]);
});

test('accepts every listener on port 0 and one port on different hosts', () => {
  const zero = { grpc: { port: 0 }, http: { port: 0 }, admin: { port: 0 } };
  const hosts = { http: { host: '127.0.0.1', port: 9500 }, admin: { host: '::1', port: 9500 } };

  const onZero = buildConfig({ ...grpcAndHttp(), listeners: zero }, env());
  const onHosts = buildConfig({ ...grpcAndHttp(), listeners: hosts }, env());

  assert.deepEqual(
    [onZero.listeners.grpc.port, onZero.listeners.http.port, onZero.listeners.admin.port],
    [0, 0, 0],
  );
  assert.equal(onHosts.listeners.http.port, 9500);
  assert.equal(onHosts.listeners.admin.port, 9500);
});

test('an upstream with a bad address adds one issue, not follow-on route issues', () => {
  const error = configErrorOf(() =>
    buildConfig(
      {
        upstreams: [
          { name: 'a', address: 'grpc://127.0.0.1:8001' },
          { name: 'broken', address: 'htp:/h:2' },
          { name: 'b', address: 'http://127.0.0.1:8000' },
        ],
      },
      env(),
    ),
  );

  assert.deepEqual(
    error.issues.map((issue) => issue.path),
    ['upstreams[1].address'],
  );
});
