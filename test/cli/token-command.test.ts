// `infergate token issue`: prints a bound token the verifier accepts; bad flags exit 2.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { decodeJwt } from 'jose';
import { TokenVerifier } from '../../src/identity/token-verifier';
import { makeTestPki } from '../fixtures/certificates';
import { runCli } from '../fixtures/cli-run';
import { authConfig, makeSigningKey, peerOf } from '../fixtures/tokens';

const pki = makeTestPki();
const client = peerOf(pki.client.cert);
const otherCertificate = peerOf(pki.server.cert);
const issuerKey = makeSigningKey('ed25519');

interface Files {
  readonly dir: string;
  readonly cert: string;
  readonly key: string;
}

/** The client certificate and the issuer key in a temp dir, removed after the test. */
function writeFiles(t: TestContext): Files {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'infergate-token-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const cert = path.join(dir, 'client.pem');
  const key = path.join(dir, 'token-issuer-key.pem');
  fs.writeFileSync(cert, pki.client.cert);
  fs.writeFileSync(key, issuerKey.pem);
  return { dir, cert, key };
}

function issue(files: Files, ...extra: string[]) {
  const base = ['--cert', files.cert, '--sub', 'alice', '--roles', 'reader,writer'];
  return runCli('token', 'issue', ...base, '--key', files.key, ...extra);
}

