// infergate's own version, as package.json states it, read once.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The version in package.json; compiled files live in dist/src, two folders below the root. */
export const PACKAGE_VERSION: string = readPackageVersion();

function readPackageVersion(): string {
  const manifest: unknown = JSON.parse(
    readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'),
  );
  return String((manifest as { version?: unknown }).version);
}
