// `infergate certs issue` and `certs renew`: leaf certificates signed by DIR's or an operator's CA.

import { ProxyError } from '../errors/proxy-error';
import { readCertificateFile } from '../identity/pki/certificate-pem';
import { renewCertificate } from '../identity/pki/certificate-renewal';
import {
  DEFAULT_LEAF_LIFETIME_DAYS,
  issueLeafCertificate,
  leafFiles,
  writeIssuedCertificate,
  type IssuedCertificate,
} from '../identity/pki/leaf-certificate';
import { materialFileExists, readMaterialFile } from '../identity/pki/pki-material-files';
import { loadRsaPrivateKey } from '../identity/pki/rsa-key-pair';
import { findSubjectAltNameProblem, type SubjectAltNames } from '../identity/pki/subject-alt-names';
import { parseFlags, type CliCommand, type CliIo } from './cli-command';
import {
  CA_FLAGS,
  CA_FLAGS_HELP,
  authorityFromFlags,
  parseDays,
  parseList,
  requiredFlag,
  writeField,
  wroteHelp,
} from './certs-flags';

const ISSUE_FLAGS = {
  dir: { type: 'string', short: 'd' },
  name: { type: 'string', short: 'n' },
  type: { type: 'string', short: 't' },
  'common-name': { type: 'string' },
  dns: { type: 'string' },
  ip: { type: 'string' },
  uri: { type: 'string' },
  email: { type: 'string' },
  days: { type: 'string' },
  ...CA_FLAGS,
  help: { type: 'boolean', short: 'h' },
} as const;

const RENEW_FLAGS = {
  dir: { type: 'string', short: 'd' },
  cert: { type: 'string', short: 'c' },
  key: { type: 'string', short: 'k' },
  days: { type: 'string' },
  'keep-key': { type: 'boolean' },
  ...CA_FLAGS,
  help: { type: 'boolean', short: 'h' },
} as const;

// A file stem that stays inside DIR and cannot land on the CA's files or another certificate's
// key (`NAME-key.pem` of a NAME ending in -key would be one).
const CERTIFICATE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const RESERVED_NAMES = new Set(['ca', 'token-issuer']);

/** `certs issue`: a new server or client certificate and key. */
export const certsIssueCommand: CliCommand = {
  name: 'issue',
  summary: 'issue a server or client certificate and key signed by a CA',
  help: `Usage: infergate certs issue --dir DIR --name NAME --type server|client [options]

Writes DIR/NAME.pem and DIR/NAME-key.pem (a new RSA 2048 key, readable by its owner only),
signed by DIR's CA or by --ca-cert, and prints the certificate's RFC 8705 thumbprint
(x5t#S256), the value a token bound to it carries. A server certificate needs --dns or --ip;
a client certificate usually carries a SPIFFE ID in --uri. Refuses to replace an existing
NAME.pem: renew it instead.

Options:
  -d, --dir DIR          where to write, and whose CA signs (required)
  -n, --name NAME        file name stem: letters, digits, '.', '_', '-' (required)
  -t, --type TYPE        server (serverAuth) or client (clientAuth) (required)
      --common-name CN   the subject's common name (default NAME)
      --dns A,B          DNS names (subjectAltName)
      --ip A,B           IPv4 or IPv6 addresses (subjectAltName)
      --uri A,B          URIs, e.g. spiffe://example.org/ns/ml/sa/batch (subjectAltName)
      --email A,B        e-mail addresses (subjectAltName)
      --days N           lifetime in days (default ${DEFAULT_LEAF_LIFETIME_DAYS})
${CA_FLAGS_HELP}
  -h, --help             show this help`,

  async run(args, io) {
    const flags = parseFlags(args, ISSUE_FLAGS);
    if (wroteHelp(flags.help, this, io)) return 0;
    const dir = requiredFlag('dir', flags.dir);
    const name = certificateName(requiredFlag('name', flags.name));
    const kind = certificateKind(requiredFlag('type', flags.type));
    const altNames = altNamesFromFlags(flags, kind);
    const days = parseDays('days', flags.days);
    const files = leafFiles(dir, name);
    if (materialFileExists(files.certFile)) {
      throw new ProxyError('ERR_USAGE', `${files.certFile} exists already; renew it instead`);
    }

    const ca = authorityFromFlags(dir, flags);
    const issued = issueLeafCertificate(ca, {
      kind,
      commonName: flags['common-name'] ?? name,
      altNames,
      days,
    });
    writeIssued(issued, writeIssuedCertificate(issued, files.certFile, files.keyFile), io);
    return 0;
  },
};

