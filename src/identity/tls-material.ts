// What TLS material is checked and described by: OpenSSL's acceptance, and each certificate's
// subject and days left.

import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { ProxyError } from '../errors/proxy-error';
import type { Logger } from '../observe/logger';
import { certificateThumbprint } from './peer-certificate';

const DAY_MS = 86_400_000;

/** One certificate the listeners present or trust, and how long it has left. */
export interface LoadedCertificate {
  /**
   * `server` for the listeners' own certificate, `client-ca` for a trusted client CA,
   * `upstream-client` and `upstream-ca` for what infergate presents to and trusts of upstreams.
   */
  readonly role: 'server' | 'client-ca' | 'upstream-client' | 'upstream-ca';
  readonly file: string;
  readonly subject: string;
  readonly issuer: string;
  readonly serialNumber: string;
  /** RFC 8705 `x5t#S256`: base64url of the SHA-256 of the DER certificate. */
  readonly thumbprint: string;
  readonly validTo: Date;
  readonly daysLeft: number;
}

/**
 * Builds a secure context from `options` so OpenSSL checks them: every PEM parses and the key
 * belongs to the certificate. Throws `ERR_PKI_MATERIAL_INVALID` naming `file` otherwise.
 */
export function checkSecureContext(options: SecureContextOptions, file: string): void {
  try {
    createSecureContext(options);
  } catch (err) {
    const reason = (err as Error).message.split('\n', 1)[0];
    const message = `tls material of ${file} does not form a usable set (${reason})`;
    throw new ProxyError('ERR_PKI_MATERIAL_INVALID', message, { cause: err });
  }
}

/** Logs a warning for each certificate within `days` of its expiry at `now` (or past it). */
export function warnAboutExpiry(
  certificates: readonly LoadedCertificate[],
  days: number,
  logger: Logger,
  now: number = Date.now(),
): void {
  for (const { role, file, subject, validTo } of certificates) {
    const daysLeft = Math.floor((validTo.getTime() - now) / DAY_MS);
    if (daysLeft > days) continue;
    logger.warn({ role, file, subject, daysLeft }, 'certificate expires soon');
  }
}

/** Describes one PEM certificate loaded from `file`. */
export function describeCertificate(
  role: LoadedCertificate['role'],
  file: string,
  pem: string,
  now: number,
): LoadedCertificate {
  const certificate = new X509Certificate(pem);
  const validTo = new Date(certificate.validTo);
  const daysLeft = Math.floor((validTo.getTime() - now) / DAY_MS);
  return {
    role,
    file,
    subject: certificate.subject.replace(/\n/g, ', '),
    issuer: certificate.issuer.replace(/\n/g, ', '),
    serialNumber: certificate.serialNumber,
    thumbprint: certificateThumbprint(certificate.raw),
    validTo,
    daysLeft,
  };
}

/** A CA file may hold several certificates (a bundle); each is described. */
export function describeBundle(
  file: string,
  text: string,
  now: number,
  role: LoadedCertificate['role'] = 'client-ca',
): LoadedCertificate[] {
  const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return pems.map((pem) => describeCertificate(role, file, pem, now));
}

/** How often `watchExpiry` checks the certificates again. */
const EXPIRY_CHECK_INTERVAL_MS = 12 * 3_600_000;

/**
 * Warns about `certificates()` near expiry now and every 12 hours; returns the function that
 * stops it. A gateway runs for months: the warning must come as expiry nears, not only at
 * start-up.
 */
export function watchExpiry(
  certificates: () => readonly LoadedCertificate[],
  days: number,
  logger: Logger,
): () => void {
  const check = () => warnAboutExpiry(certificates(), days, logger);
  check();
  const timer = setInterval(check, EXPIRY_CHECK_INTERVAL_MS).unref();
  return () => clearInterval(timer);
}
