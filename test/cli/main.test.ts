// The infergate command line: usage, help, errors and exit codes, and one real process run.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { test, type TestContext } from 'node:test';
import { framesOf, readFrames, verifyDir } from '../fixtures/audit-fixture';
import { repoRoot, runCli } from '../fixtures/cli-run';

/** A temp dir for config files, removed after the test. */
function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'infergate-cli-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** GETs a URL without connection reuse; resolves with status and body. */
/** GET over TLS, trusting `certs`' CA; with `client`, presenting its client certificate. */
function getTls(
  url: string,
  certs: string,
  client?: { token: string },
): Promise<{ status: number; body: string }> {
  const file = (name: string) => fs.readFileSync(path.join(certs, name));
  const options: https.RequestOptions = { agent: false, ca: file('ca.pem') };
  if (client !== undefined) {
    options.cert = file('client.pem');
    options.key = file('client-key.pem');
    options.headers = { authorization: `Bearer ${client.token}` };
  }
  return new Promise((resolve, reject) => {
    https
      .get(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') }),
        );
      })
      .on('error', reject);
  });
}

const START_FLAGS = [
  '-c',
  '--config',
  '--upstream',
  '--grpc-port',
  '--http-port',
  '--admin-port',
  '--log-level',
  '--demo-token-delay-ms',
  '--certs',
  '--insecure',
  '--mask',
  '--audit-dir',
  '--no-audit',
  '-h',
  '--help',
];
const DEMO_SERVER_FLAGS = [
  '--host',
  '--port',
  '--http-port',
  '--token-delay-ms',
  '--log-level',
  '-h',
  '--help',
];

test('prints usage and exits 2 when given no arguments', async () => {
  const result = await runCli();

  assert.equal(result.code, 2);
  assert.ok(result.stdout.startsWith('Usage: infergate <command> [options]\n'), result.stdout);
  assert.equal(result.stderr, '');
});

test('lists every command with --help and exits 0', async () => {
  for (const flag of ['--help', '-h', 'help']) {
    const result = await runCli(flag);

    assert.equal(result.code, 0, flag);
    assert.match(result.stdout, /^ {2}start {9}run the gateway$/m);
    assert.match(result.stdout, /^ {2}infer {9}send one prompt/m);
    assert.match(
      result.stdout,
      /^ {2}demo-server {3}run the bundled demo model server \(KServe v2 gRPC and HTTP\) on its own$/m,
    );
    assert.equal(result.stderr, '');
  }
});

test('describes every flag of start with start --help', async () => {
  const result = await runCli('start', '--help');

  assert.equal(result.code, 0);
  assert.ok(result.stdout.startsWith('Usage: infergate start [options]\n'), result.stdout);
  for (const flag of START_FLAGS) {
    assert.match(result.stdout, new RegExp(`(^|[ ,])${flag}\\b`, 'm'), flag);
  }
  assert.equal(result.stderr, '');
});

test('describes every flag of demo-server with demo-server --help', async () => {
  const result = await runCli('demo-server', '-h');

  assert.equal(result.code, 0);
  assert.ok(result.stdout.startsWith('Usage: infergate demo-server [options]\n'), result.stdout);
  for (const flag of DEMO_SERVER_FLAGS) {
    assert.match(result.stdout, new RegExp(`(^|[ ,])${flag}\\b`, 'm'), flag);
  }
});

test("prints package.json's version with --version and -v", async () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'package.json'), 'utf8'));

  const long = await runCli('--version');
  const short = await runCli('-v');

  assert.equal(long.code, 0);
  assert.equal(long.stdout, `${manifest.version}\n`);
  assert.equal(short.stdout, `${manifest.version}\n`);
});

test('rejects an unknown command with usage on stderr and exit 2', async () => {
  const result = await runCli('frobnicate', '--now');

  assert.equal(result.code, 2);
  assert.equal(result.stdout, '');
  assert.ok(
    result.stderr.startsWith('infergate: unknown command "frobnicate"\n\nUsage: infergate'),
    result.stderr,
  );
});

test('rejects an unknown flag of start as ERR_USAGE with exit 2', async () => {
  const result = await runCli('start', '--bogus');

  assert.equal(result.code, 2);
  assert.match(result.stderr, /^infergate start: Unknown option '--bogus'.* \(ERR_USAGE\)\n$/);
});

