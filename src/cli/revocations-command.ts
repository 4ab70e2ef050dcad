// `infergate revocations`: adds, lists and removes the revocations every gateway replica shares,
// in their PostgreSQL table.

import { userInfo } from 'node:os';
import { printableText } from '../audit/audit-transcript-text';
import { readEnvironment } from '../config/environment';
import { loadConfigFile } from '../config/load-config';
import { ProxyError } from '../errors/proxy-error';
import { certificateThumbprint } from '../identity/peer-certificate';
import { readCertificateFile } from '../identity/pki/certificate-pem';
import { PostgresRevocationStore } from '../revocations/postgres-revocation-store';
import {
  isRevocationValue,
  type Revocation,
  type RevocationKind,
} from '../revocations/revocation-record';
import { requiredFlag, wroteHelp } from './certs-flags';
import { parseFlags, type CliCommand, type CliIo } from './cli-command';
import { runSubcommand, subcommandLines } from './cli-subcommands';

const STORE_FLAGS = {
  pg: { type: 'string' },
  table: { type: 'string' },
  config: { type: 'string', short: 'c' },
} as const;

const CHANGE_FLAGS = {
  certificate: { type: 'string' },
  thumbprint: { type: 'string' },
  'token-id': { type: 'string' },
  reason: { type: 'string' },
  by: { type: 'string' },
  ...STORE_FLAGS,
  help: { type: 'boolean', short: 'h' },
} as const;

const LIST_FLAGS = {
  json: { type: 'boolean' },
  ...STORE_FLAGS,
  help: { type: 'boolean', short: 'h' },
} as const;

type StoreFlagValues = { readonly pg?: string; readonly table?: string; readonly config?: string };
type ChangeFlagValues = ReturnType<typeof parseFlags<typeof CHANGE_FLAGS>>;

const MAX_REASON_CHARS = 500;
const MAX_NAME_CHARS = 200;

const STORE_HELP = `      --pg URL               the PostgreSQL database (postgres://user:pass@host/db)
      --table T              the table --pg names; infergate_revocations unless given
  -c, --config FILE          the table the revocations section of an infergate.yaml names
  -h, --help                 show this help`;

const TARGET_HELP = `      --certificate FILE     a client certificate (PEM), named by its x5t#S256 thumbprint
      --thumbprint T         a certificate's thumbprint, as infergate certs inspect prints it
      --token-id JTI         one access token, by its jti claim`;

const EXIT_HELP =
  'Exits 0 on success, 1 when the table cannot be used or holds no such revocation, 2 on bad usage.';

/** What is revoked or withdrawn. */
interface Target {
  readonly kind: RevocationKind;
  readonly value: string;
}

const addCommand: CliCommand = {
  name: 'add',
  summary: 'revoke a certificate or a token on every gateway',
  help: `Usage: infergate revocations add (--certificate FILE | --thumbprint T | --token-id JTI)
                      --reason TEXT [--by NAME] (--pg URL [--table T] | --config FILE)

Revokes a client certificate or one access token in the table every gateway replica reads,
creating the table when it does not exist. Each gateway refuses it from its next refresh
(every 5 s by default). Revoking the same value twice keeps the first revocation.

${EXIT_HELP}

Options:
${TARGET_HELP}
      --reason TEXT          why, in 1-${MAX_REASON_CHARS} characters; stored with the revocation
      --by NAME              who revokes; the operating-system user unless given
${STORE_HELP}`,

  async run(args, io) {
    const flags = parseFlags(args, CHANGE_FLAGS);
    if (wroteHelp(flags.help, this, io)) return 0;
    const target = targetOf(flags);
    const change = { ...target, reason: reasonOf(flags), revokedBy: revokerOf(flags) };
    const store = storeOf(flags);

    return withStore(store, async () => {
      const { added, revocation } = await store.add(change);
      const what = `${target.kind} ${target.value}`;
      const line = added ? `revoked ${what}` : `${what} was revoked already`;
      write(io, `${line}: ${describe(revocation)}`);
      return 0;
    });
  },
};

