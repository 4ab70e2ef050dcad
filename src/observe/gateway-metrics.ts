// Prometheus metrics of one gateway process: exchanges, latency, masking, the audit log,
// reviews, certificates and upstream connections, on a registry of its own.

import type { AuditLogMetrics } from '../audit/audit-log';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { findCardNumbers } from '../masking/card-detector';
import { FINDING_KINDS } from '../masking/findings';
import type { MaskCounts } from '../masking/mask-options';
import type { PatternCounts } from '../masking/pattern-masker';
import type { Exchange } from '../pipeline/exchange';

/** Distinct model names one process labels; later names are counted as `other`. */
export const MAX_MODEL_LABELS = 200;

/** Seconds, from a fast local answer to a long generation. */
const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];
/** Seconds infergate adds: a proxy's budget is well under a millisecond. */
const ADDED_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
];
/** Seconds a write and fdatasync of one audit batch take. */
const STORE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 1];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
const HELD_BYTES_BUCKETS = [16, 64, 256, 1024, 4096, 16384, 65536, 262144];

/** One certificate the gateway presents or trusts, as `/certificates` lists it. */
export interface CertificateFacts {
  readonly role: string;
  readonly subject: string;
  readonly thumbprint: string;
  readonly validTo: Date;
}

/** One upstream's connections now, by state, and its requests waiting for one. */
export interface UpstreamConnectionFacts {
  readonly upstream: string;
  readonly connections: Readonly<Record<string, number>>;
  readonly queued: number;
}

/** What `GET /metrics` serves: one process's figures, or a whole cluster's. */
export interface MetricsExposition {
  readonly contentType: string;
  render(): Promise<string>;
}

/** What the metrics read when they are scraped rather than when something happens. */
export interface GatewayMetricSources {
  readonly certificates?: () => readonly CertificateFacts[];
  readonly upstreams?: () => readonly UpstreamConnectionFacts[];
  /** Whether the audit log takes frames now; absent when audit is off. */
  readonly auditWritable?: () => boolean;
  /** Reviews waiting for a decision; absent when reviews are off. */
  readonly pendingReviews?: () => Promise<number>;
  /** Whether every process reads the same reviews (PostgreSQL), so a cluster counts them once. */
  readonly reviewsShared?: boolean;
  /** Whether the shared revocations are stale; absent without them. */
  readonly revocationsStale?: () => boolean;
}

/**
 * The gateway's metrics. Labels carry only names from the configuration and the code
 * (listener, route, operation, outcome, kinds, upstreams) and the model a request named, which
 * is bounded to MAX_MODEL_LABELS names and dropped when it holds a card number: a label is
 * read by everybody who reads dashboards. Never payload text, identities or secrets.
 */