test('rejects a stray argument of start as ERR_USAGE with exit 2', async () => {
  const result = await runCli('start', 'extra');

  assert.equal(result.code, 2);
  assert.match(result.stderr, /'extra'.* \(ERR_USAGE\)\n$/);
});

test('rejects a port above 65535 with exit 2', async () => {
  const result = await runCli('start', '--grpc-port', '70000');

  assert.equal(result.code, 2);
  assert.equal(
    result.stderr,
    'infergate start: --grpc-port "70000" is not a port from 0 to 65535 (ERR_USAGE)\n',
  );
});

test('rejects a port that is not a number with exit 2', async () => {
  const result = await runCli('demo-server', '--port', '80a');

  assert.equal(result.code, 2);
  assert.equal(
    result.stderr,
    'infergate demo-server: --port "80a" is not a port from 0 to 65535 (ERR_USAGE)\n',
  );
});

test('rejects --config together with --upstream with exit 2', async () => {
  const result = await runCli('start', '--config', 'x.yaml', '--upstream', 'grpc://127.0.0.1:8001');

  assert.equal(result.code, 2);
  assert.equal(
    result.stderr,
    'infergate start: --upstream and --config cannot be combined (ERR_USAGE)\n',
  );
});

test('rejects --mask with --config, and a --mask value that is not a direction', async () => {
  const withConfig = await runCli('start', '--config', 'x.yaml', '--mask', 'none');
  const unknown = await runCli('start', '--upstream', 'http://127.0.0.1:8000', '--mask', 'some');

  assert.equal(withConfig.code, 2);
  assert.equal(
    withConfig.stderr,
    'infergate start: --certs, --insecure, --mask, --audit-dir and --no-audit do not apply to --config (ERR_USAGE)\n',
  );
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^ {2}masking\.mask: /m);
});

test('rejects a bad --upstream address as a configuration problem with exit 2', async () => {
  const result = await runCli('start', '--upstream', 'ftp://127.0.0.1:8001');

  assert.equal(result.code, 2);
  assert.equal(
    result.stderr,
    'infergate start: configuration --upstream has 1 problem(s):\n' +
      '  upstreams[0].address: scheme "ftp:" is not supported; use grpc://, grpcs://, http:// or https://\n',
  );
});

test('lists every problem of a config file on stderr with exit 2', async (t) => {
  const file = path.join(tempDir(t), 'infergate.yaml');
  fs.writeFileSync(
    file,
    `upstreams:
  - name: models
    address: ftp://127.0.0.1:8001
  - name: models
    address: grpc://127.0.0.1:8002
routes:
  - name: llama
    models: ['llama-*']
    upstream: nowhere
`,
  );

  const result = await runCli('start', '--config', file);

  assert.equal(result.code, 2);
  assert.equal(result.stdout, '');
  assert.equal(
    result.stderr,
    `infergate start: configuration ${file} has 3 problem(s):\n` +
      '  upstreams[0].address: scheme "ftp:" is not supported; use grpc://, grpcs://, http:// or https://\n' +
      '  upstreams[1].name: "models" is used twice\n' +
      '  routes[0].upstream: no upstream is named "nowhere"\n',
  );
});

test('refuses two --upstream flags of the same protocol with exit 2', async () => {
  const result = await runCli(
    'start',
    '--upstream',
    'http://127.0.0.1:8000',
    '--upstream',
    'https://127.0.0.1:8443',
  );

  assert.equal(result.code, 2);
  assert.equal(
    result.stderr,
    'infergate start: --upstream takes one gRPC and one HTTP model server; use --config for more (ERR_USAGE)\n',
  );
});

test('reports a missing config file with its path and exit 2', async (t) => {
  const file = path.join(tempDir(t), 'absent.yaml');

  const result = await runCli('start', '--config', file);

  assert.equal(result.code, 2);
  assert.equal(
    result.stderr,
    `infergate start: cannot read ${file} (ENOENT) (ERR_CONFIG_UNREADABLE)\n`,
  );
});

