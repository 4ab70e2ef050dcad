// Resident memory of a target's serving processes, as the kernel counts it.

import { readFileSync } from 'node:fs';
import { processTree } from './process-tree';

/** Bytes in a kilobyte as /proc/<pid>/status counts VmRSS (`kB` there is 1,024 bytes). */
const STATUS_KB_BYTES = 1_024;

/** VmRSS of one process in bytes; undefined when it has gone or off Linux. */
function rssBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    return match === null ? undefined : Number(match[1]) * STATUS_KB_BYTES;
  } catch {
    // Gone, or no procfs (macOS, Windows): the figure is simply not reported.
    return undefined;
  }
}

/**
 * VmRSS of `pid` and its live descendants together (a gateway alone, nginx's master and worker),
 * in bytes; undefined when any of them cannot be read. Pages shared between the processes count
 * once per process, as each would be charged alone.
 */
export function treeRssBytes(pid: number): number | undefined {
  const pids = processTree(pid);
  if (pids.length === 0) return undefined;
  let total = 0;
  for (const member of pids) {
    const bytes = rssBytes(member);
    if (bytes === undefined) return undefined;
    total += bytes;
  }
  return total;
}
