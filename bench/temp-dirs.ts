// The temporary directories of one benchmark run (audit segment files, the audited gateway's
// keys and frames), removed when the run ends, however it ends.

import { readFileSync, realpathSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * Directories made under `os.tmpdir()` (so `TMPDIR` picks the disk the audit figures are about).
 * `removeAll` runs once the children writing into them have stopped; an exit before it still
 * removes them, so a run leaves no audit frames behind short of a SIGKILL.
 */
export class BenchTempDirs {
  private readonly dirs = new Set<string>();

  constructor() {
    process.once('exit', () => this.removeAllNow());
  }

  /** Makes a new empty directory named `infergate-bench-<what>-XXXXXX`. */
  async make(what: string): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), `infergate-bench-${what}-`));
    this.dirs.add(dir);
    return dir;
  }

  /** Removes `dir` and everything in it; rejects when it cannot be removed. */
  async remove(dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true });
    this.dirs.delete(dir);
  }

  /** Removes every directory still made; call it after the children are stopped. */
  async removeAll(): Promise<void> {
    for (const dir of [...this.dirs]) await this.remove(dir);
  }

  private removeAllNow(): void {
    for (const dir of this.dirs) {
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // Exiting anyway: a directory left in the temp folder is no reason to fail the exit.
      }
    }
  }
}

/**
 * The file system type and mount point holding `dir` (`ext4 at /`), from /proc/mounts; `unknown`
 * off Linux. fdatasync on tmpfs returns at once, so audit figures mean something only on the
 * file system a gateway's audit directory would use.
 */
export function fileSystemOf(dir: string): string {
  let mounts: string;
  try {
    mounts = readFileSync('/proc/mounts', 'utf8');
  } catch {
    // No procfs (macOS, Windows): the figures stand, without the file system's name.
    return 'unknown';
  }
  const real = realpathSync(dir);
  let found = { point: '', type: 'unknown' };
  for (const line of mounts.split('\n')) {
    const [, point, type] = line.split(' ');
    if (point === undefined || type === undefined) continue;
    const within = point === '/' || real === point || real.startsWith(`${point}/`);
    if (within && point.length >= found.point.length) found = { point, type };
  }
  return found.point === '' ? 'unknown' : `${found.type} at ${found.point}`;
}
