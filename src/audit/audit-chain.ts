// The hash chain of an audit log: how a frame commits to the one before it.

import { createHash } from 'node:crypto';

/**
 * Domain prefixes keep the chain's hashes apart from every other SHA-256 in the system: a
 * frame hash can never be passed off as a genesis value or a signed statement, and the other
 * way round (a second-preimage trick across contexts).
 */
const FRAME_DOMAIN = Buffer.from('infergate.audit.frame.v1\n');
const GENESIS_DOMAIN = Buffer.from('infergate.audit.genesis.v1\n');

/** Bytes of a SHA-256 digest. */
export const HASH_BYTES = 32;

/** The hash of an encoded frame: what the next frame carries as `previous_hash`. */
export function frameHash(encodedFrame: Uint8Array): Buffer {
  return createHash('sha256').update(FRAME_DOMAIN).update(encodedFrame).digest();
}

/** What the first frame of `logId` carries as `previous_hash`, binding the chain to its log. */
export function genesisHash(logId: string): Buffer {
  return createHash('sha256').update(GENESIS_DOMAIN).update(logId, 'utf8').digest();
}