test(
  'runs the embedded default on its development certificates until SIGTERM',
  { timeout: 30_000 },
  async (t) => {
    const certs = fs.mkdtempSync(path.join(os.tmpdir(), 'infergate-certs-'));
    t.after(() => fs.rmSync(certs, { recursive: true, force: true }));
    const environment: NodeJS.ProcessEnv = { ...process.env, INFERGATE_LOG_LEVEL: 'info' };
    delete environment.INFERGATE_CONFIG;
    const child = spawn(
      process.execPath,
      [
        'bin/infergate.js',
        'start',
        '--grpc-port',
        '0',
        '--http-port',
        '0',
        '--admin-port',
        '0',
        '--certs',
        certs,
        '--audit-dir',
        path.join(certs, 'audit'),
      ],
      { cwd: repoRoot(), env: environment, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    t.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const exited = new Promise<number | null>((resolve) =>
      child.once('close', (code) => resolve(code)),
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const lines: Record<string, unknown>[] = [];
    const listening = new Promise<Record<string, unknown>[]>((resolve) => {
      readline.createInterface({ input: child.stdout }).on('line', (text) => {
        lines.push(JSON.parse(text) as Record<string, unknown>);
        const bound = lines.filter((line) => line.msg === 'listening');
        if (bound.length === 3) resolve(bound);
      });
    });

    const bound = await Promise.race([
      listening,
      exited.then((code) => assert.fail(`exited early with ${code}: ${stderr}`)),
    ]);
    assert.deepEqual(
      bound.map((line) => line.listener),
      ['grpc', 'http', 'admin'],
    );
    for (const line of bound) assert.match(String(line.address), /^[\d.]+:\d+$/);
    const admin = String(bound[2]!.address);
    const ready = await getTls(`https://${admin}/readyz`, certs);
    const http = String(bound[1]!.address).replace('0.0.0.0', '127.0.0.1');
    const issued = await runCli(
      'token',
      'issue',
      '--cert',
      path.join(certs, 'client.pem'),
      '--key',
      path.join(certs, 'token-issuer-key.pem'),
      '--sub',
      'demo',
      '--roles',
      'demo',
    );
    const models = await getTls(`https://${http}/v1/models`, certs, {
      token: issued.stdout.trim(),
    });
    const anonymous = await getTls(`https://${http}/v1/models`, certs);
    const grpc = String(bound[0]!.address).replace('0.0.0.0', 'localhost');
    const answer = await runCli('infer', '--certs', certs, '-a', grpc, '-m', 'echo', '-p', 'hi');
    const reloaded = new Promise<void>((resolve) => {
      const check = () => lines.some((line) => line.msg === 'tls material reloaded');
      const timer = setInterval(() => check() && (clearInterval(timer), resolve()), 20);
    });
    child.kill('SIGHUP');
    await reloaded;
    child.kill('SIGTERM');
    const code = await exited;

    assert.equal(ready.status, 200);
    assert.equal((JSON.parse(ready.body) as { status: string }).status, 'ready');
    assert.equal(issued.code, 0, issued.stderr);
    assert.equal(models.status, 200, models.body);
    assert.equal(anonymous.status, 401);
    assert.equal(JSON.parse(anonymous.body).error.code, 'client_cert_missing');
    assert.deepEqual(answer, { code: 0, stdout: 'hi\n', stderr: '' });
    assert.ok(lines.some((line) => line.msg === 'reloading' && line.signal === 'SIGHUP'));
    assert.deepEqual(
      (JSON.parse(models.body) as { data: { id: string }[] }).data.map((model) => model.id),
      ['demo-chat', 'echo', 'echo-stream'],
    );
    assert.equal(code, 0);
    assert.ok(
      lines.some((line) => line.msg === 'stopped'),
      JSON.stringify(lines.map((line) => line.msg)),
    );
    assert.equal(stderr, '');
    const audit = path.join(certs, 'audit');
    const report = await verifyDir(audit, path.join(audit, 'keys'));
    const finished = framesOf(await readFrames(audit), 'exchangeFinished');
    assert.equal(report.ok, true, JSON.stringify(report));
    assert.equal(report.logs[0]!.unsignedTail, 0);
    assert.ok(
      finished.some((f) => f.response?.[0]?.text === 'hi'),
      'the echo answer is recorded',
    );
  },
);
