// Verifies the audit logs of a store: the engine behind `infergate audit verify`.

import { ProxyError } from '../errors/proxy-error';
import { HASH_BYTES } from './audit-chain';
import { keyIdOf, type AuditVerifyingKey } from './audit-signing';
import type { AuditSource, StoredRecord } from './audit-store';
import { LogChecker, type LogCheckContext } from './audit-verify-log';
import type { AuditReport, AuditVerifyOptions, WitnessHead } from './audit-verify-report';

export type * from './audit-verify-report';
export { AUDIT_BREAK_KINDS } from './audit-verify-report';

const DEFAULT_MAX_BREAKS_PER_LOG = 1000;

/** Where `verifyAudit` reads records from. */
export type AuditRecords = AuditSource | AsyncIterable<StoredRecord> | Iterable<StoredRecord>;

/**
 * Reads every record of `source` once and checks each log on its own, in storage order (the
 * records of several logs may interleave): the chain links and sequences, that the log starts
 * at its genesis, every checkpoint against the frame before it and the trusted keys, every key
 * rotation, and the witness heads given. A break does not stop the run: the checker re-anchors
 * on the frame it just read, so the report lists every break.
 *
 * Trust comes from `options.keys` alone, never from the log: a key a rotation introduces must be
 * given too, or the checkpoints it signs are `checkpoint_unknown_key`. Without a witness head,
 * frames cut off after the last checkpoint only shorten `unsignedTail`: nothing in the store
 * can prove they existed, so an operator who must detect a cut end passes a saved head.
 *
 * Verdicts reach `onFrame` in each log's storage order once settled: at the checkpoint covering
 * them, at a break that cuts them off, or at the end. Witness heads only detect; a matching one
 * does not make a frame verified.
 *
 * Rejects with `ERR_AUDIT_KEY_INVALID` for a key that is not an Ed25519 public key or whose id
 * is not its own (`keyIdOf`), `ERR_USAGE` for a malformed or conflicting witness head or bound;
 * an error thrown by the source or by `onFrame` rejects as it is.
 */
export async function verifyAudit(
  source: AuditRecords,
  options: AuditVerifyOptions,
): Promise<AuditReport> {
  const context: LogCheckContext = {
    trusted: trustedKeys(options.keys),
    onFrame: options.onFrame,
    maxBreaks: maxBreaksOf(options.maxBreaksPerLog),
  };
  const heads = witnessHeadsByLog(options.heads ?? []);

  const checkers = new Map<string, LogChecker>();
  const checkerFor = (logId: string): LogChecker => {
    let checker = checkers.get(logId);
    if (checker === undefined) {
      checker = new LogChecker(logId, context, heads.get(logId) ?? new Map());
      checkers.set(logId, checker);
    }
    return checker;
  };
  for await (const record of recordsOf(source)) checkerFor(record.logId).read(record);
  // A witness head of a log with no record left means the whole log went missing.
  for (const logId of heads.keys()) checkerFor(logId);

  const logs = [...checkers.values()].map((checker) => checker.finish());
  return { ok: logs.every((log) => log.breaks.length === 0 && log.breaksOmitted === 0), logs };
}

/**
 * A key id is a digest of its key (`keyIdOf`); one that is not would let a checkpoint naming a
 * trusted id be checked under some other key, so such a key is refused rather than trusted.
 */
function trustedKeys(keys: readonly AuditVerifyingKey[]): Map<string, AuditVerifyingKey> {
  const trusted = new Map<string, AuditVerifyingKey>();
  for (const key of keys) {
    const { keyId, publicKey } = key;
    if (publicKey?.type !== 'public' || publicKey.asymmetricKeyType !== 'ed25519') {
      throw new ProxyError('ERR_AUDIT_KEY_INVALID', `key ${keyId} is not an Ed25519 public key`);
    }
    const actual = keyIdOf(publicKey);
    if (actual !== keyId) {
      throw new ProxyError('ERR_AUDIT_KEY_INVALID', `key ${keyId} has the key id ${actual}`);
    }
    trusted.set(keyId, key);
  }
  return trusted;
}

function maxBreaksOf(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_BREAKS_PER_LOG;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ProxyError('ERR_USAGE', `maxBreaksPerLog ${value} is not a positive integer`);
  }
  return value;
}

/** The witness heads, by log and sequence; rejects malformed or contradicting heads. */
function witnessHeadsByLog(heads: readonly WitnessHead[]): Map<string, Map<number, Buffer>> {
  const byLog = new Map<string, Map<number, Buffer>>();
  for (const { logId, sequence, hash } of heads) {
    const name = `${logId}:${sequence}`;
    const wellFormed =
      typeof logId === 'string' &&
      logId.length > 0 &&
      Number.isSafeInteger(sequence) &&
      sequence >= 1 &&
      Buffer.isBuffer(hash) &&
      hash.length === HASH_BYTES;
    if (!wellFormed) throw new ProxyError('ERR_USAGE', `witness head ${name} is malformed`);
    const ofLog = byLog.get(logId) ?? new Map<number, Buffer>();
    const known = ofLog.get(sequence);
    if (known !== undefined && !known.equals(hash)) {
      throw new ProxyError('ERR_USAGE', `witness heads ${name} name two different hashes`);
    }
    byLog.set(logId, ofLog.set(sequence, hash));
  }
  return byLog;
}

function recordsOf(source: AuditRecords): AsyncIterable<StoredRecord> | Iterable<StoredRecord> {
  return isAuditSource(source) ? source.records() : source;
}

function isAuditSource(source: AuditRecords): source is AuditSource {
  return typeof (source as Partial<AuditSource>).records === 'function';
}