const removeCommand: CliCommand = {
  name: 'remove',
  summary: 'withdraw a revocation made by mistake',
  help: `Usage: infergate revocations remove (--certificate FILE | --thumbprint T | --token-id JTI)
                         --reason TEXT [--by NAME] (--pg URL [--table T] | --config FILE)

Deletes a revocation from the table; each gateway accepts the certificate or token again from
its next refresh. The table keeps no trace of it: the line printed says what was withdrawn,
when it had been revoked, by whom and why, and who withdrew it and why. Keep it.

${EXIT_HELP}

Options:
${TARGET_HELP}
      --reason TEXT          why it is withdrawn, in 1-${MAX_REASON_CHARS} characters
      --by NAME              who withdraws it; the operating-system user unless given
${STORE_HELP}`,

  async run(args, io) {
    const flags = parseFlags(args, CHANGE_FLAGS);
    if (wroteHelp(flags.help, this, io)) return 0;
    const target = targetOf(flags);
    const reason = reasonOf(flags);
    const by = revokerOf(flags);
    const store = storeOf(flags);

    return withStore(store, async () => {
      const removed = await store.remove(target.kind, target.value);
      const what = `${target.kind} ${target.value}`;
      if (removed === undefined) return failed(io, `${what} is not revoked`);
      const withdrawal = `by ${JSON.stringify(by)}: ${JSON.stringify(reason)}`;
      write(io, `withdrew the revocation of ${what} (${describe(removed)}) ${withdrawal}`);
      return 0;
    });
  },
};

const listCommand: CliCommand = {
  name: 'list',
  summary: 'list every revocation',
  help: `Usage: infergate revocations list [--json] (--pg URL [--table T] | --config FILE)

Lists every revocation of the table, oldest first: an aligned table, or with --json one JSON
object per line (id, kind, value, revokedAt, reason, revokedBy).

${EXIT_HELP}

Options:
      --json                 JSON lines instead of a table
${STORE_HELP}`,

  async run(args, io) {
    const flags = parseFlags(args, LIST_FLAGS);
    if (wroteHelp(flags.help, this, io)) return 0;
    const store = storeOf(flags);

    return withStore(store, async () => {
      const revocations = await store.readAll();
      if (flags.json === true) {
        for (const revocation of revocations) io.stdout.write(`${JSON.stringify(revocation)}\n`);
      } else {
        const lines = revocations.length === 0 ? ['no revocations'] : revocationTable(revocations);
        for (const line of lines) write(io, line);
      }
      return 0;
    });
  },
};

/** Exactly one of the three target flags, its value checked before any connection is made. */
function targetOf(flags: ChangeFlagValues): Target {
  const given = [flags.certificate, flags.thumbprint, flags['token-id']];
  if (given.filter((value) => value !== undefined).length !== 1) {
    throw usage('give one of --certificate, --thumbprint and --token-id');
  }
  if (flags.certificate !== undefined) {
    const certificate = readCertificateFile(flags.certificate);
    return { kind: 'certificate', value: certificateThumbprint(certificate.x509.raw) };
  }
  if (flags.thumbprint !== undefined) {
    if (!isRevocationValue('certificate', flags.thumbprint)) {
      const shown = printableText(flags.thumbprint);
      throw usage(
        `--thumbprint "${shown}" is not an x5t#S256 thumbprint (43 base64url characters)`,
      );
    }
    return { kind: 'certificate', value: flags.thumbprint };
  }
  return { kind: 'token', value: tokenIdOf(flags['token-id']!) };
}

/** The value is never echoed: given by mistake, it could be the token itself. */
function tokenIdOf(value: string): string {
  if (/^eyJ[\w-]*\.[\w-]*\.[\w-]*$/.test(value)) {
    throw usage("--token-id takes the token's jti claim, not the token");
  }
  if (!isRevocationValue('token', value)) {
    throw usage('--token-id must be 1-256 printable ASCII characters without spaces');
  }
  return value;
}

function reasonOf(flags: ChangeFlagValues): string {
  const reason = requiredFlag('reason', flags.reason);
  if (reason.length > MAX_REASON_CHARS) {
    throw usage(`--reason has ${reason.length} characters; at most ${MAX_REASON_CHARS} are kept`);
  }
  return reason;
}

