// PKI files: atomic replacement, exact modes, and errors that name the file.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  PRIVATE_KEY_MODE,
  PUBLIC_MATERIAL_MODE,
  ensureMaterialDirectory,
  materialFileExists,
  readMaterialFile,
  writeMaterialFile,
} from '../../../src/identity/pki/pki-material-files';
import { fileMode, pkiTempDir } from '../../fixtures/pki-temp-dir';
import { assertProxyError } from '../../fixtures/proxy-errors';

test('writes a private key readable by its owner only, whatever the umask', (t) => {
  const dir = pkiTempDir(t);
  const previous = process.umask(0);
  t.after(() => process.umask(previous));

  writeMaterialFile(path.join(dir, 'key.pem'), 'secret', PRIVATE_KEY_MODE);
  writeMaterialFile(path.join(dir, 'cert.pem'), 'public', PUBLIC_MATERIAL_MODE);

  assert.equal(fileMode(path.join(dir, 'key.pem')), 0o600);
  assert.equal(fileMode(path.join(dir, 'cert.pem')), 0o644);
});

test('narrows the mode of a key that replaces a world-readable file', (t) => {
  const file = path.join(pkiTempDir(t), 'key.pem');
  fs.writeFileSync(file, 'old', { mode: 0o666 });
  fs.chmodSync(file, 0o666);

  writeMaterialFile(file, 'new', PRIVATE_KEY_MODE);

  assert.equal(fileMode(file), 0o600);
  assert.equal(fs.readFileSync(file, 'utf8'), 'new');
});

test('replaces a file by renaming, so a reader of the old file never sees a mix', (t) => {
  const dir = pkiTempDir(t);
  const file = path.join(dir, 'server.pem');
  fs.writeFileSync(file, 'old certificate');
  const reader = fs.openSync(file, 'r');
  t.after(() => fs.closeSync(reader));
  const before = fs.statSync(file).ino;

  writeMaterialFile(file, 'new certificate', PUBLIC_MATERIAL_MODE);

  const buffer = Buffer.alloc(64);
  const length = fs.readSync(reader, buffer, 0, buffer.length, 0);
  assert.equal(buffer.subarray(0, length).toString('utf8'), 'old certificate');
  assert.equal(fs.readFileSync(file, 'utf8'), 'new certificate');
  assert.notEqual(fs.statSync(file).ino, before);
  assert.deepEqual(fs.readdirSync(dir), ['server.pem']);
});

test('reports a folder it cannot write into with the file and leaves no temporary file', (t) => {
  const dir = pkiTempDir(t);
  const file = path.join(dir, 'absent', 'ca.pem');

  assertProxyError(
    () => writeMaterialFile(file, 'x', PUBLIC_MATERIAL_MODE),
    'ERR_PKI_MATERIAL_INVALID',
    new RegExp(`^cannot write ${file} \\(ENOENT\\)$`),
  );
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('reports a missing file with its path and errno code', (t) => {
  const file = path.join(pkiTempDir(t), 'ca.pem');

  assertProxyError(
    () => readMaterialFile(file),
    'ERR_PKI_MATERIAL_INVALID',
    new RegExp(`^cannot read ${file} \\(ENOENT\\)$`),
  );
  assert.equal(materialFileExists(file), false);
});

test('creates a missing material folder for its owner only', (t) => {
  const dir = path.join(pkiTempDir(t), 'certs', 'dev');

  ensureMaterialDirectory(dir);

  assert.equal(fileMode(dir), 0o700);
  assert.equal(materialFileExists(dir), true);
});
