// The gateway: builds listeners, routes and upstream pools from a config and runs them.

import type { AddressInfo } from 'node:net';
import type { AuditStore } from './audit/audit-store';
import type { GatewayConfig, UpstreamProtocol } from './config/gateway-config';
import { ProxyError } from './errors/proxy-error';
import { accessLogFilterFactory } from './filters/access-log/access-log-filter';
import { metricsFilterFactory } from './filters/metrics/metrics-filter';
import { listenerTextCodecs } from './codecs/shared-text-codec';
import { maskingFilterFactory } from './filters/masking/masking-filter';
import { maskingSettings } from './filters/masking/masking-settings';
import { openAuditSource, openGatewayAudit, type GatewayAudit } from './gateway-audit';
import {
  checkReviewsEnforceable,
  openGatewayReviews,
  type GatewayReviews,
} from './gateway-reviews';
import type { ReviewBook } from './reviews/review-book';
import { metricSources, readinessOf } from './gateway-health';
import { buildGatewayIdentity, type GatewayIdentity } from './gateway-identity';
import { AdminListener } from './listeners/admin-listener';
import { ReviewEndpoint } from './listeners/admin-review-endpoint';
import { UnsealEndpoint } from './listeners/admin-unseal-endpoint';
import { GrpcListener } from './listeners/grpc/grpc-listener';
import type { HttpMessage } from './codecs/http-message';
import { HttpListener } from './listeners/http/http-listener';
import type { GrpcMessage } from './codecs/grpc-message';
import type { Registry } from 'prom-client';
import { GatewayMetrics, type MetricsExposition } from './observe/gateway-metrics';
import type { Logger } from './observe/logger';
import { createIdGenerator } from './pipeline/exchange';
import type { FilterFactory } from './pipeline/filter';
import { Router } from './pipeline/router';
import { UpstreamSet } from './upstream/upstream-set';
import { UPSTREAM_PROBE_INTERVAL_MS, UpstreamProbe } from './upstream/upstream-probe';
import { watchExpiry } from './identity/tls-material';
import { DEFAULTS } from './config/defaults';

/** The addresses the listeners actually bound, as `host:port`. */
export interface GatewayAddresses {
  readonly grpc: string;
  readonly http: string;
  readonly admin: string;
}

/** A running gateway. */
export interface Gateway {
  readonly addresses: GatewayAddresses;
  /** The review book when `reviews` is configured: for the admin listener and for tests. */
  readonly reviews: ReviewBook | undefined;
  /**
   * Re-reads the listeners' certificate, key, CA and CRL files and every upstream's TLS files
   * (SIGHUP); false when a set was refused and its current material stays. Connections already
   * open are not interrupted.
   */
  reloadTls(): boolean;
  /**
   * Drains and stops: readiness fails first, exchanges in flight get `drainTimeoutMs`, the audit
   * log closes last. Calling it again returns the same promise.
   */
  close(): Promise<void>;
}

/** Options for tests and embedding; production passes none. */
export interface GatewayOptions {
  readonly nextId?: () => string;
  /** Filters placed after the built-in ones on the HTTP listener's chain. */
  readonly extraHttpFilters?: readonly FilterFactory<HttpMessage>[];
  /** Where audit frames go instead of the store the configuration names. */
  readonly auditStore?: AuditStore;
  /** Review ids instead of random UUIDs, so tests know them in advance. */
  readonly nextReviewId?: () => string;
  /** How often pending reviews are expired, instead of REVIEW_EXPIRY_INTERVAL_MS. */
  readonly reviewExpiryIntervalMs?: number;
  /** How often upstreams are probed for `/readyz`, instead of UPSTREAM_PROBE_INTERVAL_MS. */
  readonly upstreamProbeIntervalMs?: number;
  /** What `/metrics` serves instead of this process's figures (a cluster worker's whole view). */
  readonly metricsExposition?: (registry: Registry) => MetricsExposition;
}

/** What the gateway needs of each listener. */
interface Listener {
  readonly name: keyof GatewayAddresses;
  readonly host: string;
  readonly port: number;
  listen(): Promise<AddressInfo>;
  close(drainTimeoutMs: number): Promise<void>;
}

/**
 * Starts every listener, or none: if one cannot bind, those already bound are closed again
 * and the error is thrown, so a half-started gateway never takes traffic.
 */
