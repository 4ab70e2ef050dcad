// `infergate certs revoke` and `certs crl`: the CA's certificate revocation list in DIR/ca.crl.

import { ProxyError } from '../errors/proxy-error';
import { readCertificateFile } from '../identity/pki/certificate-pem';
import {
  publishRevocationList,
  type PublishedRevocationList,
} from '../identity/pki/certificate-revocation';
import {
  DEFAULT_CRL_LIFETIME_DAYS,
  REVOCATION_REASONS,
  isRevocationReason,
  type RevocationReason,
} from '../identity/pki/certificate-revocation-list';
import { revokeCertificate } from '../identity/pki/certificate-revocation';
import { parseFlags, type CliCommand, type CliIo } from './cli-command';
import {
  CA_FLAGS,
  CA_FLAGS_HELP,
  authorityFromFlags,
  parseDays,
  requiredFlag,
  writeField,
  wroteHelp,
} from './certs-flags';

const REVOKE_FLAGS = {
  dir: { type: 'string', short: 'd' },
  cert: { type: 'string', short: 'c' },
  reason: { type: 'string', short: 'r' },
  'crl-days': { type: 'string' },
  ...CA_FLAGS,
  help: { type: 'boolean', short: 'h' },
} as const;

const CRL_FLAGS = {
  dir: { type: 'string', short: 'd' },
  days: { type: 'string' },
  ...CA_FLAGS,
  help: { type: 'boolean', short: 'h' },
} as const;

const REASONS = Object.keys(REVOCATION_REASONS).join(', ');

/** `certs revoke`: adds a certificate to the CRL and republishes it. */
export const certsRevokeCommand: CliCommand = {
  name: 'revoke',
  summary: "revoke a certificate: add it to DIR's CRL (ca.crl)",
  help: `Usage: infergate certs revoke --dir DIR --cert FILE [options]

Adds FILE's serial number to the revoked list of DIR's CA (or --ca-cert), which must have
issued FILE, and rewrites DIR/ca.crl whole with the next CRL number. A gateway that lists
ca.crl in crlFiles refuses the certificate once it reloads the file. Revoking a certificate
twice changes nothing.

Options:
  -d, --dir DIR          the CA's folder, where ca.crl and ca-revocations.json live (required)
  -c, --cert FILE        the certificate to revoke (required)
  -r, --reason REASON    one of ${REASONS}
      --crl-days N       days until the CRL's nextUpdate (default ${DEFAULT_CRL_LIFETIME_DAYS})
${CA_FLAGS_HELP}
  -h, --help             show this help`,

  async run(args, io) {
    const flags = parseFlags(args, REVOKE_FLAGS);
    if (wroteHelp(flags.help, this, io)) return 0;
    const dir = requiredFlag('dir', flags.dir);
    const certFile = requiredFlag('cert', flags.cert);
    const reason = revocationReason(flags.reason);
    const days = parseDays('crl-days', flags['crl-days']);

    const ca = authorityFromFlags(dir, flags);
    const certificate = readCertificateFile(certFile);
    const outcome = revokeCertificate(ca, dir, certificate, certFile, { reason, days });
    if (outcome.published === undefined) {
      io.stdout.write(`${certFile} (serial ${outcome.serialNumber}) was revoked already\n`);
      return 0;
    }
    io.stdout.write(`revoked ${certFile} (serial ${outcome.serialNumber})\n`);
    writePublished(outcome.published, io);
    return 0;
  },
};

/** `certs crl`: republishes the CRL, for a new nextUpdate before the old one passes. */
export const certsCrlCommand: CliCommand = {
  name: 'crl',
  summary: "republish DIR's CRL with a new number and nextUpdate",
  help: `Usage: infergate certs crl --dir DIR [options]

Rewrites DIR/ca.crl from the revoked list in DIR with the next CRL number and a new
nextUpdate. Run it before nextUpdate passes: once it has, TLS refuses every client certificate
of the CA, since a stale CRL could hide a revocation.

Options:
  -d, --dir DIR          the CA's folder (required)
      --days N           days until nextUpdate (default ${DEFAULT_CRL_LIFETIME_DAYS})
${CA_FLAGS_HELP}
  -h, --help             show this help`,

  async run(args, io) {
    const flags = parseFlags(args, CRL_FLAGS);
    if (wroteHelp(flags.help, this, io)) return 0;
    const dir = requiredFlag('dir', flags.dir);
    const days = parseDays('days', flags.days);

    writePublished(publishRevocationList(authorityFromFlags(dir, flags), dir, { days }), io);
    return 0;
  },
};

function revocationReason(value: string | undefined): RevocationReason | undefined {
  if (value === undefined || isRevocationReason(value)) return value;
  throw new ProxyError('ERR_USAGE', `--reason "${value}" is not one of ${REASONS}`);
}

function writePublished(published: PublishedRevocationList, io: CliIo): void {
  io.stdout.write(`wrote ${published.stateFile}\nwrote ${published.crlFile}\n`);
  writeField(io, 'CRL number', String(published.crlNumber));
  writeField(io, 'revoked', String(published.revokedCount));
  writeField(io, 'next update', published.nextUpdate.toISOString());
}