/** `certs renew`: the same certificate again, with a new serial, validity and (usually) key. */
export const certsRenewCommand: CliCommand = {
  name: 'renew',
  summary: 'renew a certificate: same subject, names and usages, new serial and key',
  help: `Usage: infergate certs renew --dir DIR --cert FILE [options]

Replaces FILE with a certificate for the same subject, names and usages, a new serial number
and a new validity, signed by DIR's CA (or --ca-cert), which must have issued FILE. A new key
replaces the old one unless --keep-key is given. Tokens bound to the old thumbprint stop
matching: issue new ones.

Options:
  -d, --dir DIR          whose CA signs (required)
  -c, --cert FILE        the certificate to renew (required)
  -k, --key FILE         its private key (default: FILE with .pem replaced by -key.pem)
      --days N           lifetime in days (default: that of the old certificate)
      --keep-key         certify the existing key again instead of a new one
${CA_FLAGS_HELP}
  -h, --help             show this help`,

  async run(args, io) {
    const flags = parseFlags(args, RENEW_FLAGS);
    if (wroteHelp(flags.help, this, io)) return 0;
    const dir = requiredFlag('dir', flags.dir);
    const certFile = requiredFlag('cert', flags.cert);
    const keyFile = flags.key ?? siblingKeyFile(certFile);
    const days = parseDays('days', flags.days);

    const ca = authorityFromFlags(dir, flags);
    const certificate = readCertificateFile(certFile);
    const key =
      flags['keep-key'] === true
        ? loadRsaPrivateKey(readMaterialFile(keyFile), keyFile)
        : undefined;
    const issued = renewCertificate(ca, certificate, certFile, { days, key });
    writeIssued(issued, writeIssuedCertificate(issued, certFile, keyFile), io);
    return 0;
  },
};

function certificateName(name: string): string {
  if (!CERTIFICATE_NAME.test(name) || RESERVED_NAMES.has(name) || name.endsWith('-key')) {
    throw new ProxyError(
      'ERR_USAGE',
      `--name "${name}" is not a file name stem of letters, digits, '.', '_' and '-' ` +
        `(and not ca, token-issuer or one ending in -key)`,
    );
  }
  return name;
}

function certificateKind(type: string): 'server' | 'client' {
  if (type !== 'server' && type !== 'client') {
    throw new ProxyError('ERR_USAGE', `--type "${type}" is not server or client`);
  }
  return type;
}

function altNamesFromFlags(
  flags: { dns?: string; ip?: string; uri?: string; email?: string },
  kind: 'server' | 'client',
): SubjectAltNames {
  const altNames = {
    dnsNames: parseList(flags.dns),
    ipAddresses: parseList(flags.ip),
    uris: parseList(flags.uri),
    emails: parseList(flags.email),
  };
  const problem = findSubjectAltNameProblem(altNames);
  if (problem !== undefined) throw new ProxyError('ERR_USAGE', problem);
  if (kind === 'server' && altNames.dnsNames.length + altNames.ipAddresses.length === 0) {
    throw new ProxyError('ERR_USAGE', 'a server certificate needs --dns or --ip');
  }
  return altNames;
}

function siblingKeyFile(certFile: string): string {
  if (!certFile.endsWith('.pem')) {
    throw new ProxyError('ERR_USAGE', `--key is required when --cert "${certFile}" is not a .pem`);
  }
  return `${certFile.slice(0, -'.pem'.length)}-key.pem`;
}

function writeIssued(issued: IssuedCertificate, files: readonly string[], io: CliIo): void {
  for (const file of files) io.stdout.write(`wrote ${file}\n`);
  writeField(io, 'serial', issued.certificate.x509.serialNumber.toUpperCase());
  writeField(io, 'not after', new Date(issued.certificate.x509.validTo).toISOString());
  writeField(io, 'thumbprint', `${issued.thumbprint} (x5t#S256)`);
}
