// The program a worker of `infergate start --workers N` runs: the `start` command line its
// primary was given, which finds itself forked as a worker.

import cluster from 'node:cluster';
import { main } from '../cli/main';

main(process.argv.slice(2)).then(
  (code) => leavePrimary(code),
  (err: unknown) => {
    process.stderr.write(`infergate: ${err instanceof Error ? err.stack : String(err)}\n`);
    leavePrimary(1);
  },
);

/**
 * Ends the worker with `code`. The open channel to the primary keeps a worker alive; once it is
 * closed the process ends as any other does, after its last write is out.
 */
function leavePrimary(code: number): void {
  process.exitCode = code;
  cluster.worker?.disconnect();
}