export async function startGateway(
  config: GatewayConfig,
  logger: Logger,
  options: GatewayOptions = {},
): Promise<Gateway> {
  checkReviewsEnforceable(config);
  const state = { phase: 'starting' as 'starting' | 'ready' | 'draining' };
  const nextId = options.nextId ?? createIdGenerator();
  const nextSessionId = createIdGenerator();
  const identity = buildGatewayIdentity(config, logger);
  const metrics = new GatewayMetrics();
  // One codec per exchange for all the filters that read texts: each message is decoded once.
  const texts = listenerTextCodecs(config.listeners.grpc.maxMessageBytes);
  let audit;
  let reviews;
  try {
    // Before any listener: a gateway that does not know its revocations takes no traffic.
    await identity.revocations?.open();
    audit = await openGatewayAudit(config, logger, texts, options.auditStore, metrics);
    reviews = openGatewayReviews(config, audit?.log, logger, texts, {
      generateId: options.nextReviewId,
      expiryIntervalMs: options.reviewExpiryIntervalMs,
      onStep: (step) => metrics.reviewEvent(step),
    });
  } catch (err) {
    identity.close();
    await identity.revocations?.close();
    await audit?.stop('error');
    throw err;
  }
  const upstreams = new UpstreamSet(config.upstreams, logger);
  const probe = new UpstreamProbe(
    config.upstreams,
    logger,
    options.upstreamProbeIntervalMs ?? UPSTREAM_PROBE_INTERVAL_MS,
  );
  const routesFor = (protocol: UpstreamProtocol) =>
    new Router(config.routes.filter((route) => route.protocol === protocol));
  // Masking comes after the identity checks, so a refused request costs no scan, and is the
  // first filter a response meets. Reviews sit between the two: they need the identity, and
  // digest the request as received.
  const masking = maskingSettings(config);
  // Audit comes first: on the response path it is the last filter, and holds the end of each
  // exchange until its frames are durable.
  const grpcFilters: FilterFactory<GrpcMessage>[] = [
    ...(audit === undefined ? [] : [audit.grpcFilter]),
    accessLogFilterFactory(logger),
    metricsFilterFactory(metrics),
    ...identity.grpcFilters,
    ...(reviews === undefined ? [] : [reviews.grpcFilter]),
    ...(masking === undefined ? [] : [maskingFilterFactory(masking, texts.grpc)]),
    ...(audit?.grpcOriginals === undefined ? [] : [audit.grpcOriginals]),
  ];
  const httpFilters: FilterFactory<HttpMessage>[] = [
    ...(audit === undefined ? [] : [audit.httpFilter]),
    accessLogFilterFactory(logger),
    metricsFilterFactory(metrics),
    ...identity.httpFilters,
    ...(reviews === undefined ? [] : [reviews.httpFilter]),
    ...(options.extraHttpFilters ?? []),
    ...(masking === undefined ? [] : [maskingFilterFactory(masking, texts.http)]),
    ...(audit?.httpOriginals === undefined ? [] : [audit.httpOriginals]),
  ];
  const secure = { tls: identity.tls, nextSessionId, sessions: audit?.sessions };
  const { grpc, http, admin } = config.listeners;
  const listeners: Listener[] = [
    named(
      'grpc',
      grpc,
      new GrpcListener(
        { ...grpc, ...secure },
        {
          listenerName: 'grpc',
          maxMessageBytes: grpc.maxMessageBytes,
          router: routesFor('grpc'),
          pools: upstreams.grpcPools,
          filters: grpcFilters,
          logger,
          nextId,
        },
      ),
    ),
    named(
      'http',
      http,
      new HttpListener(
        { ...http, ...secure },
        {
          listenerName: 'http',
          maxBodyBytes: http.maxBodyBytes,
          router: routesFor('http'),
          pools: upstreams.httpPools,
          filters: httpFilters,
          logger,
          nextId,
        },
      ),
    ),
    named(
      'admin',
      admin,
      new AdminListener({
        ...admin,
        tls: identity.tls,
        tokens: identity.tokenEndpoint,
        jwks: identity.jwks,
        certificates: () => certificates(),
        unseal: unsealEndpoint(config, identity, audit, logger),
        reviews: reviewEndpoint(identity, reviews, audit, logger),
        metrics: options.metricsExposition?.(metrics.registry) ?? metrics,
        logger,
        readiness: () => readinessOf(state.phase, audit, probe, identity.revocations),
      }),
    ),
  ];

  const certificates = () => [...(identity.tls?.certificates ?? []), ...upstreams.certificates];
  metrics.watch(metricSources(certificates, upstreams, audit, reviews, identity.revocations));
  const closeRest = async () => {
    identity.close();
    await identity.revocations?.close();
    await upstreams.close(true);
    await reviews?.close();
    await audit?.stop('error');
  };
  const addresses = await bindAll(listeners, closeRest);
  try {
    const bound = listeners.map((listener) => `${listener.name}=${addresses[listener.name]}`);
    await audit?.started(bound, certificates());
  } catch (err) {
    // A gateway whose start cannot be recorded takes no traffic.
    await Promise.all(listeners.map((listener) => listener.close(0)));
    await closeRest();
    throw err;
  }
  identity.tls?.start();
  upstreams.startWatching();
  probe.start();
  const warningDays = config.tls?.expiryWarningDays ?? DEFAULTS.tls.expiryWarningDays;
  const stopExpiryWatch = watchExpiry(certificates, warningDays, logger);
  state.phase = 'ready';
  for (const listener of listeners) {
    logger.info({ listener: listener.name, address: addresses[listener.name] }, 'listening');
  }

  let closing: Promise<void> | undefined;
  const drain = async () => {
    stopExpiryWatch();
    probe.close();
    identity.close();
    state.phase = 'draining';
    logger.info({ drainTimeoutMs: config.drainTimeoutMs }, 'draining');
    await Promise.all(listeners.map((listener) => listener.close(config.drainTimeoutMs)));
    await identity.revocations?.close();
    await upstreams.close(false);
    await reviews?.close();
    await audit?.stop('shutdown');
    logger.info('stopped');
  };

  return {
    addresses,
    reviews: reviews?.book,
    reloadTls: () => {
      // Every set is reloaded, whatever another one answered.
      const listenersReloaded = identity.tls?.reload() ?? true;
      const applied = upstreams.reloadTls() && listenersReloaded;
      void audit?.reloaded(applied, certificates()).catch((err: unknown) => {
        logger.error({ err }, 'audit key rotation failed');
      });
      return applied;
    },
    close: () => (closing ??= drain()),
  };
}

