// Builds the audit trail at run time from configuration: store, signer, log, filters, sessions.

import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { readKeyDirectory } from './audit/audit-key-directory';
import { AuditLog } from './audit/audit-log';
import type { AuditStore } from './audit/audit-store';
import { PostgresAuditStore } from './audit/postgres-store';
import { SegmentFileStore } from './audit/segment-file-store';
import { grpcTextCodec } from './codecs/grpc-text-codec';
import type { GrpcMessage } from './codecs/grpc-message';
import type { HttpMessage } from './codecs/http-message';
import { httpTextCodec } from './codecs/http-text-codec';
import type { AuditConfig, GatewayConfig } from './config/gateway-config';
import { DEFAULTS } from './config/defaults';
import { auditFilterFactory, type AuditSettings } from './filters/audit/audit-filter';
import { AuditSessions } from './filters/audit/audit-sessions';
import { resolveMaskOptions } from './masking/mask-options';
import { compileMaskPattern } from './masking/pattern-masker';
import type { Logger } from './observe/logger';
import { PACKAGE_VERSION } from './package-version';
import type { FilterFactory } from './pipeline/filter';

/** The audit trail at run time: one log per gateway process, shared by every listener. */
export interface GatewayAudit {
  readonly log: AuditLog;
  readonly sessions: AuditSessions;
  /** First in the gRPC listener's chain. */
  readonly grpcFilter: FilterFactory<GrpcMessage>;
  /** First in the HTTP listener's chain. */
  readonly httpFilter: FilterFactory<HttpMessage>;
  /** Records that the gateway serves now, on `listeners` (`grpc=0.0.0.0:9001`, ...). */
  started(listeners: readonly string[]): Promise<void>;
  /** Records a reload of TLS material and, when the key directory names a new key, rotates. */
  reloaded(tlsApplied: boolean): Promise<void>;
  /** Records the stop and closes the log: the last frame is a signed checkpoint. */
  stop(reason: string): Promise<void>;
}

/**
 * Opens the audit log `config.audit` describes, or resolves undefined when there is none.
 * Rejects (ERR_AUDIT_KEY_INVALID, ERR_AUDIT_STORE_INVALID, ERR_AUDIT_UNAVAILABLE) when the keys
 * or the store cannot be used: a gateway that cannot record never starts.
 */
export async function openGatewayAudit(
  config: GatewayConfig,
  logger: Logger,
  store?: AuditStore,
): Promise<GatewayAudit | undefined> {
  const audit = config.audit;
  if (audit === undefined) {
    logger.warn('audit is off: exchanges are not recorded');
    return undefined;
  }
  const keys = readKeyDirectory(audit.signingKeyDir);
  const log = await AuditLog.open({
    logId: audit.logId,
    store: store ?? openStore(audit),
    signingKey: keys.current,
    previousKeys: keys.keys,
    checkpointEveryFrames: audit.checkpointEveryFrames,
    checkpointIntervalMs: audit.checkpointIntervalMs,
    maxPendingFrames: DEFAULTS.audit.maxPendingFrames,
    retryIntervalMs: DEFAULTS.audit.retryIntervalMs,
    logger: logger.child({ component: 'audit' }),
  });
  const sessions = new AuditSessions(log);
  const common = { log, sessions, policy: maskPolicy(config), maxTextBytes: audit.maxTextBytes };
  const grpc: AuditSettings<GrpcMessage> = {
    ...common,
    codec: grpcTextCodec(config.listeners.grpc.maxMessageBytes),
    mayEndResponse: () => false,
  };
  const http: AuditSettings<HttpMessage> = {
    ...common,
    codec: httpTextCodec,
    // A body with a declared length ends with its last message; streams end with a chunk
    // terminator or a close that the listener writes after the trailers hooks.
    mayEndResponse: (message) => message.kind === 'whole-body' || message.kind === 'body-chunk',
    requestFacts: httpRequestFacts,
  };
  logger.info(
    { logId: log.logId, store: describeStore(audit), keyId: log.keyId },
    'audit log open',
  );
  return {
    log,
    sessions,
    grpcFilter: auditFilterFactory(grpc),
    httpFilter: auditFilterFactory(http),
    started: (listeners) => log.append({ gatewayStarted: startedEvent(config, log, listeners) }),
    reloaded: (tlsApplied) => reloaded(log, audit, tlsApplied, logger),
    stop: async (reason) => {
      log.record({ gatewayStopped: { reason } });
      try {
        await log.close();
      } catch (err) {
        // The frames stay where the store left them; the next start reports a torn tail or gap.
        logger.error({ err }, 'audit log not closed cleanly');
      }
    },
  };
}

