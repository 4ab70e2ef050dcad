// `infergate certs`: every subcommand, its help, its output, and its usage errors (exit 2).

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { certificateThumbprint } from '../../src/identity/peer-certificate';
import { runCli, type CliResult } from '../fixtures/cli-run';
import { readCrl } from '../fixtures/crl-reader';
import { fileMode, pkiTempDir } from '../fixtures/pki-temp-dir';

const SUBCOMMAND_FLAGS: Record<string, string[]> = {
  init: ['--dir', '--days', '--help'],
  issue: [
    '--dir',
    '--name',
    '--type',
    '--common-name',
    '--dns',
    '--ip',
    '--uri',
    '--email',
    '--days',
    '--ca-cert',
    '--ca-key',
    '--help',
  ],
  renew: ['--dir', '--cert', '--key', '--days', '--keep-key', '--ca-cert', '--ca-key', '--help'],
  revoke: ['--dir', '--cert', '--reason', '--crl-days', '--ca-cert', '--ca-key', '--help'],
  crl: ['--dir', '--days', '--ca-cert', '--ca-key', '--help'],
  inspect: ['--cert', '--help'],
  rotate: ['--dir', '--days', '--help'],
};

function certificate(file: string): X509Certificate {
  return new X509Certificate(fs.readFileSync(file));
}

/** A folder holding the development set, made through the CLI itself. */
async function initialized(t: Parameters<typeof pkiTempDir>[0]): Promise<string> {
  const dir = pkiTempDir(t);
  const result = await runCli('certs', 'init', '--dir', dir);
  assert.equal(result.code, 0, result.stderr);
  return dir;
}

/** Asserts a usage error: exit 2, nothing on stdout, the message and ERR_USAGE on stderr. */
function assertUsageError(result: CliResult, message: string): void {
  assert.equal(result.code, 2, result.stderr);
  assert.equal(result.stdout, '');
  assert.equal(result.stderr, `infergate certs: ${message} (ERR_USAGE)\n`);
}

/** Runs `infergate certs` with `prefix` and each case's arguments, in order, as usage errors. */
async function assertUsageErrors(
  prefix: readonly string[],
  cases: readonly (readonly [args: readonly string[], message: string])[],
): Promise<void> {
  for (const [args, message] of cases) {
    assertUsageError(await runCli('certs', ...prefix, ...args), message);
  }
}

test('is listed by infergate --help', async () => {
  const result = await runCli('--help');

  assert.match(
    result.stdout,
    /^ {2}certs {9}make and manage the CA, certificates and CRL for mTLS$/m,
  );
});

test('prints its subcommands with --help and exit 0, and with nothing and exit 2', async () => {
  const help = await runCli('certs', '--help');
  const bare = await runCli('certs');

  assert.equal(help.code, 0);
  assert.ok(help.stdout.startsWith('Usage: infergate certs <subcommand> [options]\n'));
  for (const name of Object.keys(SUBCOMMAND_FLAGS)) {
    assert.match(help.stdout, new RegExp(`^ {2}${name} +\\S`, 'm'), name);
  }
  assert.equal(bare.code, 2);
  assert.equal(bare.stdout, help.stdout);
});

test('describes every flag of every subcommand with --help', async () => {
  for (const [name, flags] of Object.entries(SUBCOMMAND_FLAGS)) {
    const result = await runCli('certs', name, '--help');

    assert.equal(result.code, 0, name);
    assert.ok(result.stdout.startsWith(`Usage: infergate certs ${name} `), result.stdout);
    for (const flag of flags) {
      assert.match(result.stdout, new RegExp(`(^|[ ,])${flag}\\b`, 'm'), `${name} ${flag}`);
    }
    assert.equal(result.stderr, '');
  }
});

test('rejects an unknown subcommand, unknown flag and stray argument with exit 2', async () => {
  assertUsageError(
    await runCli('certs', 'mint'),
    'unknown subcommand "mint"; run infergate certs --help for the list',
  );
  const flag = await runCli('certs', 'init', '--bogus');
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /^infergate certs: Unknown option '--bogus'.* \(ERR_USAGE\)\n$/);
  const stray = await runCli('certs', 'inspect', 'server.pem');
  assert.equal(stray.code, 2);
  assert.match(stray.stderr, /'server\.pem'.* \(ERR_USAGE\)\n$/);
});

