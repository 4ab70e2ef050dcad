// Commands made of subcommands (`certs`, `audit`, `audit keys`): help and dispatch in one place.

import { ProxyError } from '../errors/proxy-error';
import type { CliCommand, CliIo } from './cli-command';

/** The list of subcommands for a command's help, one aligned line each. */
export function subcommandLines(subcommands: readonly CliCommand[]): string {
  return subcommands.map((command) => `  ${command.name.padEnd(10)}${command.summary}`).join('\n');
}

/**
 * Runs the subcommand `args` names. With no subcommand, or help asked for, prints `help` on
 * stdout: exit 2 when nothing was asked (like a bare `infergate`), 0 for help. Throws
 * ERR_USAGE for a name no subcommand has, naming `path` (`infergate audit keys`).
 */
export function runSubcommand(
  args: readonly string[],
  io: CliIo,
  subcommands: readonly CliCommand[],
  path: string,
  help: string,
): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    io.stdout.write(`${help}\n`);
    return Promise.resolve(name === undefined ? 2 : 0);
  }
  const subcommand = subcommands.find((candidate) => candidate.name === name);
  if (subcommand === undefined) {
    const message = `unknown subcommand "${name}"; run ${path} --help for the list`;
    throw new ProxyError('ERR_USAGE', message);
  }
  return subcommand.run(rest, io);
}
