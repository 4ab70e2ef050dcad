// `infergate certs`: makes and manages the CA, certificates and CRL that mTLS needs.

import type { CliCommand } from './cli-command';
import { runSubcommand, subcommandLines } from './cli-subcommands';
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
  return `Usage: infergate certs <subcommand> [options]

Makes and manages the certificates infergate's mTLS rests on: a CA, server and client
certificates signed by it (RSA 2048, SHA-256), and the CA's certificate revocation list. Keys
are written readable by their owner only, and every file is replaced atomically, so a gateway
watching them never reads half a file.

Subcommands:
${subcommandLines(SUBCOMMANDS)}

Run infergate certs <subcommand> --help for its options.`;
}

/** `certs`: dispatches to a subcommand. */
export const certsCommand: CliCommand = {
  name: 'certs',
  summary: 'make and manage the CA, certificates and CRL for mTLS',
  help: help(),

  run(args, io) {
    return runSubcommand(args, io, SUBCOMMANDS, 'infergate certs', help());
  },
};