test('init writes the development set, listing each file, then keeps it', async (t) => {
  const dir = pkiTempDir(t);

  const first = await runCli('certs', 'init', '--dir', dir);
  const second = await runCli('certs', 'init', '--dir', dir);

  assert.equal(first.code, 0, first.stderr);
  const names = ['ca-key.pem', 'ca.pem', 'server-key.pem', 'server.pem', 'client-key.pem'];
  for (const name of [...names, 'client.pem', 'ca.crl', 'token-issuer-key.pem']) {
    assert.match(first.stdout, new RegExp(`^wrote ${path.join(dir, name)}$`, 'm'), name);
  }
  assert.equal(fileMode(path.join(dir, 'server-key.pem')), 0o600);
  assert.equal(second.code, 0);
  assert.doesNotMatch(second.stdout, /^wrote /m);
  assert.match(
    second.stdout,
    new RegExp(`^kept  ${path.join(dir, 'ca.pem')} \\(already there\\)$`, 'm'),
  );
  assert.match(second.stdout, new RegExp(`^the development set in ${dir} exists already$`, 'm'));
});

test('init and rotate refuse a missing --dir and a bad --days with exit 2', async () => {
  await assertUsageErrors(
    [],
    [
      [['init'], '--dir is required'],
      [['rotate'], '--dir is required'],
      [['init', '--dir', 'x', '--days', '0'], '--days "0" is not a number of days from 1 to 3650'],
      [['init', '--dir', 'x', '--days', 'soon'], '--days "soon" is not a non-negative integer'],
    ],
  );
});

test('issue writes a server certificate for its names and prints its thumbprint', async (t) => {
  const dir = await initialized(t);

  const result = await runCli(
    'certs',
    'issue',
    '--dir',
    dir,
    '--name',
    'models',
    '--type',
    'server',
    '--dns',
    'models.example.org, localhost',
    '--ip',
    '10.0.0.7,::1',
    '--days',
    '7',
  );

  assert.equal(result.code, 0, result.stderr);
  const cert = certificate(path.join(dir, 'models.pem'));
  assert.equal(cert.verify(certificate(path.join(dir, 'ca.pem')).publicKey), true);
  assert.equal(cert.subject, 'CN=models');
  assert.equal(cert.checkHost('models.example.org'), 'models.example.org');
  assert.equal(cert.checkIP('::1'), '::1');
  assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  const lifetime = new Date(cert.validTo).getTime() - new Date(cert.validFrom).getTime();
  assert.equal(lifetime, 7 * 86_400_000 + 5 * 60_000);
  assert.equal(fileMode(path.join(dir, 'models-key.pem')), 0o600);
  assert.equal(
    result.stdout,
    `wrote ${path.join(dir, 'models-key.pem')}\nwrote ${path.join(dir, 'models.pem')}\n` +
      `serial:         ${cert.serialNumber.toUpperCase()}\n` +
      `not after:      ${new Date(cert.validTo).toISOString()}\n` +
      `thumbprint:     ${certificateThumbprint(cert.raw)} (x5t#S256)\n`,
  );
});

test('issue writes a client certificate with a SPIFFE ID, e-mail and common name', async (t) => {
  const dir = await initialized(t);

  const result = await runCli(
    ...['certs', 'issue', '--dir', dir, '--name', 'batch', '--type', 'client'],
    ...['--common-name', 'ml batch', '--uri', 'spiffe://example.org/ns/ml/sa/batch'],
    ...['--email', 'ml@example.org'],
  );

  assert.equal(result.code, 0, result.stderr);
  const cert = certificate(path.join(dir, 'batch.pem'));
  assert.equal(cert.subject, 'CN=ml batch');
  assert.equal(
    cert.subjectAltName,
    'URI:spiffe://example.org/ns/ml/sa/batch, email:ml@example.org',
  );
  assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.2']);
});

test("issue signs with an operator's CA given by --ca-cert and --ca-key", async (t) => {
  const caDir = await initialized(t);
  const dir = path.join(pkiTempDir(t), 'issued');

  const result = await runCli(
    ...['certs', 'issue', '--dir', dir, '--name', 'batch', '--type', 'client'],
    ...['--ca-cert', path.join(caDir, 'ca.pem'), '--ca-key', path.join(caDir, 'ca-key.pem')],
  );

  assert.equal(result.code, 0, result.stderr);
  const cert = certificate(path.join(dir, 'batch.pem'));
  assert.equal(cert.verify(certificate(path.join(caDir, 'ca.pem')).publicKey), true);
  assert.equal(fs.existsSync(path.join(dir, 'ca.pem')), false);
});

