// `infergate certs init` and `certs rotate`: the development set of certificates and keys.

import {
  ensureDevelopmentCertificates,
  rotateDevelopmentCertificates,
  type DevelopmentCertificates,
} from '../identity/pki/development-certificates';
import { DEFAULT_LEAF_LIFETIME_DAYS } from '../identity/pki/leaf-certificate';
import { parseFlags, type CliCommand, type CliIo } from './cli-command';
import { parseDays, requiredFlag, wroteHelp } from './certs-flags';

const FLAGS = {
  dir: { type: 'string', short: 'd' },
  days: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `certs init`: writes whatever part of the development set is missing. */
export const certsInitCommand: CliCommand = {
  name: 'init',
  summary: 'write a development CA, server and client certificates, CRL and token key',
  help: `Usage: infergate certs init --dir DIR [options]

Writes the development set into DIR (created when missing): ca.pem and ca-key.pem, server.pem
and server-key.pem (for localhost, 127.0.0.1 and ::1), client.pem and client-key.pem (CN
demo-client, URI spiffe://infergate.local/demo-client), ca.crl (nothing revoked yet) and
token-issuer-key.pem (Ed25519, for infergate's own tokens). Files already there are kept.
Private keys are readable by their owner only. Not for production: use your own CA there.

Options:
  -d, --dir DIR      the folder to write into (required)
      --days N       lifetime of the leaf certificates (default ${DEFAULT_LEAF_LIFETIME_DAYS})
  -h, --help         show this help`,

  async run(args, io) {
    const flags = developmentFlags(args, this, io);
    if (flags === undefined) return 0;

    const result = ensureDevelopmentCertificates(flags.dir, { days: flags.days });
    writeOutcome(result, io);
    if (!result.created) io.stdout.write(`the development set in ${flags.dir} exists already\n`);
    return 0;
  },
};

/** `certs rotate`: new server and client certificates and keys from the same CA. */
export const certsRotateCommand: CliCommand = {
  name: 'rotate',
  summary: 'reissue the development server and client certificates with new keys',
  help: `Usage: infergate certs rotate --dir DIR [options]

Reissues server.pem and client.pem in DIR from DIR's CA, each with a new key and the names it
had, and republishes ca.crl. The old certificates are not revoked. A gateway watching these
files picks up the new server certificate without a restart.

Options:
  -d, --dir DIR      the folder of the development set (required)
      --days N       lifetime of the new certificates (default: that of the old ones)
  -h, --help         show this help`,

  async run(args, io) {
    const flags = developmentFlags(args, this, io);
    if (flags === undefined) return 0;

    writeOutcome(rotateDevelopmentCertificates(flags.dir, { days: flags.days }), io);
    return 0;
  },
};

/**
 * The `--dir` and `--days` that `init` and `rotate` both take; undefined when `--help` was given
 * and answered. Throws ERR_USAGE for a missing `--dir` or a bad `--days`.
 */
function developmentFlags(
  args: readonly string[],
  command: CliCommand,
  io: CliIo,
): { dir: string; days: number | undefined } | undefined {
  const flags = parseFlags(args, FLAGS);
  if (wroteHelp(flags.help, command, io)) return undefined;
  return { dir: requiredFlag('dir', flags.dir), days: parseDays('days', flags.days) };
}

function writeOutcome(result: DevelopmentCertificates, io: CliIo): void {
  const written = new Set(result.written);
  for (const file of result.written) io.stdout.write(`wrote ${file}\n`);
  for (const file of Object.values(result.paths)) {
    if (!written.has(file)) io.stdout.write(`kept  ${file} (already there)\n`);
  }
}
