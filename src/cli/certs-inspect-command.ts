// `infergate certs inspect`: what a certificate says, including the thumbprint tokens bind to.

import { readCertificateFile } from '../identity/pki/certificate-pem';
import { inspectCertificate } from '../identity/pki/certificate-inspection';
import { parseFlags, type CliCommand } from './cli-command';
import { requiredFlag, writeField, wroteHelp } from './certs-flags';

const FLAGS = {
  cert: { type: 'string', short: 'c' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `certs inspect`: prints the facts of one certificate; it checks no trust. */
export const certsInspectCommand: CliCommand = {
  name: 'inspect',
  summary: 'print the subject, names, validity and thumbprint of a certificate',
  help: `Usage: infergate certs inspect --cert FILE

Prints the subject, issuer, serial number, subject alternative names, key usages, validity,
days left and the RFC 8705 thumbprint (x5t#S256) of the first certificate in FILE. It says
what the certificate claims; it does not check who signed it.

Options:
  -c, --cert FILE    the certificate, PEM (required)
  -h, --help         show this help`,

  async run(args, io) {
    const flags = parseFlags(args, FLAGS);
    if (wroteHelp(flags.help, this, io)) return 0;
    const report = inspectCertificate(readCertificateFile(requiredFlag('cert', flags.cert)));

    writeField(io, 'subject', report.subject);
    writeField(io, 'issuer', report.issuer);
    writeField(io, 'serial', report.serialNumber);
    writeField(io, 'public key', report.publicKey);
    writeField(io, 'CA', report.isCa ? 'yes' : 'no');
    for (const [label, names] of [
      ['DNS', report.dnsNames],
      ['IP', report.ipAddresses],
      ['URI', report.uris],
      ['email', report.emails],
      ['key usage', report.keyUsages],
      ['ext key usage', report.extendedKeyUsages],
    ] as const) {
      if (names.length > 0) writeField(io, label, names.join(', '));
    }
    writeField(io, 'not before', report.validFrom.toISOString());
    writeField(io, 'not after', report.validTo.toISOString());
    writeField(io, 'days left', `${report.daysLeft} (${report.status})`);
    writeField(io, 'thumbprint', `${report.thumbprint} (x5t#S256)`);
    return 0;
  },
};