test('issue refuses bad flags with exit 2 and writes nothing', async (t) => {
  const dir = await initialized(t);
  const before = fs.readdirSync(dir).sort();
  const issue = ['issue', '--dir', dir];

  await assertUsageErrors(issue, [
    [['--type', 'client'], '--name is required'],
    [['--name', 'a'], '--type is required'],
    [['--name', 'a', '--type', 'peer'], '--type "peer" is not server or client'],
    [['--name', 'a', '--type', 'server'], 'a server certificate needs --dns or --ip'],
    [
      ['--name', 'a', '--type', 'server', '--ip', '1.2.3'],
      'IP address "1.2.3" is not an IPv4 or IPv6 address',
    ],
    [['--name', 'a', '--type', 'client', '--uri', 'batch'], 'URI "batch" is not an absolute URI'],
  ]);
  for (const name of ['ca', 'server-key', '../escape', 'token-issuer']) {
    const result = await runCli('certs', ...issue, '--name', name, '--type', 'client');
    assert.equal(result.code, 2, name);
    assert.match(
      result.stderr,
      new RegExp(`--name "${name.replace('.', '\\.')}" is not a file name`),
    );
  }
  await assertUsageErrors(issue, [
    [
      ['--name', 'a', '--type', 'client', '--ca-cert', 'x.pem'],
      '--ca-cert and --ca-key must be given together',
    ],
    [
      ['--name', 'server', '--type', 'server', '--dns', 'localhost'],
      `${path.join(dir, 'server.pem')} exists already; renew it instead`,
    ],
  ]);
  assert.deepEqual(fs.readdirSync(dir).sort(), before);
});

test('issue fails with exit 1 and the missing file when DIR has no CA', async (t) => {
  const dir = pkiTempDir(t);

  const result = await runCli('certs', 'issue', '--dir', dir, '--name', 'a', '--type', 'client');

  assert.equal(result.code, 1);
  assert.equal(
    result.stderr,
    `infergate certs: cannot read ${path.join(dir, 'ca.pem')} (ENOENT) (ERR_PKI_MATERIAL_INVALID)\n`,
  );
});

