// Test-only fixtures: the KServe protos loaded with protobufjs, to encode reference messages.

import { existsSync } from 'node:fs';
import path from 'node:path';

import * as protobuf from 'protobufjs';

/** Walks up from `from` until a folder holding package.json is found (tests run from dist/). */
export function findRepoRoot(from: string = __dirname): string {
  let dir = from;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
  return dir;
}

/** Loads protos/kserve/grpc_service.proto, resolving its imports inside protos/kserve/. */
export function loadKserveRoot(): protobuf.Root {
  const protoDir = path.join(findRepoRoot(), 'protos', 'kserve');
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) =>
    path.isAbsolute(target) ? target : path.join(protoDir, target);
  root.loadSync(path.join(protoDir, 'grpc_service.proto'), { keepCase: true });
  return root;
}

/** Looks up a message of package `inference` by name. */
export function kserveType(root: protobuf.Root, name: string): protobuf.Type {
  return root.lookupType(`inference.${name}`);
}

/** Encodes a plain object as `type` with protobufjs; the Buffer owns its bytes. */
export function encodeWith(type: protobuf.Type, message: Record<string, unknown>): Buffer {
  return Buffer.from(type.encode(message).finish());
}

/** The `{ low, high }` words protobufjs writes for an int64 / uint64 that may not fit a double. */
export function toLongBits(value: bigint): { low: number; high: number } {
  const bits = BigInt.asUintN(64, value);
  return { low: Number(bits & 0xffffffffn) | 0, high: Number(bits >> 32n) | 0 };
}
