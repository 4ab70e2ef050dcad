// The directory of Ed25519 audit signing keys: one key pair per key id, and `current` naming the
// key that signs now.

import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ProxyError, isProxyError } from '../errors/proxy-error';
import {
  PRIVATE_KEY_MODE,
  PUBLIC_MATERIAL_MODE,
  ensureMaterialDirectory,
  materialFileExists,
  writeMaterialFile,
} from '../identity/pki/pki-material-files';
import {
  generateAuditSigningKey,
  keyIdOf,
  type AuditSigningKey,
  type AuditVerifyingKey,
} from './audit-signing';

/** The file holding the id of the key that signs now. */
export const CURRENT_KEY_FILE = 'current';

/** Suffix of a PKCS #8 PEM private key file, `<keyId>.key.pem`. */
export const PRIVATE_KEY_SUFFIX = '.key.pem';

/** Suffix of an SPKI PEM public key file, `<keyId>.pub.pem`. */
export const PUBLIC_KEY_SUFFIX = '.pub.pem';

/**
 * What `keyIdOf` yields. `current` is checked against it before it names a file, so a planted
 * `current` holding `../x` cannot make the gateway sign with a key from outside the directory.
 */
const KEY_ID_PATTERN = /^[0-9a-f]{16}$/;

/** The keys of a directory: the one that signs now, and every key kept there, by id. */
export interface AuditKeyDirectory {
  readonly current: AuditSigningKey;
  readonly keys: ReadonlyMap<string, AuditSigningKey>;
}

/** A directory after a rotation, with the key that signed before it. */
export interface RotatedKeyDirectory extends AuditKeyDirectory {
  readonly previous: AuditSigningKey;
}

/** The private and public key files of `keyId` in `dir`. */
export function keyFilesOf(
  dir: string,
  keyId: string,
): { readonly privateKey: string; readonly publicKey: string } {
  return {
    privateKey: path.join(dir, `${keyId}${PRIVATE_KEY_SUFFIX}`),
    publicKey: path.join(dir, `${keyId}${PUBLIC_KEY_SUFFIX}`),
  };
}

/**
 * Makes `dir` (owner-only when created) holding one new key, which becomes current. Rejects
 * with ERR_AUDIT_KEY_INVALID a directory that already has a `current`: replacing it would
 * orphan the key that signed the logs so far, and rotation is the way to change keys.
 */
export function initKeyDirectory(dir: string): AuditKeyDirectory {
  const currentFile = path.join(dir, CURRENT_KEY_FILE);
  if (keyStep(() => materialFileExists(currentFile))) {
    throw keyError(`${dir} already holds audit keys (${currentFile} exists); rotate instead`);
  }
  keyStep(() => ensureMaterialDirectory(dir));

  const key = generateAuditSigningKey();
  writeKeyPair(dir, key);
  writeCurrent(dir, key.keyId);
  return { current: key, keys: new Map([[key.keyId, key]]) };
}

/**
 * Adds a new key to the readable directory `dir` and makes it current. The old keys stay, so a
 * gateway that reloads the directory can sign the handover with the key it signed with before.
 */
export function rotateKeyDirectory(dir: string): RotatedKeyDirectory {
  const before = readKeyDirectory(dir);

  const key = generateAuditSigningKey();
  writeKeyPair(dir, key);
  writeCurrent(dir, key.keyId);

  const keys = new Map(before.keys).set(key.keyId, key);
  return { current: key, keys, previous: before.current };
}

/**
 * Reads every key of `dir` and the current one. Rejects with ERR_AUDIT_KEY_INVALID a missing
 * directory, a missing or malformed `current`, a current id without a key file, a key file
 * that is not an Ed25519 PKCS #8 PEM key, or one whose key id is not the one its name says.
 */
export function readKeyDirectory(dir: string): AuditKeyDirectory {
  const names = listDirectory(dir);
  const currentId = readCurrent(dir);

  const keys = new Map<string, AuditSigningKey>();
  for (const name of names.filter((entry) => entry.endsWith(PRIVATE_KEY_SUFFIX)).sort()) {
    const key = readSigningKey(path.join(dir, name));
    expectNamedId(path.join(dir, name), key.keyId, name.slice(0, -PRIVATE_KEY_SUFFIX.length));
    keys.set(key.keyId, key);
  }

  const current = keys.get(currentId);
  if (current === undefined) {
    const missing = keyFilesOf(dir, currentId).privateKey;
    throw keyError(
      `${path.join(dir, CURRENT_KEY_FILE)} names key ${currentId} but ${missing} is missing`,
    );
  }
  return { current, keys };
}

/** `dir`'s keys when it has a `current`, else a new directory made by `initKeyDirectory`. */
export function ensureKeyDirectory(dir: string): AuditKeyDirectory {
  const currentFile = path.join(dir, CURRENT_KEY_FILE);
  return keyStep(() => materialFileExists(currentFile))
    ? readKeyDirectory(dir)
    : initKeyDirectory(dir);
}

