// Reading and writing PKI material: one error shape for every file, atomic replacement on write.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ProxyError } from '../../errors/proxy-error';

/**
 * Mode of every private key file: owner read and write only, so another local account cannot
 * copy a key and impersonate the gateway or a client.
 */
export const PRIVATE_KEY_MODE = 0o600;

/** Mode of certificates, CRLs and state files: public material, readable by the gateway's user. */
export const PUBLIC_MATERIAL_MODE = 0o644;

/** The error every PKI failure raises; `message` names the file, never key material. */
export function invalidMaterial(message: string, cause?: unknown): ProxyError {
  return new ProxyError('ERR_PKI_MATERIAL_INVALID', message, { cause });
}

/** Reads a file as UTF-8 text; a missing or unreadable file is ERR_PKI_MATERIAL_INVALID. */
export function readMaterialFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw invalidMaterial(`cannot read ${file} (${errorCode(err)})`, err);
  }
}

/** Whether `file` exists; errors other than absence (a permission problem) are raised. */
export function materialFileExists(file: string): boolean {
  try {
    fs.statSync(file);
    return true;
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return false;
    throw invalidMaterial(`cannot read ${file} (${errorCode(err)})`, err);
  }
}

/**
 * Replaces `file` with `text` atomically: the text goes to a temporary file in the same folder,
 * is flushed, and is renamed over `file`. A running gateway watches these files, so a reader sees
 * the old content or the new, never half of a certificate or key.
 */
export function writeMaterialFile(file: string, text: string, mode: number): void {
  const temporary = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`,
  );
  try {
    writeNewFile(temporary, text, mode);
    fs.renameSync(temporary, file);
  } catch (err) {
    fs.rmSync(temporary, { force: true });
    throw invalidMaterial(`cannot write ${file} (${errorCode(err)})`, err);
  }
}

/** Creates the folder material goes into when it is missing. */
export function ensureMaterialDirectory(dir: string): void {
  try {
    // Owner-only: the folder holds private keys, and a folder others can write lets them swap
    // a certificate or a CRL for their own between two reads of the gateway.
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw invalidMaterial(`cannot create ${dir} (${errorCode(err)})`, err);
  }
}

function writeNewFile(file: string, text: string, mode: number): void {
  // 'wx' (O_CREAT | O_EXCL) refuses a name that already exists, so a link planted at the
  // temporary name by another account cannot redirect the key to a file of its choosing.
  const fd = fs.openSync(file, 'wx', mode);
  try {
    // The umask may have narrowed or (for a 0 umask) kept `mode`; fchmod states it exactly.
    fs.fchmodSync(fd, mode);
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? 'error';
}
