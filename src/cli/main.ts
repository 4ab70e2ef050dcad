// The `infergate` command line: dispatches to a command and turns errors into exit codes.

import { ConfigError } from '../config/config-error';
import { isProxyError } from '../errors/proxy-error';
import { PACKAGE_VERSION } from '../package-version';
import { auditCommand } from './audit-command';
import type { CliCommand, CliIo } from './cli-command';
import { certsCommand } from './certs-command';
import { demoServerCommand } from './demo-server-command';
import { inferCommand } from './infer-command';
import { maskCommand } from './mask-command';
import { reviewsCommand } from './reviews-command';
import { revocationsCommand } from './revocations-command';
import { startCommand } from './start-command';
import { tokenCommand } from './token-command';

const COMMANDS: readonly CliCommand[] = [
  startCommand,
  inferCommand,
  demoServerCommand,
  certsCommand,
  tokenCommand,
  maskCommand,
  auditCommand,
  reviewsCommand,
  revocationsCommand,
];

/** Exit codes: 0 done, 1 failure while running, 2 bad usage or configuration. */
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

function usage(): string {
  const lines = COMMANDS.map((command) => `  ${command.name.padEnd(14)}${command.summary}`);
  return `Usage: infergate <command> [options]

infergate is a gateway for self-hosted AI models: KServe v2 (Triton) gRPC clients point at it
instead of the model server, and every call passes one enforcement point.

Commands:
${lines.join('\n')}

Options:
  -h, --help     show this help; infergate <command> --help describes a command
  -v, --version  print the version

Run infergate start with no options to try it on the bundled demo model server.`;
}

/** Runs the command line `args` (without node and the script); resolves with the exit code. */
export async function main(args: readonly string[], io: CliIo = process): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    io.stdout.write(`${usage()}\n`);
    return name === undefined ? EXIT_USAGE : 0;
  }
  if (name === '-v' || name === '--version') {
    io.stdout.write(`${PACKAGE_VERSION}\n`);
    return 0;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (command === undefined) {
    io.stderr.write(`infergate: unknown command "${name}"\n\n${usage()}\n`);
    return EXIT_USAGE;
  }

  try {
    return await command.run(rest, io);
  } catch (err) {
    return reportError(err, command, io);
  }
}

function reportError(err: unknown, command: CliCommand, io: CliIo): number {
  if (err instanceof ConfigError) {
    io.stderr.write(`infergate ${command.name}: ${err.message}:\n${err.describe()}\n`);
    return EXIT_USAGE;
  }
  if (isProxyError(err)) {
    io.stderr.write(`infergate ${command.name}: ${err.message} (${err.code})\n`);
    return err.code === 'ERR_USAGE' || err.code.startsWith('ERR_CONFIG')
      ? EXIT_USAGE
      : EXIT_FAILURE;
  }
  const message = err instanceof Error ? err.message : String(err);
  io.stderr.write(`infergate ${command.name}: ${message}\n`);
  return EXIT_FAILURE;
}
