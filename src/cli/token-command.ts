// `infergate token`: signs access tokens with infergate's issuer key, bound to a client
// certificate, for scripts and for trying a gateway without an identity provider.

import { X509Certificate } from 'node:crypto';
import { DEFAULTS } from '../config/defaults';
import { name as roleName } from '../config/schema-primitives';
import { ProxyError } from '../errors/proxy-error';
import { certificateThumbprint } from '../identity/peer-certificate';
import { parseFlags, type CliCommand, type CliIo } from './cli-command';
import { defaultTokenIssuer, readMaterialFile } from './cli-material';

/** Where `--key` points unless given: the issuer key of a development setup. */
export const DEFAULT_ISSUER_KEY_FILE = 'certs/token-issuer-key.pem';

/** The longest lifetime `--ttl` accepts, as the configuration's `ttlSeconds` does. */
const MAX_TTL_SECONDS = 86_400;

const TTL_UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3_600 };

const ISSUE_FLAGS = {
  cert: { type: 'string' },
  sub: { type: 'string' },
  roles: { type: 'string' },
  ttl: { type: 'string' },
  key: { type: 'string' },
  issuer: { type: 'string' },
  audience: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const ISSUE_HELP = `Usage: infergate token issue --cert FILE --sub NAME --roles R1,R2 [options]

Signs an access token for NAME with the issuer key, bound to the client certificate in FILE
(RFC 8705 cnf / x5t#S256), and prints it on stdout and nothing else, so that
TOKEN=$(infergate token issue ...) works. Send it as "authorization: Bearer $TOKEN" over a
connection that presents the same certificate.

Options:
      --cert FILE       the client certificate (PEM) the token is bound to
      --sub NAME        the token's subject
      --roles R1,R2     comma-separated role names ("" for none)
      --ttl DURATION    lifetime: 30s, 10m, 1h, at most 24h (default ${DEFAULTS.auth.ttlSeconds / 60}m)
      --key FILE        the issuer's PKCS#8 private key, Ed25519 or P-256
                        (default ${DEFAULT_ISSUER_KEY_FILE})
      --issuer NAME     iss of the token (default ${DEFAULTS.auth.issuer})
      --audience AUD    aud of the token (default ${DEFAULTS.auth.audience})
  -h, --help            show this help`;

/** `infergate token issue`: prints a certificate-bound access token and nothing else. */
export const tokenCommand: CliCommand = {
  name: 'token',
  summary: 'issue an access token bound to a client certificate',
  help: `Usage: infergate token <subcommand> [options]

Works with access tokens signed by infergate's own issuer key.

Subcommands:
  issue         sign a token for a subject and roles, bound to a client certificate

Options:
  -h, --help    show this help; infergate token issue --help describes issue`,

  async run(args, io) {
    const [subcommand, ...rest] = args;
    if (subcommand === '-h' || subcommand === '--help') {
      io.stdout.write(`${this.help}\n`);
      return 0;
    }
    if (subcommand === undefined) throw new ProxyError('ERR_USAGE', 'name a subcommand: issue');
    if (subcommand !== 'issue') {
      throw new ProxyError('ERR_USAGE', `unknown subcommand "${subcommand}"; use issue`);
    }
    return issueToken(rest, io);
  },
};

async function issueToken(args: readonly string[], io: CliIo): Promise<number> {
  const flags = parseFlags(args, ISSUE_FLAGS);
  if (flags.help === true) {
    io.stdout.write(`${ISSUE_HELP}\n`);
    return 0;
  }
  const roles = parseRoles(required('roles', flags.roles));
  const subject = required('sub', flags.sub);
  const ttlSeconds = parseTtl(flags.ttl);
  const thumbprint = readThumbprint(required('cert', flags.cert));

  const issuer = defaultTokenIssuer(readIssuerKey(flags.key ?? DEFAULT_ISSUER_KEY_FILE), {
    issuer: flags.issuer,
    audience: flags.audience,
    ttlSeconds,
  });
  const { token } = await issuer.issue({ subject, roles, certificateThumbprint: thumbprint });
  io.stdout.write(`${token}\n`);
  return 0;
}

function required(flag: string, value: string | undefined): string {
  if (value === undefined) throw new ProxyError('ERR_USAGE', `--${flag} is required`);
  return value;
}

/** Role names as configuration writes them, so a typo fails here and not at every request. */
function parseRoles(value: string): string[] {
  const roles = value.split(',').map((role) => role.trim());
  if (roles.length === 1 && roles[0] === '') return [];
  for (const role of roles) {
    if (!roleName.safeParse(role).success) {
      throw new ProxyError(
        'ERR_USAGE',
        `--roles "${role}" is not a role name (1-63 lowercase letters, digits, ".", "_" or "-")`,
      );
    }
  }
  return roles;
}

/** `30s`, `10m` or `1h`, from one second to 24 hours. */
function parseTtl(value: string | undefined): number {
  if (value === undefined) return DEFAULTS.auth.ttlSeconds;
  const match = /^([1-9]\d{0,5})([smh])$/.exec(value);
  const seconds = match === null ? 0 : Number(match[1]) * TTL_UNIT_SECONDS[match[2]!]!;
  if (seconds === 0 || seconds > MAX_TTL_SECONDS) {
    throw new ProxyError('ERR_USAGE', `--ttl "${value}" is not a duration from 1s to 24h`);
  }
  return seconds;
}

function readThumbprint(file: string): string {
  const pem = readMaterialFile(file, 'certificate');
  try {
    return certificateThumbprint(new X509Certificate(pem).raw);
  } catch (err) {
    throw new ProxyError('ERR_PKI_MATERIAL_INVALID', `${file} is not a PEM certificate`, {
      cause: err,
    });
  }
}

function readIssuerKey(file: string): string {
  return readMaterialFile(file, 'token issuer key').toString('utf8');
}
