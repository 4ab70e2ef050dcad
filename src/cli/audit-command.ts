// `infergate audit`: works with the signed audit log and the keys it rests on.

import { auditExportCommand } from './audit-export-command';
import { auditKeysCommand } from './audit-keys-command';
import { auditReplayCommand } from './audit-replay-command';
import { auditUnsealCommand } from './audit-unseal-command';
import { auditVerifyCommand } from './audit-verify-command';
import type { CliCommand } from './cli-command';
import { runSubcommand, subcommandLines } from './cli-subcommands';

/** Each subcommand of `audit`. */
const SUBCOMMANDS: readonly CliCommand[] = [
  auditKeysCommand,
  auditVerifyCommand,
  auditExportCommand,
  auditReplayCommand,
  auditUnsealCommand,
];

function help(): string {
  return `Usage: infergate audit <subcommand> [options]

Works with infergate's audit log: hash-chained frames, committed to by checkpoints signed with
Ed25519 keys kept in a key directory, and originals sealed to the security team's X25519 key.

Subcommands:
${subcommandLines(SUBCOMMANDS)}

Run infergate audit <subcommand> --help for its options.`;
}

/** `audit`: dispatches to a subcommand. */
export const auditCommand: CliCommand = {
  name: 'audit',
  summary: 'verify and export the audit log, and manage its keys',
  help: help(),

  run(args, io) {
    return runSubcommand(args, io, SUBCOMMANDS, 'infergate audit', help());
  },
};