/**
 * The admin listener's reviews, when reviews are on; decisions are recorded when audit is, and
 * told to the webhook when there is one.
 */
function reviewEndpoint(
  identity: GatewayIdentity,
  reviews: GatewayReviews | undefined,
  audit: GatewayAudit | undefined,
  logger: Logger,
): ReviewEndpoint | undefined {
  if (reviews === undefined) return undefined;
  return new ReviewEndpoint({
    book: reviews.book,
    store: reviews.store,
    verifier: identity.tokenVerifier,
    certificateRoles: identity.certificateRoles,
    audit: audit?.log,
    decided: (event) => reviews.decided(event),
    logger: logger.child({ component: 'reviews' }),
  });
}

/** The admin listener's unseal, when audit is on; it reads the store the configuration names. */
function unsealEndpoint(
  config: GatewayConfig,
  identity: GatewayIdentity,
  audit: GatewayAudit | undefined,
  logger: Logger,
): UnsealEndpoint | undefined {
  const section = config.audit;
  if (audit === undefined || section === undefined) return undefined;
  return new UnsealEndpoint({
    log: audit.log,
    sourceOf: (logId) => openAuditSource(section, logId),
    verifier: identity.tokenVerifier,
    certificateRoles: identity.certificateRoles,
    unsealRoles: section.unsealRoles,
    logger: logger.child({ component: 'audit-unseal' }),
  });
}

function named(
  name: Listener['name'],
  where: { host: string; port: number },
  listener: { listen(): Promise<AddressInfo>; close(drainTimeoutMs: number): Promise<void> },
): Listener {
  return {
    name,
    host: where.host,
    port: where.port,
    listen: () => listener.listen(),
    close: (drainTimeoutMs) => listener.close(drainTimeoutMs),
  };
}

async function bindAll(
  listeners: readonly Listener[],
  closeRest: () => Promise<void>,
): Promise<GatewayAddresses> {
  const bound: Listener[] = [];
  const addresses: Partial<Record<Listener['name'], string>> = {};
  try {
    for (const listener of listeners) {
      addresses[listener.name] = formatAddress(await listenOrExplain(listener));
      bound.push(listener);
    }
    return addresses as GatewayAddresses;
  } catch (err) {
    await Promise.all(bound.map((listener) => listener.close(0)));
    await closeRest();
    throw err;
  }
}

async function listenOrExplain(listener: Listener): Promise<AddressInfo> {
  try {
    return await listener.listen();
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? 'error';
    const message = `${listener.name} listener cannot bind ${listener.host}:${listener.port} (${reason})`;
    throw new ProxyError('ERR_LISTEN_FAILED', message, { cause: err });
  }
}

function formatAddress(address: AddressInfo): string {
  return address.family === 'IPv6'
    ? `[${address.address}]:${address.port}`
    : `${address.address}:${address.port}`;
}
