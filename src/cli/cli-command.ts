// The shape of an `infergate` command and the argument parsing they share.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ProxyError } from '../errors/proxy-error';

/** Where a command writes for people (help, errors); logs go through pino instead. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** One `infergate` command. `run` resolves with the exit code once the command is done. */
export interface CliCommand {
  readonly name: string;
  readonly summary: string;
  readonly help: string;
  run(args: readonly string[], io: CliIo): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses flags strictly: an unknown flag or a stray argument is an ERR_USAGE error. */
export function parseFlags<T extends Options>(args: readonly string[], options: T) {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new ProxyError('ERR_USAGE', (err as Error).message.split('\n', 1)[0]!, { cause: err });
  }
}

/** Reads a port flag: an integer from 0 (any free port) to 65535. */
export function parsePort(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535) {
    throw new ProxyError('ERR_USAGE', `--${flag} "${value}" is not a port from 0 to 65535`);
  }
  return port;
}

/** Reads a non-negative integer flag. */
export function parseCount(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value)) {
    throw new ProxyError('ERR_USAGE', `--${flag} "${value}" is not a non-negative integer`);
  }
  return Number(value);
}
