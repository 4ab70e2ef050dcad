// The audit key directory: init, rotate, read and its refusals, and reading verifying keys.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  ensureKeyDirectory,
  initKeyDirectory,
  keyFilesOf,
  readKeyDirectory,
  readVerifyingKeys,
  rotateKeyDirectory,
} from '../../src/audit/audit-key-directory';
import { checkpointSignedBy, keyIdOf, signCheckpoint } from '../../src/audit/audit-signing';
import { fileMode, pkiTempDir } from '../fixtures/pki-temp-dir';

/** Asserts ERR_AUDIT_KEY_INVALID with a message matching `message`. */
function assertKeyError(run: () => unknown, message: RegExp): void {
  assert.throws(run, (err: Error & { code?: string }) => {
    assert.equal(err.code, 'ERR_AUDIT_KEY_INVALID');
    assert.match(err.message, message);
    return true;
  });
}

function pem(key: ReturnType<typeof generateKeyPairSync>['privateKey'], type: 'pkcs8' | 'spki') {
  return key.export({ format: 'pem', type }).toString();
}

test('init writes an owner-only key, its public key and current', (t) => {
  const dir = path.join(pkiTempDir(t), 'keys');

  const { current, keys } = initKeyDirectory(dir);

  const files = keyFilesOf(dir, current.keyId);
  assert.equal(fileMode(dir), 0o700);
  assert.equal(fileMode(files.privateKey), 0o600);
  assert.equal(fs.readFileSync(path.join(dir, 'current'), 'utf8'), `${current.keyId}\n`);
  assert.equal(keyIdOf(current.publicKey), current.keyId);
  assert.deepEqual([...keys.keys()], [current.keyId]);
  assert.deepEqual(
    fs.readdirSync(dir).sort(),
    ['current', `${current.keyId}.key.pem`, `${current.keyId}.pub.pem`].sort(),
  );
});

test('init writes the private key owner-only whatever the umask', (t) => {
  const dir = path.join(pkiTempDir(t), 'keys');
  const previous = process.umask(0);
  t.after(() => process.umask(previous));

  const { current } = initKeyDirectory(dir);

  assert.equal(fileMode(keyFilesOf(dir, current.keyId).privateKey), 0o600);
});

test('init refuses a directory that already has a current key', (t) => {
  const dir = pkiTempDir(t);
  const first = initKeyDirectory(dir);

  assertKeyError(() => initKeyDirectory(dir), /already holds audit keys/);

  assert.equal(readKeyDirectory(dir).current.keyId, first.current.keyId);
});

test('read gives back the keys init wrote, able to sign', (t) => {
  const dir = pkiTempDir(t);
  const written = initKeyDirectory(dir);

  const read = readKeyDirectory(dir);

  assert.equal(read.current.keyId, written.current.keyId);
  const checkpoint = signCheckpoint(read.current, 'log-a', 3, Buffer.alloc(32, 7));
  assert.ok(checkpointSignedBy(written.current, 'log-a', checkpoint));
});

test('rotate makes a new key current and keeps the old one', (t) => {
  const dir = pkiTempDir(t);
  const first = initKeyDirectory(dir).current;

  const rotated = rotateKeyDirectory(dir);

  assert.notEqual(rotated.current.keyId, first.keyId);
  assert.equal(rotated.previous.keyId, first.keyId);
  assert.equal(fileMode(keyFilesOf(dir, rotated.current.keyId).privateKey), 0o600);
  const read = readKeyDirectory(dir);
  assert.equal(read.current.keyId, rotated.current.keyId);
  assert.deepEqual([...read.keys.keys()].sort(), [first.keyId, rotated.current.keyId].sort());
});

test('rotate refuses a directory without keys', (t) => {
  const dir = pkiTempDir(t);

  assertKeyError(() => rotateKeyDirectory(dir), /current is missing/);

  assert.deepEqual(fs.readdirSync(dir), []);
});

test('ensure makes the directory once, then reads it', (t) => {
  const dir = path.join(pkiTempDir(t), 'keys');

  const made = ensureKeyDirectory(dir);
  const again = ensureKeyDirectory(dir);

  assert.equal(again.current.keyId, made.current.keyId);
  assert.equal(fs.readdirSync(dir).length, 3);
});

test('read refuses a missing directory', (t) => {
  const dir = path.join(pkiTempDir(t), 'absent');

  assertKeyError(() => readKeyDirectory(dir), /audit key directory .*absent does not exist/);
});

