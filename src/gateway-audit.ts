// Builds the audit trail at run time from configuration: store, signer, log, filters, sessions.

import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { readKeyDirectory } from './audit/audit-key-directory';
import { AuditLog, type AuditLogMetrics } from './audit/audit-log';
import type { AuditSource, AuditStore } from './audit/audit-store';
import { PostgresAuditSource } from './audit/postgres-source';
import { PostgresAuditStore } from './audit/postgres-store';
import { sealingPublicKeyFromPem } from './audit/sealing-key';
import { SegmentFileSource } from './audit/segment-file-source';
import { SegmentFileStore } from './audit/segment-file-store';
import type { GrpcMessage } from './codecs/grpc-message';
import type { HttpMessage } from './codecs/http-message';
import type { ListenerTextCodecs } from './codecs/shared-text-codec';
import type { AuditConfig, GatewayConfig } from './config/gateway-config';
import { DEFAULTS } from './config/defaults';
import { auditFilterFactory, type AuditSettings } from './filters/audit/audit-filter';
import { originalsTapFactory, type AuditSealing } from './filters/audit/audit-originals';
import { grpcRequestFacts, httpRequestFacts } from './filters/audit/audit-request-facts';
import { AuditSessions } from './filters/audit/audit-sessions';
import type { LoadedCertificate } from './identity/tls-material';
import { textMaskPolicy } from './filters/masking/masking-settings';
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
  /** Last in each chain when originals are sealed: they read responses before masking. */
  readonly grpcOriginals: FilterFactory<GrpcMessage> | undefined;
  readonly httpOriginals: FilterFactory<HttpMessage> | undefined;
  /**
   * Records that the gateway serves now, on `listeners` (`grpc=0.0.0.0:9001`, ...), with the
   * certificates it presents and trusts.
   */
  started(listeners: readonly string[], certificates: readonly LoadedCertificate[]): Promise<void>;
  /**
   * Records a reload of TLS material and the certificates it brought; rotates the signing key
   * when the key directory names a new one.
   */
  reloaded(tlsApplied: boolean, certificates: readonly LoadedCertificate[]): Promise<void>;
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
  texts: ListenerTextCodecs,
  store?: AuditStore,
  metrics?: AuditLogMetrics,
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
    metrics,
  });
  const sessions = new AuditSessions(log);
  const sealing = sealingOf(audit);
  const maxTextBytes = audit.maxTextBytes;
  const common = { log, sessions, policy: textMaskPolicy(config), maxTextBytes, sealing };
  const grpc: AuditSettings<GrpcMessage> = {
    ...common,
    codec: texts.grpc,
    mayEndResponse: () => false,
    requestFacts: grpcRequestFacts(config.listeners.grpc.maxMessageBytes),
  };
  const grpcCodec = grpc.codec;
  const http: AuditSettings<HttpMessage> = {
    ...common,
    codec: texts.http,
    // A body with a declared length ends with its last message; streams end with a chunk
    // terminator or a close that the listener writes after the trailers hooks.
    mayEndResponse: (message) => message.kind === 'whole-body' || message.kind === 'body-chunk',
    requestFacts: httpRequestFacts,
  };
  const inventory = new CertificateInventory(log);
  logger.info(
    { logId: log.logId, store: describeStore(audit), keyId: log.keyId },
    'audit log open',
  );
  return {
    log,
    sessions,
    grpcFilter: auditFilterFactory(grpc),
    httpFilter: auditFilterFactory(http),
    grpcOriginals: sealing && originalsTapFactory(sealing, grpcCodec, maxTextBytes),
    httpOriginals: sealing && originalsTapFactory(sealing, texts.http, maxTextBytes),
    started: (listeners, certificates) => {
      const started = log.append({ gatewayStarted: startedEvent(config, log, listeners) });
      inventory.record(certificates);
      return started;
    },
    reloaded: (tlsApplied, certificates) => {
      inventory.record(certificates);
      return reloaded(log, audit, tlsApplied, logger);
    },
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

/** The security team's key, when originals are sealed; throws ERR_AUDIT_KEY_INVALID for a bad one. */
function sealingOf(audit: AuditConfig): AuditSealing | undefined {
  if (audit.sealingKeyPem === undefined) return undefined;
  const recipient = sealingPublicKeyFromPem(audit.sealingKeyPem, 'audit.sealingKeyFile');
  return { recipient, responses: new WeakMap() };
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

/**
 * A reader of the store `audit` names: of log `logId` alone (the admin listener's unseal), or
 * of every log (the audit commands). Throws ERR_AUDIT_STORE_INVALID for a log id that cannot
 * name a segment.
 */
export function openAuditSource(audit: AuditConfig, logId?: string): AuditSource {
  const store = audit.store;
  const logIds = logId === undefined ? undefined : [logId];
  if (store.kind === 'postgres') {
    const { connectionString, table } = store;
    return new PostgresAuditSource({ connectionString, table, logIds });
  }
  return new SegmentFileSource({ dir: store.dir, logIds });
}

function describeStore(audit: AuditConfig): string {
  return audit.store.kind === 'files' ? audit.store.dir : `postgres table ${audit.store.table}`;
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

/**
 * SHA-256 of the configuration as the gateway runs it; secrets and key bytes enter it only as
 * their own digests, so the record proves which configuration ran without holding a secret.
 */
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

/** Records each certificate the gateway loads once: at start-up, and after a reload changed it. */
class CertificateInventory {
  private readonly known = new Set<string>();

  constructor(private readonly log: AuditLog) {}

  record(certificates: readonly LoadedCertificate[]): void {
    for (const certificate of certificates) {
      const key = `${certificate.role} ${certificate.file} ${certificate.thumbprint}`;
      if (this.known.has(key)) continue;
      this.known.add(key);
      this.log.record({ certificateChanged: certificateChangedEvent(certificate) });
    }
  }
}

function certificateChangedEvent(certificate: LoadedCertificate) {
  return {
    owner: certificate.file,
    role: certificate.role,
    certificate: {
      thumbprint: certificate.thumbprint,
      subject: certificate.subject,
      issuer: certificate.issuer,
      serial: certificate.serialNumber,
    },
    notAfterUnixMs: certificate.validTo.getTime(),
  };
}