test('prints only a token that verifies and is bound to the certificate', async (t) => {
  const files = writeFiles(t);

  const result = await issue(files);

  assert.equal(result.code, 0);
  assert.equal(result.stderr, '');
  assert.match(result.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  const header = `Bearer ${result.stdout.trim()}`;
  const verifier = new TokenVerifier(authConfig(issuerKey));
  const facts = await verifier.verify(header, client);
  assert.equal(facts.subject, 'alice');
  assert.deepEqual(facts.roles, ['reader', 'writer']);
  await assert.rejects(verifier.verify(header, otherCertificate), { code: 'ERR_TOKEN_NOT_BOUND' });
});

test('takes the lifetime, issuer and audience from flags', async (t) => {
  const files = writeFiles(t);

  const short = decodeJwt((await issue(files, '--ttl', '30s')).stdout.trim());
  const day = decodeJwt((await issue(files, '--ttl', '24h')).stdout.trim());
  const named = decodeJwt(
    (await issue(files, '--issuer', 'lab', '--audience', 'lab-gateway')).stdout.trim(),
  );

  assert.equal(short.exp! - short.iat!, 30);
  assert.equal(day.exp! - day.iat!, 86_400);
  assert.equal(named.exp! - named.iat!, 600);
  assert.equal(named.iss, 'lab');
  assert.equal(named.aud, 'lab-gateway');
});

test('issues a token without roles for --roles ""', async (t) => {
  const files = writeFiles(t);

  const result = await runCli(
    'token',
    'issue',
    ...['--cert', files.cert, '--sub', 'svc', '--roles', '', '--key', files.key],
  );

  assert.equal(result.code, 0);
  assert.deepEqual(decodeJwt(result.stdout.trim()).roles, []);
});

test('reads the issuer key from certs/token-issuer-key.pem by default', async (t) => {
  const files = writeFiles(t);
  fs.mkdirSync(path.join(files.dir, 'certs'));
  fs.copyFileSync(files.key, path.join(files.dir, 'certs', 'token-issuer-key.pem'));
  const cwd = process.cwd();
  process.chdir(files.dir);
  t.after(() => process.chdir(cwd));

  const result = await runCli(
    'token',
    'issue',
    ...['--cert', files.cert, '--sub', 'alice', '--roles', 'reader'],
  );

  assert.equal(result.code, 0, result.stderr);
  const facts = await new TokenVerifier(authConfig(issuerKey)).verify(
    `Bearer ${result.stdout.trim()}`,
    client,
  );
  assert.equal(facts.subject, 'alice');
});

test('rejects bad flags with ERR_USAGE and exit 2', async (t) => {
  const files = writeFiles(t);
  const cases: [string[], string][] = [
    [['--ttl', '25h'], '--ttl "25h" is not a duration from 1s to 24h'],
    [['--ttl', '10x'], '--ttl "10x" is not a duration from 1s to 24h'],
    [['--ttl', '0s'], '--ttl "0s" is not a duration from 1s to 24h'],
    [['--roles', 'Admin Role'], '--roles "Admin Role" is not a role name'],
    [['--bogus'], "Unknown option '--bogus'"],
  ];

  for (const [flags, message] of cases) {
    const result = await issue(files, ...flags);

    assert.equal(result.code, 2, flags.join(' '));
    assert.equal(result.stdout, '');
    assert.ok(result.stderr.startsWith(`infergate token: ${message}`), result.stderr);
    assert.ok(result.stderr.endsWith(' (ERR_USAGE)\n'), result.stderr);
  }
});

test('requires --cert, --sub and --roles', async (t) => {
  const files = writeFiles(t);
  const all = { '--cert': files.cert, '--sub': 'alice', '--roles': 'reader' };

  for (const missing of Object.keys(all)) {
    const flags = Object.entries(all).filter(([flag]) => flag !== missing);
    const result = await runCli('token', 'issue', ...flags.flat(), '--key', files.key);

    assert.equal(result.code, 2);
    assert.equal(result.stderr, `infergate token: ${missing} is required (ERR_USAGE)\n`);
  }
});

test('rejects a missing or unknown subcommand and a stray argument with exit 2', async () => {
  const cases: [string[], string][] = [
    [[], 'infergate token: name a subcommand: issue (ERR_USAGE)\n'],
    [['revoke'], 'infergate token: unknown subcommand "revoke"; use issue (ERR_USAGE)\n'],
  ];
  for (const [args, stderr] of cases) {
    assert.deepEqual(await runCli('token', ...args), { code: 2, stdout: '', stderr });
  }

  const stray = await runCli('token', 'issue', 'extra');
  assert.equal(stray.code, 2);
  assert.match(stray.stderr, /'extra'.* \(ERR_USAGE\)\n$/);
});

test('exits 1 for a certificate or key that cannot be read or used', async (t) => {
  const files = writeFiles(t);
  const rsa = path.join(files.dir, 'rsa.pem');
  fs.writeFileSync(rsa, makeSigningKey('rsa').pem);
  const absent = path.join(files.dir, 'absent.pem');

  const cases: [string[], string][] = [
    [['--cert', absent], `cannot read certificate ${absent} (ENOENT)`],
    [['--cert', files.key], `${files.key} is not a PEM certificate`],
    [['--key', absent], `cannot read token issuer key ${absent} (ENOENT)`],
    [['--key', rsa], 'token issuer key type "rsa" is not Ed25519 or P-256'],
  ];
  for (const [flags, message] of cases) {
    const result = await issue(files, ...flags);

    assert.equal(result.code, 1, flags.join(' '));
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, `infergate token: ${message} (ERR_PKI_MATERIAL_INVALID)\n`);
  }
});

test('describes the command and the subcommand with --help', async () => {
  const command = await runCli('token', '--help');
  const subcommand = await runCli('token', 'issue', '-h');
  const usage = await runCli('--help');

  assert.equal(command.code, 0);
  assert.ok(command.stdout.startsWith('Usage: infergate token <subcommand>'), command.stdout);
  assert.match(command.stdout, /^ {2}issue /m);
  assert.equal(subcommand.code, 0);
  assert.ok(subcommand.stdout.startsWith('Usage: infergate token issue'), subcommand.stdout);
  for (const flag of ['--cert', '--sub', '--roles', '--ttl', '--key', '--issuer', '--audience']) {
    assert.match(subcommand.stdout, new RegExp(`^ +${flag} `, 'm'), flag);
  }
  assert.match(usage.stdout, /^ {2}token {9}issue an access token bound to a client certificate$/m);
});
