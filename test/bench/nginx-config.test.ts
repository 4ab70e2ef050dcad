// The reference proxy's nginx.conf as the benchmark writes it, and how it finds nginx on PATH.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { nginxConfig } from '../../bench/nginx-config';
import { findNginx } from '../../bench/nginx-target';

const OPTIONS = {
  dir: '/tmp/infergate-bench-nginx-abc123',
  grpcPort: 41001,
  httpPort: 41002,
  upstreamGrpc: '127.0.0.1:50051',
  upstreamHttp: '127.0.0.1:8000',
};

/** The text of the `server { ... }` block holding `marker`. */
function serverHolding(config: string, marker: string): string {
  const at = config.indexOf(marker);
  assert.notEqual(at, -1, `no ${marker} in the configuration`);
  return config.slice(config.lastIndexOf('server {', at), config.indexOf('\n    }\n', at));
}

/** A temporary directory for a fake PATH, removed when the test ends. */
function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'infergate-bench-test-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('braces balance and every statement ends with a semicolon or opens a block', () => {
  const config = nginxConfig(OPTIONS);
  let depth = 0;
  for (const line of config.split('\n').map((text) => text.trim())) {
    if (line === '' || line.startsWith('#')) continue;
    if (line.endsWith('{')) depth += 1;
    else if (line === '}') depth -= 1;
    else assert.ok(line.endsWith(';'), `statement without a semicolon: ${line}`);
    assert.ok(depth >= 0, 'a block closes that was never opened');
  }
  assert.equal(depth, 0);
});

test('runs one worker and writes every file under the prefix directory', () => {
  const config = nginxConfig(OPTIONS);
  assert.match(config, /^worker_processes 1;$/m);
  const paths = [...config.matchAll(/^\s*(?:pid|error_log|access_log|\w+_temp_path) (\S+)/gm)];
  assert.equal(paths.length, 8);
  for (const [, file] of paths) assert.ok(file!.startsWith(`${OPTIONS.dir}/`), file);
});

test('proxies gRPC over an h2c listener to the demo server with grpc_pass', () => {
  const server = serverHolding(nginxConfig(OPTIONS), 'grpc_pass');
  assert.match(server, /listen 127\.0\.0\.1:41001 http2;/);
  assert.match(server, /grpc_pass grpc:\/\/demo_grpc;/);
  assert.match(nginxConfig(OPTIONS), /upstream demo_grpc \{\s+server 127\.0\.0\.1:50051;/);
});

test('proxies HTTP over keep-alive HTTP/1.1 with buffering off, so SSE passes at once', () => {
  const config = nginxConfig(OPTIONS);
  const server = serverHolding(config, 'proxy_pass');
  assert.match(server, /listen 127\.0\.0\.1:41002;/);
  assert.match(server, /proxy_pass http:\/\/demo_http;/);
  assert.match(server, /proxy_http_version 1\.1;/);
  assert.match(server, /proxy_set_header Connection "";/);
  assert.match(server, /proxy_buffering off;/);
  assert.match(config, /upstream demo_http \{\s+server 127\.0\.0\.1:8000;\s+keepalive 64;/);
});

test('lets 1000 streams share four connections and keeps connections for a whole run', () => {
  const config = nginxConfig(OPTIONS);
  assert.match(config, /http2_max_concurrent_streams 1000;/);
  assert.equal([...config.matchAll(/keepalive_requests 1000000;/g)].length, 3);
});

test('finds an executable nginx in the first PATH directory that has one', (t) => {
  const empty = tempDir(t);
  const withNginx = tempDir(t);
  const file = path.join(withNginx, 'nginx');
  fs.writeFileSync(file, '#!/bin/sh\n', { mode: 0o755 });

  assert.equal(findNginx([empty, withNginx].join(path.delimiter)), file);
});

test('finds no nginx in an empty PATH, as a directory or as a file not executable', (t) => {
  const dir = tempDir(t);
  fs.mkdirSync(path.join(dir, 'nginx'));
  const other = tempDir(t);
  fs.writeFileSync(path.join(other, 'nginx'), '#!/bin/sh\n', { mode: 0o644 });

  assert.equal(findNginx(''), undefined);
  assert.equal(findNginx([dir, other].join(path.delimiter)), undefined);
});
