// Flags the `infergate certs` subcommands share: required values, lists, lifetimes, which CA.

import { ProxyError } from '../errors/proxy-error';
import {
  loadCertificateAuthority,
  loadCertificateAuthorityFromDir,
  type CertificateAuthority,
} from '../identity/pki/certificate-authority';
import { MAX_LIFETIME_DAYS } from '../identity/pki/certificate-validity';
import { parseCount, type CliCommand, type CliIo } from './cli-command';

/** The flags that pick an operator's own CA instead of the one in `--dir`. */
export const CA_FLAGS = {
  'ca-cert': { type: 'string' },
  'ca-key': { type: 'string' },
} as const;

/** Help lines for {@link CA_FLAGS}. */
export const CA_FLAGS_HELP = [
  '      --ca-cert FILE     sign with this CA certificate instead of DIR/ca.pem',
  '      --ca-key FILE      the private key of --ca-cert (PEM, RSA)',
].join('\n');

/** The value of a flag the subcommand cannot run without. */
export function requiredFlag(flag: string, value: string | undefined): string {
  if (value === undefined || value.length === 0) {
    throw new ProxyError('ERR_USAGE', `--${flag} is required`);
  }
  return value;
}

/** A comma-separated list flag; absent is an empty list, and blank items are dropped. */
export function parseList(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/** A lifetime flag in days, 1 to the engine's maximum. */
export function parseDays(flag: string, value: string | undefined): number | undefined {
  const days = parseCount(flag, value);
  if (days !== undefined && (days < 1 || days > MAX_LIFETIME_DAYS)) {
    throw new ProxyError(
      'ERR_USAGE',
      `--${flag} "${value}" is not a number of days from 1 to ${MAX_LIFETIME_DAYS}`,
    );
  }
  return days;
}

/**
 * The CA to sign with: `--ca-cert` and `--ca-key` when given (both, or neither), else the CA
 * kept in `dir`.
 */
export function authorityFromFlags(
  dir: string,
  flags: { 'ca-cert'?: string | undefined; 'ca-key'?: string | undefined },
): CertificateAuthority {
  const certFile = flags['ca-cert'];
  const keyFile = flags['ca-key'];
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ProxyError('ERR_USAGE', '--ca-cert and --ca-key must be given together');
  }
  return certFile === undefined
    ? loadCertificateAuthorityFromDir(dir)
    : loadCertificateAuthority(certFile, keyFile!);
}

/** Writes `command`'s help when `--help` was given; true when it did. */
export function wroteHelp(help: boolean | undefined, command: CliCommand, io: CliIo): boolean {
  if (help !== true) return false;
  io.stdout.write(`${command.help}\n`);
  return true;
}

/** Writes `label` and `value` as one aligned line of a report. */
export function writeField(io: CliIo, label: string, value: string): void {
  io.stdout.write(`${`${label}:`.padEnd(16)}${value}\n`);
}