export class GatewayMetrics implements AuditLogMetrics, MetricsExposition {
  readonly registry = new Registry();
  private readonly exchanges: Counter<'listener' | 'route' | 'model' | 'operation' | 'outcome'>;
  private readonly duration: Histogram<'listener' | 'operation'>;
  private readonly firstByte: Histogram<'listener' | 'operation'>;
  private readonly added: Histogram<'listener' | 'operation'>;
  private readonly masked: Counter<'direction' | 'kind'>;
  private readonly heldBytes: Histogram;
  private readonly heldSeconds: Histogram;
  private readonly auditFrames: Counter;
  private readonly auditBatch: Histogram;
  private readonly auditStore: Histogram;
  private readonly auditErrors: Counter;
  private readonly reviewEvents: Counter<'event'>;
  private readonly models = new Set<string>();

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.exchanges = new Counter({
      name: 'infergate_exchanges_total',
      help: 'Exchanges finished, by listener, route, model, operation and outcome (ok or the refusal)',
      labelNames: ['listener', 'route', 'model', 'operation', 'outcome'],
      registers,
    });
    const byOperation = { labelNames: ['listener', 'operation'] as const, registers };
    this.duration = new Histogram({
      name: 'infergate_exchange_duration_seconds',
      help: 'From the request headers to the end of the response',
      buckets: LATENCY_BUCKETS,
      ...byOperation,
    });
    this.firstByte = new Histogram({
      name: 'infergate_time_to_first_byte_seconds',
      help: 'From the request headers to the first response body byte or message sent',
      buckets: LATENCY_BUCKETS,
      ...byOperation,
    });
    this.added = new Histogram({
      name: 'infergate_added_seconds',
      help: "Time to first byte at the client minus the upstream's own time to first byte",
      buckets: ADDED_BUCKETS,
      ...byOperation,
    });
    this.masked = new Counter({
      name: 'infergate_masked_total',
      help: 'Card data and operator patterns masked, by direction and kind',
      labelNames: ['direction', 'kind'],
      registers,
    });
    this.heldBytes = new Histogram({
      name: 'infergate_holdback_bytes',
      help: 'The most response bytes held back at once, per exchange that held any',
      buckets: HELD_BYTES_BUCKETS,
      registers,
    });
    this.heldSeconds = new Histogram({
      name: 'infergate_holdback_seconds',
      help: 'The longest a held-back response frame waited, per exchange that held any',
      buckets: ADDED_BUCKETS,
      registers,
    });
    this.auditFrames = new Counter({
      name: 'infergate_audit_frames_total',
      help: 'Audit frames stored',
      registers,
    });
    this.auditBatch = new Histogram({
      name: 'infergate_audit_batch_frames',
      help: 'Frames per audit batch (one write and one sync)',
      buckets: BATCH_BUCKETS,
      registers,
    });
    this.auditStore = new Histogram({
      name: 'infergate_audit_store_seconds',
      help: 'Time to store one audit batch: the write and its fdatasync (or COMMIT)',
      buckets: STORE_BUCKETS,
      registers,
    });
    this.auditErrors = new Counter({
      name: 'infergate_audit_store_errors_total',
      help: 'Audit batches the store refused',
      registers,
    });
    this.reviewEvents = new Counter({
      name: 'infergate_review_events_total',
      help: 'Review steps: created, notified, approved, denied, expired, grant_used',
      labelNames: ['event'],
      registers,
    });
  }

  /**
   * Adds the gauges read from `sources` at each scrape; called once, when they exist. Each says
   * how a cluster aggregates it: every worker sees the same certificates, the audit log is
   * writable only when every worker's is, connections add up.
   */
  watch(sources: GatewayMetricSources): void {
    const registers = [this.registry];
    const { certificates, upstreams, auditWritable, pendingReviews, revocationsStale } = sources;
    if (certificates !== undefined) {
      new Gauge({
        name: 'infergate_certificate_expiry_days',
        help: 'Days until each certificate the gateway presents or trusts expires',
        labelNames: ['role', 'subject', 'thumbprint'],
        aggregator: 'first',
        registers,
        collect() {
          this.reset();
          const now = Date.now();
          for (const { role, subject, thumbprint, validTo } of certificates()) {
            this.set({ role, subject, thumbprint }, (validTo.getTime() - now) / 86_400_000);
          }
        },
      });
    }
    if (upstreams !== undefined) this.watchUpstreams(upstreams);
    if (auditWritable !== undefined) {
      new Gauge({
        name: 'infergate_audit_writable',
        help: '1 while the audit log takes frames, 0 while it refuses exchanges',
        aggregator: 'min',
        registers,
        collect() {
          this.set(auditWritable() ? 1 : 0);
        },
      });
    }
    if (revocationsStale !== undefined) {
      new Gauge({
        name: 'infergate_revocations_fresh',
        help: '1 while the shared revocations are fresh, 0 while stale (every exchange refused)',
        aggregator: 'min',
        registers,
        collect() {
          this.set(revocationsStale() ? 0 : 1);
        },
      });
    }
    if (pendingReviews !== undefined) {
      new Gauge({
        name: 'infergate_reviews_pending',
        help: 'Reviews waiting for a decision (at most the first 1,000)',
        aggregator: sources.reviewsShared === true ? 'first' : 'sum',
        registers,
        async collect() {
          this.set(await pendingReviews());
        },
      });
    }
  }

  /** Counts one finished exchange; called once, when it completes. */
  exchangeFinished(exchange: Exchange): void {
    const { listener, operation } = exchange;
    this.exchanges.inc({
      listener,
      route: exchange.route ?? '',
      model: this.modelLabel(exchange.model),
      operation,
      outcome: outcomeOf(exchange),
    });
    const ended = exchange.endedAt ?? performance.now();
    const labels = { listener, operation };
    this.duration.observe(labels, (ended - exchange.startedAt) / 1000);
    const { firstByteAt, upstreamRequestAt, upstreamFirstByteAt } = exchange;
    if (firstByteAt === undefined) return this.maskingFinished(exchange);
    this.firstByte.observe(labels, (firstByteAt - exchange.startedAt) / 1000);
    if (upstreamRequestAt !== undefined && upstreamFirstByteAt !== undefined) {
      const upstreamMs = upstreamFirstByteAt - upstreamRequestAt;
      const addedMs = firstByteAt - exchange.startedAt - upstreamMs;
      this.added.observe(labels, Math.max(0, addedMs) / 1000);
    }
    this.maskingFinished(exchange);
  }

  batchStored(frames: number, seconds: number): void {
    this.auditFrames.inc(frames);
    this.auditBatch.observe(frames);
    this.auditStore.observe(seconds);
  }

  storeFailed(): void {
    this.auditErrors.inc();
  }

  /** Counts one review step by its event name. */
  reviewEvent(event: string): void {
    this.reviewEvents.inc({ event });
  }

  /** The text exposition of every metric, for `GET /metrics`. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private maskingFinished(exchange: Exchange): void {
    const record = exchange.masking;
    if (record === undefined) return;
    this.countMasked('prompt', record.promptCounts, record.promptPatternCounts);
    this.countMasked('response', record.responseCounts, record.responsePatternCounts);
    if (record.held.heldFrames === 0) return;
    this.heldBytes.observe(record.held.maxHeldBytes);
    this.heldSeconds.observe(record.held.maxHeldMs / 1000);
  }

  private countMasked(
    direction: 'prompt' | 'response',
    cards: Readonly<MaskCounts>,
    patterns: Readonly<PatternCounts>,
  ): void {
    for (const kind of FINDING_KINDS) {
      if (cards[kind] > 0) this.masked.inc({ direction, kind }, cards[kind]);
    }
    for (const [name, count] of Object.entries(patterns)) {
      if (count > 0) this.masked.inc({ direction, kind: `pattern:${name}` }, count);
    }
  }

  /**
   * The model as a label: as named while fewer than MAX_MODEL_LABELS names were seen, `other`
   * after; `masked` when it holds a card number. Threat: a client picks the name, so an
   * unbounded label would let it grow the registry without end, and a card number typed as a
   * model would reach every dashboard.
   */
  private modelLabel(model: string | undefined): string {
    if (model === undefined) return '';
    if (this.models.has(model)) return model;
    if (findCardNumbers(Buffer.from(model, 'utf8')).length > 0) return 'masked';
    if (this.models.size >= MAX_MODEL_LABELS) return 'other';
    this.models.add(model);
    return model;
  }

  private watchUpstreams(upstreams: () => readonly UpstreamConnectionFacts[]): void {
    const registers = [this.registry];
    new Gauge({
      name: 'infergate_upstream_connections',
      help: 'Connections to each upstream, by state',
      labelNames: ['upstream', 'state'],
      registers,
      collect() {
        this.reset();
        for (const { upstream, connections } of upstreams()) {
          for (const [state, count] of Object.entries(connections)) {
            this.set({ upstream, state }, count);
          }
        }
      },
    });
    new Gauge({
      name: 'infergate_upstream_queued_requests',
      help: 'Requests waiting for a connection to each upstream',
      labelNames: ['upstream'],
      registers,
      collect() {
        this.reset();
        for (const { upstream, queued } of upstreams()) this.set({ upstream }, queued);
      },
    });
  }
}

/** `ok`, or why the exchange did not end normally (the detail its access line carries). */
function outcomeOf(exchange: Exchange): string {
  if (exchange.detail !== '') return exchange.detail;
  const status = exchange.status;
  if (status === undefined) return 'unknown';
  const ok = exchange.protocol === 'grpc' ? status === 0 : status < 400;
  return ok ? 'ok' : 'upstream_error';
}