/**
 * The keys a verifier trusts: each path is a `.pub.pem` file, or a directory whose `*.pub.pem`
 * files are all read. Keys are returned once each, in the order found. Rejects with
 * ERR_AUDIT_KEY_INVALID a path that cannot be read, a directory without public keys, a file
 * that is not an Ed25519 SPKI PEM key, or a `<keyId>.pub.pem` holding another key.
 */
export function readVerifyingKeys(paths: readonly string[]): AuditVerifyingKey[] {
  const byId = new Map<string, AuditVerifyingKey>();
  for (const file of paths.flatMap(publicKeyFilesAt)) {
    const key = readVerifyingKey(file);
    const stem = path.basename(file).slice(0, -PUBLIC_KEY_SUFFIX.length);
    // Only a name shaped like a key id claims one; `security-team.pub.pem` claims nothing.
    if (KEY_ID_PATTERN.test(stem)) expectNamedId(file, key.keyId, stem);
    if (!byId.has(key.keyId)) byId.set(key.keyId, key);
  }
  return [...byId.values()];
}

function publicKeyFilesAt(target: string): string[] {
  if (!isDirectory(target)) return [target];
  const files = listDirectory(target)
    .filter((name) => name.endsWith(PUBLIC_KEY_SUFFIX))
    .sort()
    .map((name) => path.join(target, name));
  if (files.length === 0) throw keyError(`${target} holds no ${PUBLIC_KEY_SUFFIX} files`);
  return files;
}

function writeKeyPair(dir: string, key: AuditSigningKey): void {
  const files = keyFilesOf(dir, key.keyId);
  const privatePem = key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const publicPem = key.publicKey.export({ format: 'pem', type: 'spki' }).toString();
  keyStep(() => writeMaterialFile(files.privateKey, privatePem, PRIVATE_KEY_MODE));
  keyStep(() => writeMaterialFile(files.publicKey, publicPem, PUBLIC_MATERIAL_MODE));
}

/** Written after the key files and renamed into place, so `current` never names a half key. */
function writeCurrent(dir: string, keyId: string): void {
  const file = path.join(dir, CURRENT_KEY_FILE);
  keyStep(() => writeMaterialFile(file, `${keyId}\n`, PUBLIC_MATERIAL_MODE));
}

function readCurrent(dir: string): string {
  const file = path.join(dir, CURRENT_KEY_FILE);
  const keyId = readKeyFile(file, `${file} is missing; run infergate audit keys init`).trim();
  if (!KEY_ID_PATTERN.test(keyId)) throw keyError(`${file} does not hold a key id`);
  return keyId;
}

function readSigningKey(file: string): AuditSigningKey {
  const privateKey = parseKey(file, createPrivateKey, 'a PKCS #8 PEM private key');
  const publicKey = createPublicKey(privateKey);
  return { keyId: keyIdOf(publicKey), privateKey, publicKey };
}

function readVerifyingKey(file: string): AuditVerifyingKey {
  const publicKey = parseKey(file, createPublicKey, 'an SPKI PEM public key');
  return { keyId: keyIdOf(publicKey), publicKey };
}

function parseKey(file: string, create: (pem: string) => KeyObject, what: string): KeyObject {
  const pem = readKeyFile(file);
  let key: KeyObject;
  try {
    key = create(pem);
  } catch (err) {
    throw keyError(`${file} is not ${what}`, err);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw keyError(`${file} holds a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`);
  }
  return key;
}

function expectNamedId(file: string, keyId: string, named: string): void {
  if (keyId !== named) throw keyError(`${file} holds key ${keyId}, not the ${named} its name says`);
}

function readKeyFile(file: string, missing?: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = errnoOf(err);
    throw keyError(code === 'ENOENT' && missing ? missing : `cannot read ${file} (${code})`, err);
  }
}

function listDirectory(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch (err) {
    const code = errnoOf(err);
    const reason = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`;
    throw keyError(`audit key directory ${dir} ${reason}`, err);
  }
}

function isDirectory(target: string): boolean {
  try {
    return fs.statSync(target).isDirectory();
  } catch (err) {
    throw keyError(`cannot read ${target} (${errnoOf(err)})`, err);
  }
}

/** Runs a step of the shared PKI file helpers, reporting their failures as audit key errors. */
function keyStep<T>(step: () => T): T {
  try {
    return step();
  } catch (err) {
    if (isProxyError(err)) throw keyError(err.message, err);
    throw err;
  }
}

function keyError(message: string, cause?: unknown): ProxyError {
  return new ProxyError('ERR_AUDIT_KEY_INVALID', message, { cause });
}

function errnoOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? 'error';
}
