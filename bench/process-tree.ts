// A child process and the processes it started (nginx's master and its worker), from procfs.

import { readFileSync } from 'node:fs';

/**
 * `pid` and its descendants that are alive now, from /proc/<pid>/task/<tid>/children (Linux
 * 3.5 and later). Only `pid` where that file is missing, and nothing when `pid` has gone.
 * Limitation: children of threads other than the main one are not listed; neither Node nor
 * nginx starts processes from another thread.
 */
export function processTree(pid: number): number[] {
  if (!alive(pid)) return [];
  const pids = [pid];
  for (let index = 0; index < pids.length; index += 1) {
    pids.push(...childrenOf(pids[index]!));
  }
  return pids;
}

function alive(pid: number): boolean {
  try {
    readFileSync(`/proc/${pid}/stat`);
    return true;
  } catch {
    // Gone, or no procfs (macOS, Windows): there is nothing to read of it either way.
    return false;
  }
}

function childrenOf(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return text === '' ? [] : text.split(' ').map(Number);
  } catch {
    // A kernel without the children file: the process is counted alone.
    return [];
  }
}
