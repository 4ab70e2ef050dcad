// Revocation: the CA's revoked list kept as JSON beside it, and the CRL re-issued from it whole.

import path from 'node:path';
import forge from 'node-forge';
import { assertIssuedBy, type CertificateAuthority } from './certificate-authority';
import type { ParsedCertificate } from './certificate-pem';
import {
  buildRevocationList,
  isRevocationReason,
  type RevocationReason,
  type RevokedCertificate,
} from './certificate-revocation-list';
import {
  PUBLIC_MATERIAL_MODE,
  ensureMaterialDirectory,
  invalidMaterial,
  materialFileExists,
  readMaterialFile,
  writeMaterialFile,
} from './pki-material-files';
import { certificateKeyUsages } from './x509-asn1';

/** File name of the CA's CRL (PEM), the file a gateway lists in `crlFiles`. */
export const CRL_FILE = 'ca.crl';

/** File name of the revoked list the CRL is built from, beside it. */
export const REVOCATION_STATE_FILE = 'ca-revocations.json';

/** The revoked list of one CA and the number of the last CRL published from it. */
export interface RevocationState {
  /** Key identifier (hex) of the CA the list belongs to. */
  readonly authorityKeyId: string;
  readonly crlNumber: number;
  readonly revoked: readonly RevokedCertificate[];
}

/** A CRL just written. */
export interface PublishedRevocationList {
  readonly crlFile: string;
  readonly stateFile: string;
  readonly crlNumber: number;
  readonly revokedCount: number;
  readonly nextUpdate: Date;
}

/** How to publish: the CRL's lifetime and the clock. */
export interface PublishOptions {
  readonly days?: number;
  readonly now?: Date;
}

/** What revoking one certificate did. */
export interface RevocationOutcome {
  readonly serialNumber: string;
  /** True when the serial was on the list already; the CRL is then left as it was. */
  readonly alreadyRevoked: boolean;
  readonly published: PublishedRevocationList | undefined;
}

/**
 * Reads the revoked list in `dir`; an empty one (CRL number 0) when there is none yet. Rejects a
 * file that does not parse, and one kept for another CA: publishing a CRL from it would drop
 * every revocation of this one.
 */
export function readRevocationState(ca: CertificateAuthority, dir: string): RevocationState {
  const file = path.join(dir, REVOCATION_STATE_FILE);
  const authorityKeyId = forge.util.bytesToHex(ca.keyIdentifier);
  if (!materialFileExists(file)) return { authorityKeyId, crlNumber: 0, revoked: [] };

  const state = parseState(readMaterialFile(file), file);
  if (state.authorityKeyId !== authorityKeyId) {
    throw invalidMaterial(
      `${file} lists the revocations of another CA, not of ${ca.certFile ?? 'this one'}`,
    );
  }
  return state;
}

/**
 * Publishes the CRL of `dir` again with the next CRL number and a fresh nextUpdate. The state is
 * written before the CRL, so a crash between the two can delay a CRL but never reuse a number.
 * Rejects a CA whose keyUsage lacks cRLSign, since OpenSSL would refuse every CRL it signs.
 *
 * @param state the revoked list to publish; the one kept in `dir` when absent
 */
export function publishRevocationList(
  ca: CertificateAuthority,
  dir: string,
  options: PublishOptions = {},
  state: RevocationState = readRevocationState(ca, dir),
): PublishedRevocationList {
  const usages = certificateKeyUsages(ca.certificate.x509.raw);
  if (usages !== undefined && !usages.includes('cRLSign')) {
    throw invalidMaterial(`${ca.certFile ?? 'the CA'} has a keyUsage that does not allow cRLSign`);
  }
  const next = { ...state, crlNumber: state.crlNumber + 1 };
  const list = buildRevocationList(ca, { ...options, ...next });
  const stateFile = path.join(dir, REVOCATION_STATE_FILE);
  const crlFile = path.join(dir, CRL_FILE);

  ensureMaterialDirectory(dir);
  writeMaterialFile(stateFile, serializeState(next), PUBLIC_MATERIAL_MODE);
  writeMaterialFile(crlFile, list.pem, PUBLIC_MATERIAL_MODE);
  return {
    crlFile,
    stateFile,
    crlNumber: next.crlNumber,
    revokedCount: next.revoked.length,
    nextUpdate: list.nextUpdate,
  };
}

/**
 * Revokes `certificate` (read from `file`), which `ca` must have issued, and publishes the CRL of
 * `dir` with it. Revoking a serial twice changes nothing.
 */
export function revokeCertificate(
  ca: CertificateAuthority,
  dir: string,
  certificate: ParsedCertificate,
  file: string,
  options: PublishOptions & { readonly reason?: RevocationReason } = {},
): RevocationOutcome {
  assertIssuedBy(ca, certificate.x509, file);
  const serialNumber = certificate.x509.serialNumber.toUpperCase();
  // Limitation: the list is read, changed and written without a lock, so two revocations run at
  // the same moment against one folder can lose one of them; revoke from one place at a time.
  const state = readRevocationState(ca, dir);
  if (state.revoked.some((entry) => entry.serialNumber === serialNumber)) {
    return { serialNumber, alreadyRevoked: true, published: undefined };
  }

  const entry: RevokedCertificate = {
    serialNumber,
    revokedAt: options.now ?? new Date(),
    ...(options.reason === undefined ? {} : { reason: options.reason }),
  };
  const revoked = [...state.revoked, entry];
  const published = publishRevocationList(ca, dir, options, { ...state, revoked });
  return { serialNumber, alreadyRevoked: false, published };
}

function serializeState(state: RevocationState): string {
  const revoked = state.revoked.map((entry) => ({
    ...entry,
    revokedAt: entry.revokedAt.toISOString(),
  }));
  return `${JSON.stringify({ ...state, revoked }, null, 2)}\n`;
}

function parseState(text: string, file: string): RevocationState {
  const problem = invalidMaterial(`${file} is not a revocation list written by infergate`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalidMaterial(problem.message, err);
  }
  const state = value as { authorityKeyId?: unknown; crlNumber?: unknown; revoked?: unknown };
  if (
    typeof state?.authorityKeyId !== 'string' ||
    !Number.isInteger(state.crlNumber) ||
    (state.crlNumber as number) < 0 ||
    (state.crlNumber as number) >= 2 ** 31 ||
    !Array.isArray(state.revoked)
  ) {
    throw problem;
  }
  const revoked = state.revoked.map((entry: unknown) => parseEntry(entry, problem));
  return { authorityKeyId: state.authorityKeyId, crlNumber: state.crlNumber as number, revoked };
}

function parseEntry(value: unknown, problem: Error): RevokedCertificate {
  const entry = value as { serialNumber?: unknown; revokedAt?: unknown; reason?: unknown };
  const revokedAt = new Date(typeof entry?.revokedAt === 'string' ? entry.revokedAt : NaN);
  if (
    typeof entry?.serialNumber !== 'string' ||
    !/^[0-9A-F]{1,40}$/.test(entry.serialNumber) ||
    Number.isNaN(revokedAt.getTime()) ||
    (entry.reason !== undefined &&
      (typeof entry.reason !== 'string' || !isRevocationReason(entry.reason)))
  ) {
    throw problem;
  }
  const reason = entry.reason as RevocationReason | undefined;
  return {
    serialNumber: entry.serialNumber,
    revokedAt,
    ...(reason === undefined ? {} : { reason }),
  };
}
