// The files a configuration names: resolved against its folder, read once, problems recorded.

import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { ConfigIssue } from './config-error';

/** `file` as an absolute path; relative paths start at the configuration file's folder. */
export function configPath(file: string, baseDir: string): string {
  return isAbsolute(file) ? file : resolve(baseDir, file);
}

/**
 * Reads `file` (absent: undefined); a file that cannot be read becomes an issue at `path`
 * naming it and the reason, so every unreadable file is reported with the rest at start-up.
 */
export function readConfigFile(
  file: string | undefined,
  path: string,
  baseDir: string,
  issues: ConfigIssue[],
): Buffer | undefined {
  if (file === undefined) return undefined;
  const absolute = configPath(file, baseDir);
  try {
    return readFileSync(absolute);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    issues.push({ path, reason: `cannot read ${absolute} (${reason})` });
    return undefined;
  }
}
