// The root pino logger: created once in main and passed down, with secrets redacted.

import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino replaces with `[redacted]`. Payload text never reaches a log call on purpose;
 * this list is the second defence against credentials and bodies that slip into a field.
 * Exact paths only: a wildcard makes pino walk every logged object, on every access line.
 */
const REDACTED_PATHS = [
  'authorization',
  'cookie',
  'headers.authorization',
  'headers.cookie',
  'headers["proxy-authorization"]',
  'headers["x-api-key"]',
  'key',
  'tls.key',
  'credentials',
  'body',
  'prompt',
  'payload',
];

/** How long a log line may wait in the stdout buffer before it is written. */
const STDOUT_FLUSH_INTERVAL_MS = 100;

/**
 * Creates the root logger; `destination` defaults to stdout and is a capture sink in tests.
 * Stdout is written in batches (one write per few KiB or every 100 ms) rather than one write
 * per access line, which costs the proxy a system call per exchange; pino flushes what is
 * buffered when the process exits.
 */
export function createRootLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'infergate' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return pino(options, destination ?? bufferedStdout());
}

function bufferedStdout(): DestinationStream {
  const stdout = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  setInterval(() => stdout.flush(), STDOUT_FLUSH_INTERVAL_MS).unref();
  return stdout;
}
