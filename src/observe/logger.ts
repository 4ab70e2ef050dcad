// The root pino logger: created once in main and passed down, with secrets redacted.

import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino replaces with `[redacted]`. Payload text never reaches a log call on purpose;
 * this list is the second defence against credentials and bodies that slip into a field.
 */
const REDACTED_PATHS = [
  'authorization',
  'cookie',
  'headers.authorization',
  'headers.cookie',
  'headers["proxy-authorization"]',
  'headers["x-api-key"]',
  '*.authorization',
  '*.cookie',
  'key',
  'tls.key',
  'credentials',
  'body',
  'prompt',
  'payload',
];

/** Creates the root logger; `destination` defaults to stdout and is a capture sink in tests. */
export function createRootLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'infergate' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
