// `infergate certs`: makes and manages the CA, certificates and CRL that mTLS needs.

import { ProxyError } from '../errors/proxy-error';
import type { CliCommand } from './cli-command';
import { certsInitCommand, certsRotateCommand } from './certs-development-commands';
import { certsInspectCommand } from './certs-inspect-command';
import { certsIssueCommand, certsRenewCommand } from './certs-issue-commands';
import { certsCrlCommand, certsRevokeCommand } from './certs-revocation-commands';

const SUBCOMMANDS: readonly CliCommand[] = [
  certsInitCommand,
  certsIssueCommand,
  certsRenewCommand,
  certsRevokeCommand,
  certsCrlCommand,
  certsInspectCommand,
  certsRotateCommand,
];

function help(): string {
  const lines = SUBCOMMANDS.map((command) => `  ${command.name.padEnd(10)}${command.summary}`);
  return `Usage: infergate certs <subcommand> [options]

Makes and manages the certificates infergate's mTLS rests on: a CA, server and client
certificates signed by it (RSA 2048, SHA-256), and the CA's certificate revocation list. Keys
are written readable by their owner only, and every file is replaced atomically, so a gateway
watching them never reads half a file.

Subcommands:
${lines.join('\n')}

Run infergate certs <subcommand> --help for its options.`;
}

/** `certs`: dispatches to a subcommand. */
export const certsCommand: CliCommand = {
  name: 'certs',
  summary: 'make and manage the CA, certificates and CRL for mTLS',
  help: help(),

  async run(args, io) {
    const [name, ...rest] = args;
    if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
      io.stdout.write(`${help()}\n`);
      // Like a bare `infergate`: help on stdout, exit 2 (bad usage) when nothing was asked.
      return name === undefined ? 2 : 0;
    }
    const subcommand = SUBCOMMANDS.find((candidate) => candidate.name === name);
    if (subcommand === undefined) {
      throw new ProxyError(
        'ERR_USAGE',
        `unknown subcommand "${name}"; run infergate certs --help for the list`,
      );
    }
    return subcommand.run(rest, io);
  },
};