test('renew replaces a certificate and its key, keeping subject and names', async (t) => {
  const dir = await initialized(t);
  const certFile = path.join(dir, 'server.pem');
  const old = certificate(certFile);
  const oldKey = fs.readFileSync(path.join(dir, 'server-key.pem'), 'utf8');

  const result = await runCli('certs', 'renew', '--dir', dir, '--cert', certFile, '--days', '3');

  assert.equal(result.code, 0, result.stderr);
  const renewed = certificate(certFile);
  assert.notEqual(renewed.serialNumber, old.serialNumber);
  assert.equal(renewed.subject, old.subject);
  assert.equal(renewed.subjectAltName, old.subjectAltName);
  assert.notEqual(fs.readFileSync(path.join(dir, 'server-key.pem'), 'utf8'), oldKey);
  const lifetime = new Date(renewed.validTo).getTime() - new Date(renewed.validFrom).getTime();
  assert.equal(lifetime, 3 * 86_400_000 + 5 * 60_000);
  assert.match(result.stdout, new RegExp(`^wrote ${certFile}$`, 'm'));
  assert.match(result.stdout, /^thumbprint: {5}[A-Za-z0-9_-]{43} \(x5t#S256\)$/m);
});

test('renew --keep-key certifies the same key again', async (t) => {
  const dir = await initialized(t);
  const certFile = path.join(dir, 'client.pem');
  const old = certificate(certFile);
  const oldKey = fs.readFileSync(path.join(dir, 'client-key.pem'), 'utf8');

  const result = await runCli('certs', 'renew', '--dir', dir, '--cert', certFile, '--keep-key');

  assert.equal(result.code, 0, result.stderr);
  const renewed = certificate(certFile);
  assert.notEqual(renewed.serialNumber, old.serialNumber);
  assert.equal(renewed.publicKey.equals(old.publicKey), true);
  assert.equal(renewed.subjectAltName, 'URI:spiffe://infergate.local/demo-client');
  assert.equal(fs.readFileSync(path.join(dir, 'client-key.pem'), 'utf8'), oldKey);
});

test('renew refuses a missing --cert and a --cert whose key file it cannot name', async () => {
  await assertUsageErrors(
    ['renew', '--dir', 'x'],
    [
      [[], '--cert is required'],
      [['--cert', 'server.crt'], '--key is required when --cert "server.crt" is not a .pem'],
    ],
  );
});

test("revoke adds a certificate to DIR's CRL with its reason, once", async (t) => {
  const dir = await initialized(t);
  const certFile = path.join(dir, 'client.pem');
  const serial = certificate(certFile).serialNumber.toUpperCase();

  const first = await runCli(
    ...['certs', 'revoke', '--dir', dir, '--cert', certFile, '--reason', 'keyCompromise'],
  );
  const second = await runCli('certs', 'revoke', '--dir', dir, '--cert', certFile);

  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, new RegExp(`^revoked ${certFile} \\(serial ${serial}\\)$`, 'm'));
  assert.match(first.stdout, new RegExp(`^wrote ${path.join(dir, 'ca.crl')}$`, 'm'));
  assert.match(first.stdout, /^CRL number: {5}2$/m);
  assert.match(first.stdout, /^revoked: {8}1$/m);
  const crl = readCrl(fs.readFileSync(path.join(dir, 'ca.crl'), 'utf8'));
  assert.deepEqual(crl.revoked, [{ serialNumber: serial, reasonCode: 1 }]);
  assert.equal(second.code, 0);
  assert.equal(second.stdout, `${certFile} (serial ${serial}) was revoked already\n`);
});

test('revoke refuses an unknown reason with exit 2', async () => {
  const result = await runCli('certs', 'revoke', '--dir', 'x', '--cert', 'y', '--reason', 'oops');

  assert.equal(result.code, 2);
  assert.match(
    result.stderr,
    /^infergate certs: --reason "oops" is not one of unspecified, keyCompromise, /,
  );
});

test('crl republishes the CRL with the next number and the asked lifetime', async (t) => {
  const dir = await initialized(t);

  const result = await runCli('certs', 'crl', '--dir', dir, '--days', '2');

  assert.equal(result.code, 0, result.stderr);
  const crl = readCrl(fs.readFileSync(path.join(dir, 'ca.crl'), 'utf8'));
  assert.equal(crl.crlNumber, 2);
  assert.equal(crl.nextUpdate.getTime() - crl.thisUpdate.getTime(), 2 * 86_400_000 + 5 * 60_000);
  assert.match(
    result.stdout,
    new RegExp(`^next update: {4}${crl.nextUpdate.toISOString().slice(0, 19)}`, 'm'),
  );
});

test('inspect prints what the certificate says and its thumbprint', async (t) => {
  const dir = await initialized(t);
  const certFile = path.join(dir, 'server.pem');
  const cert = certificate(certFile);

  const result = await runCli('certs', 'inspect', '--cert', certFile);

  assert.equal(result.code, 0, result.stderr);
  // 90 days less the moments since issue: 89, or 90 if issued on a whole second and read at once.
  const days = /^days left: {6}(89|90) \(valid\)$/m.exec(result.stdout)?.[1];
  assert.ok(days !== undefined, result.stdout);
  assert.equal(
    result.stdout.replace(`${days} (valid)`, 'DAYS'),
    [
      'subject:        CN=localhost',
      'issuer:         CN=infergate development CA',
      `serial:         ${cert.serialNumber.toUpperCase()}`,
      'public key:     rsa 2048',
      'CA:             no',
      'DNS:            localhost',
      'IP:             127.0.0.1, ::1',
      'key usage:      digitalSignature, keyEncipherment',
      'ext key usage:  serverAuth',
      `not before:     ${new Date(cert.validFrom).toISOString()}`,
      `not after:      ${new Date(cert.validTo).toISOString()}`,
      'days left:      DAYS',
      `thumbprint:     ${certificateThumbprint(cert.raw)} (x5t#S256)`,
      '',
    ].join('\n'),
  );
});

test('inspect refuses a missing --cert with exit 2 and a missing file with exit 1', async (t) => {
  const file = path.join(pkiTempDir(t), 'absent.pem');

  assertUsageError(await runCli('certs', 'inspect'), '--cert is required');
  const missing = await runCli('certs', 'inspect', '--cert', file);
  assert.equal(missing.code, 1);
  assert.equal(
    missing.stderr,
    `infergate certs: cannot read ${file} (ENOENT) (ERR_PKI_MATERIAL_INVALID)\n`,
  );
});

test('rotate reissues the server and client certificates from the same CA', async (t) => {
  const dir = await initialized(t);
  const ca = fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8');
  const server = certificate(path.join(dir, 'server.pem'));
  const client = certificate(path.join(dir, 'client.pem'));

  const result = await runCli('certs', 'rotate', '--dir', dir);

  assert.equal(result.code, 0, result.stderr);
  assert.notEqual(certificate(path.join(dir, 'server.pem')).serialNumber, server.serialNumber);
  assert.notEqual(certificate(path.join(dir, 'client.pem')).serialNumber, client.serialNumber);
  assert.equal(fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8'), ca);
  assert.match(result.stdout, new RegExp(`^wrote ${path.join(dir, 'server.pem')}$`, 'm'));
  assert.match(
    result.stdout,
    new RegExp(`^kept  ${path.join(dir, 'ca.pem')} \\(already there\\)$`, 'm'),
  );
});
