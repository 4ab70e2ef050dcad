// CPU time used by the bench client and its child processes, to tell which one is saturated.

import { readFileSync } from 'node:fs';
import { processTree } from './process-tree';

/**
 * Length of a Linux clock tick (`USER_HZ`, which is 100 on every mainstream architecture);
 * /proc/<pid>/stat counts CPU time in these ticks, so child figures resolve to 10 ms.
 */
const CLOCK_TICK_MS = 10;

/** Fields of /proc/<pid>/stat after the `(comm)` field: utime and stime (fields 14 and 15). */
const UTIME_INDEX = 11;
const STIME_INDEX = 12;

/** CPU milliseconds (user + system) by process role; undefined where it cannot be read. */
export type CpuTimes = Record<string, number | undefined>;

/** Reads user + system CPU ms of a child from procfs; undefined off Linux or once it is gone. */
function childCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may hold spaces and parentheses, so split only after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[UTIME_INDEX]) + Number(fields[STIME_INDEX]);
    return Number.isFinite(ticks) ? ticks * CLOCK_TICK_MS : undefined;
  } catch {
    // No procfs (macOS, Windows) or the child has exited: the figure is simply not reported.
    return undefined;
  }
}

/**
 * CPU ms of a child and its live descendants (nginx's master and worker); undefined when any
 * cannot be read. Limitation: a descendant that exits between two readings takes its CPU time
 * with it, so a span in which nginx replaced its worker reads too low.
 */
function treeCpuMs(pid: number): number | undefined {
  const pids = processTree(pid);
  if (pids.length === 0) return undefined;
  let total = 0;
  for (const member of pids) {
    const ms = childCpuMs(member);
    if (ms === undefined) return undefined;
    total += ms;
  }
  return total;
}

/**
 * CPU ms used so far by this process (`client`) and by each child pid, with the processes it
 * started, under its role name.
 */
export function readCpuTimes(children: ReadonlyMap<string, number>): CpuTimes {
  const own = process.cpuUsage();
  const times: CpuTimes = { client: (own.user + own.system) / 1_000 };
  for (const [role, pid] of children) {
    times[role] = treeCpuMs(pid);
  }
  return times;
}

/** CPU ms used between two readings, per role; undefined where either reading is missing. */
export function cpuTimesBetween(before: CpuTimes, after: CpuTimes): CpuTimes {
  const used: CpuTimes = {};
  for (const role of Object.keys(after)) {
    const start = before[role];
    const end = after[role];
    used[role] = start === undefined || end === undefined ? undefined : end - start;
  }
  return used;
}

/** Sums spans role by role (`total` undefined: none yet); a gap in either stays undefined. */
export function addCpuTimes(total: CpuTimes | undefined, extra: CpuTimes): CpuTimes {
  if (total === undefined) return { ...extra };
  const sum: CpuTimes = {};
  for (const role of new Set([...Object.keys(total), ...Object.keys(extra)])) {
    const a = total[role];
    const b = extra[role];
    sum[role] = a === undefined || b === undefined ? undefined : a + b;
  }
  return sum;
}
