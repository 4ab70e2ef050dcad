// Keeps a long-running command alive until SIGINT or SIGTERM, then shuts it down once; SIGHUP
// reloads what can be reloaded.

import type { Logger } from '../observe/logger';

/**
 * Resolves with exit code 0 after the first SIGINT or SIGTERM has run `shutdown`. A second
 * signal while draining exits at once with code 1: an operator who asks twice means it. SIGHUP
 * calls `reload` when given; without it SIGHUP is ignored rather than ending the process.
 */
export function runUntilSignal(
  logger: Logger,
  shutdown: () => Promise<void>,
  reload?: () => void,
): Promise<number> {
  return new Promise((resolve) => {
    process.on('SIGHUP', () => {
      logger.info({ signal: 'SIGHUP' }, 'reloading');
      reload?.();
    });
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.fatal({ signal }, 'second signal, exiting without draining');
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal }, 'shutting down');
      shutdown().then(
        () => resolve(0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