function openStore(audit: AuditConfig): AuditStore {
  const store = audit.store;
  if (store.kind === 'postgres') {
    return new PostgresAuditStore({ connectionString: store.connectionString, table: store.table });
  }
  return new SegmentFileStore({
    dir: store.dir,
    segmentMaxBytes: store.segmentMaxBytes,
    segmentMaxAgeMs: store.segmentMaxAgeMs,
  });
}

function describeStore(audit: AuditConfig): string {
  return audit.store.kind === 'files' ? audit.store.dir : `postgres table ${audit.store.table}`;
}

/** The masking section's options and patterns: recorded texts are masked as responses are. */
function maskPolicy(config: GatewayConfig) {
  const { keepFirst, keepLast, maskByte, patterns } = config.masking;
  return {
    options: resolveMaskOptions({ keepFirst, keepLast, maskByte }),
    patterns: patterns.map((p) => compileMaskPattern(p.name, p.regex, p.ignoreCase)),
    observe: undefined,
  };
}

function startedEvent(config: GatewayConfig, log: AuditLog, listeners: readonly string[]) {
  return {
    version: PACKAGE_VERSION,
    hostname: hostname(),
    pid: process.pid,
    configurationDigest: configurationDigest(config),
    listeners,
    signingKeyId: log.keyId,
  };
}

/** SHA-256 of the configuration as the gateway runs it, secrets and key bytes included only as digests. */
function configurationDigest(config: GatewayConfig): Buffer {
  const json = JSON.stringify(config, (_key, value: unknown) =>
    Buffer.isBuffer(value) || (value as { type?: string })?.type === 'Buffer'
      ? createHash('sha256')
          .update(Buffer.from(value as Buffer))
          .digest('hex')
      : value,
  );
  return createHash('sha256').update(json).digest();
}

async function reloaded(
  log: AuditLog,
  audit: AuditConfig,
  tlsApplied: boolean,
  logger: Logger,
): Promise<void> {
  log.record({
    configurationChanged: { subject: 'tls', result: tlsApplied ? 'applied' : 'refused' },
  });
  let current;
  try {
    current = readKeyDirectory(audit.signingKeyDir).current;
  } catch (err) {
    logger.error({ err }, 'audit key directory unreadable; signing key unchanged');
    log.record({
      configurationChanged: {
        subject: 'audit.signingKey',
        result: 'refused',
        detail: 'unreadable',
      },
    });
    return;
  }
  await log.rotateKey(current);
}

/** The OpenAI request facts the policy decides on, as strings. */
function httpRequestFacts(message: HttpMessage): Readonly<Record<string, string>> | undefined {
  if (message.kind !== 'request-body' || message.openai === undefined) return undefined;
  const { stream, n, maxTokens, inputCount, toolCount } = message.openai;
  const facts: Record<string, string> = { stream: String(stream) };
  if (n !== undefined) facts.n = String(n);
  if (maxTokens !== undefined) facts.max_tokens = String(maxTokens);
  if (inputCount !== undefined) facts.inputs = String(inputCount);
  if (toolCount > 0) facts.tools = String(toolCount);
  return facts;
}