test('read refuses a directory without current', (t) => {
  const dir = pkiTempDir(t);
  const { current } = initKeyDirectory(dir);
  fs.rmSync(path.join(dir, 'current'));

  assertKeyError(() => readKeyDirectory(dir), /current is missing; run infergate audit keys init/);
  assert.ok(fs.existsSync(keyFilesOf(dir, current.keyId).privateKey));
});

test('read refuses a current that is not a key id', (t) => {
  const dir = pkiTempDir(t);
  initKeyDirectory(dir);
  fs.writeFileSync(path.join(dir, 'current'), '../../etc/key\n');

  assertKeyError(() => readKeyDirectory(dir), /current does not hold a key id/);
});

test('read refuses a current id without a key file', (t) => {
  const dir = pkiTempDir(t);
  const { current } = initKeyDirectory(dir);
  fs.rmSync(keyFilesOf(dir, current.keyId).privateKey);

  assertKeyError(
    () => readKeyDirectory(dir),
    new RegExp(`names key ${current.keyId} but .*${current.keyId}\\.key\\.pem is missing`),
  );
});

test('read refuses a key file whose key id is not its name', (t) => {
  const dir = pkiTempDir(t);
  const { current } = initKeyDirectory(dir);
  const stranger = generateKeyPairSync('ed25519');
  fs.writeFileSync(keyFilesOf(dir, current.keyId).privateKey, pem(stranger.privateKey, 'pkcs8'));

  assertKeyError(
    () => readKeyDirectory(dir),
    new RegExp(`holds key ${keyIdOf(stranger.publicKey)}, not the ${current.keyId} its name says`),
  );
});

test('read refuses a key that is not Ed25519', (t) => {
  const dir = pkiTempDir(t);
  const { current } = initKeyDirectory(dir);
  const other = generateKeyPairSync('x25519');
  fs.writeFileSync(keyFilesOf(dir, current.keyId).privateKey, pem(other.privateKey, 'pkcs8'));

  assertKeyError(() => readKeyDirectory(dir), /\.key\.pem holds a x25519 key, not Ed25519/);
});

test('read refuses a key file that is not PEM', (t) => {
  const dir = pkiTempDir(t);
  const { current } = initKeyDirectory(dir);
  fs.writeFileSync(keyFilesOf(dir, current.keyId).privateKey, 'not a key\n');

  assertKeyError(() => readKeyDirectory(dir), /\.key\.pem is not a PKCS #8 PEM private key/);
});

test('verifying keys come from public key files and directories, once each', (t) => {
  const dir = pkiTempDir(t);
  const first = initKeyDirectory(dir).current;
  const second = rotateKeyDirectory(dir).current;
  const outside = path.join(pkiTempDir(t), 'security-team.pub.pem');
  const third = generateKeyPairSync('ed25519');
  fs.writeFileSync(outside, pem(third.publicKey, 'spki'));

  const keys = readVerifyingKeys([dir, outside, keyFilesOf(dir, first.keyId).publicKey]);

  const ids = keys.map((key) => key.keyId);
  assert.deepEqual(ids.slice(0, 2).sort(), [first.keyId, second.keyId].sort());
  assert.deepEqual(ids.slice(2), [keyIdOf(third.publicKey)]);
  const checkpoint = signCheckpoint(second, 'log-a', 1, Buffer.alloc(32));
  assert.ok(
    checkpointSignedBy(
      keys.find((key) => key.keyId === second.keyId)!,
      'log-a',
      checkpoint,
    ),
  );
});

test('verifying keys refuse a missing path, an empty directory and bad files', (t) => {
  const dir = pkiTempDir(t);
  const { current } = initKeyDirectory(dir);
  const publicFile = keyFilesOf(dir, current.keyId).publicKey;
  const empty = pkiTempDir(t);
  const rsa = path.join(empty, 'rsa.pub');
  const misnamed = path.join(empty, '0123456789abcdef.pub.pem');
  fs.writeFileSync(rsa, pem(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey, 'spki'));
  fs.writeFileSync(misnamed, fs.readFileSync(publicFile));

  assertKeyError(() => readVerifyingKeys([path.join(dir, 'nope.pub.pem')]), /cannot read .*ENOENT/);
  assertKeyError(() => readVerifyingKeys([pkiTempDir(t)]), /holds no \.pub\.pem files/);
  assertKeyError(() => readVerifyingKeys([rsa]), /rsa\.pub holds a rsa key, not Ed25519/);
  assertKeyError(
    () => readVerifyingKeys([misnamed]),
    new RegExp(`holds key ${current.keyId}, not the 0123456789abcdef its name says`),
  );
  fs.writeFileSync(publicFile, 'garbage');
  assertKeyError(() => readVerifyingKeys([dir]), /is not an SPKI PEM public key/);
});
