// Finds the repository's protos/ folder from compiled code, wherever the build put it.

import fs from 'node:fs';
import path from 'node:path';

/** Marker file that identifies the protos folder when walking up from this file. */
const MARKER_RELATIVE_PATH = path.join('kserve', 'grpc_service.proto');

/** Directory levels from a compiled file in dist/src to the repository root. */
const COMPILED_DEPTH = 2;

/** Finds the protos folder by walking up from `startDir` to the first one holding the marker. */
function findProtosDir(startDir: string): string {
  let dir = startDir;
  for (;;) {
    const candidate = path.join(dir, 'protos');
    if (fs.existsSync(path.join(candidate, MARKER_RELATIVE_PATH))) {
      return candidate;
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      // Nothing found: point where a normal build layout puts it so the load error names it.
      return path.join(path.resolve(startDir, ...Array(COMPILED_DEPTH).fill('..')), 'protos');
    }
    dir = parent;
  }
}

/** Absolute path of the repository's protos/ folder (kserve/, grpc/health/v1/, audit.proto). */
export const PROTOS_DIR: string = findProtosDir(__dirname);