function revokerOf(flags: ChangeFlagValues): string {
  const name = flags.by ?? operatorName();
  if (name.length === 0 || name.length > MAX_NAME_CHARS) {
    throw usage(`--by must be 1-${MAX_NAME_CHARS} characters`);
  }
  return name;
}

/** The operating-system user; some containers run as a uid without a name. */
function operatorName(): string {
  try {
    return userInfo().username;
  } catch {
    // No passwd entry: the revocation is still made, and --by says who when it matters.
    return 'unknown';
  }
}

/** The table the flags name; throws ERR_USAGE unless exactly one of --pg and --config is given. */
function storeOf(flags: StoreFlagValues): PostgresRevocationStore {
  const { pg, table, config } = flags;
  if ((pg === undefined) === (config === undefined)) {
    throw usage('give one of --pg and --config');
  }
  if (table !== undefined && pg === undefined) throw usage('--table needs --pg');
  if (pg !== undefined) return new PostgresRevocationStore({ connectionString: pg, table });

  const section = loadConfigFile(config!, readEnvironment(), {}).revocations;
  if (section === undefined) throw usage(`${config} has no revocations section`);
  return new PostgresRevocationStore(section.postgres);
}

/** Opens the table (creating it when missing), runs `work`, and closes it whatever happens. */
async function withStore(
  store: PostgresRevocationStore,
  work: () => Promise<number>,
): Promise<number> {
  try {
    await store.open();
    return await work();
  } finally {
    await store.close();
  }
}

/** When, by whom and why, on one line: names and reasons are quoted as JSON strings. */
function describe(revocation: Revocation): string {
  const { id, revokedAt, revokedBy, reason } = revocation;
  const who = JSON.stringify(revokedBy);
  return `id ${id}, revoked ${revokedAt.toISOString()} by ${who}: ${JSON.stringify(reason)}`;
}

const TABLE_HEADINGS = ['ID', 'KIND', 'VALUE', 'REVOKED', 'BY', 'REASON'];

/** One aligned row per revocation under a heading row. */
function revocationTable(revocations: readonly Revocation[]): string[] {
  const rows = revocations.map((revocation) =>
    [
      revocation.id,
      revocation.kind,
      revocation.value,
      revocation.revokedAt.toISOString(),
      revocation.revokedBy,
      revocation.reason,
    ].map(cellText),
  );
  const widths = TABLE_HEADINGS.map((heading, column) =>
    Math.max(heading.length, ...rows.map((row) => row[column]!.length)),
  );
  return [TABLE_HEADINGS, ...rows].map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd(),
  );
}

/** A cell on one line: a tab or line break in a reason would break the table's columns. */
function cellText(text: string): string {
  return printableText(text).replace(/[\t\n]/g, ' ');
}

/** Writes one line with every terminal-driving character escaped. */
function write(io: CliIo, line: string): void {
  io.stdout.write(`${printableText(line)}\n`);
}

function failed(io: CliIo, message: string): number {
  io.stderr.write(`infergate revocations: ${printableText(message)}\n`);
  return 1;
}

function usage(message: string): ProxyError {
  return new ProxyError('ERR_USAGE', message);
}

const SUBCOMMANDS: readonly CliCommand[] = [addCommand, listCommand, removeCommand];

function help(): string {
  return `Usage: infergate revocations <subcommand> [options]

Works with the revocations every gateway replica shares through PostgreSQL (the revocations
section): client certificates by thumbprint, access tokens by jti. Each gateway reads the table
every refreshIntervalMs and refuses what it names. Every subcommand creates the table when it
does not exist yet.

Subcommands:
${subcommandLines(SUBCOMMANDS)}

Run infergate revocations <subcommand> --help for its options.`;
}

/** `revocations`: dispatches to a subcommand. */
export const revocationsCommand: CliCommand = {
  name: 'revocations',
  summary: 'revoke certificates and tokens on every replica',
  help: help(),

  run(args, io) {
    return runSubcommand(args, io, SUBCOMMANDS, 'infergate revocations', help());
  },
};
