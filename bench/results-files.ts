// Where a run's files go: bench/results/bench-<timestamp>.<extension>, one name per run.

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** bench/results/ in the repository, from the compiled location dist/bench/. */
const RESULTS_DIR = path.resolve(__dirname, '..', '..', 'bench', 'results');

/** The ISO 8601 basic form (20250101T120000Z): sortable, and no ':' to trouble file systems. */
function fileTimestamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/**
 * The path of the file with `extension` (`json`, `svg`) of the run started at `startedAt`; `run`
 * names the kind of run (`bench`, `soak`).
 */
export function resultsFile(startedAt: Date, extension: string, run = 'bench'): string {
  return path.join(RESULTS_DIR, `${run}-${fileTimestamp(startedAt)}.${extension}`);
}

/** Writes `text` to `file`, creating bench/results/ first; throws when it cannot. */
export function writeResultsFile(file: string, text: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}
