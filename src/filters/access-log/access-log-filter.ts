// The access-log filter: one line per exchange with who went where and how it ended.

import { FINDING_KINDS } from '../../masking/findings';
import type { MaskCounts } from '../../masking/mask-options';
import type { MaskingRecord } from '../../masking/masking-record';
import type { PatternCounts } from '../../masking/pattern-masker';
import { roundMs } from '../../observe/duration';
import type { Logger } from '../../observe/logger';
import type { Exchange } from '../../pipeline/exchange';
import type { ExchangeMessage, Filter, FilterFactory } from '../../pipeline/filter';

/**
 * Logs each finished exchange at info: ids, who called (token subject, certificate thumbprint,
 * the role that granted the call), route, upstream, status, durations and byte counts. Never
 * payload text, headers or credentials: those are the audit log's business, masked and signed;
 * an access log is read by many more people.
 */
class AccessLogFilter implements Filter {
  constructor(
    private readonly exchange: Exchange,
    private readonly log: Logger,
  ) {}

  onExchangeComplete(): void {
    const exchange = this.exchange;
    const ended = exchange.endedAt ?? performance.now();
    const upstreamMs =
      exchange.upstreamHeadersAt === undefined
        ? undefined
        : roundMs(exchange.upstreamHeadersAt - exchange.startedAt);
    this.log.info(
      {
        exchangeId: exchange.id,
        listener: exchange.listener,
        protocol: exchange.protocol,
        operation: exchange.operation,
        model: exchange.model,
        route: exchange.route,
        upstream: exchange.upstream,
        remoteAddress: exchange.remoteAddress,
        sessionId: exchange.session.id,
        subject: exchange.identity?.subject,
        certificate: exchange.identity?.certificate.thumbprint,
        role: exchange.grantedRole,
        status: exchange.status,
        detail: exchange.detail || undefined,
        durationMs: roundMs(ended - exchange.startedAt),
        upstreamHeadersMs: upstreamMs,
        requestBytes: exchange.requestBytes,
        responseBytes: exchange.responseBytes,
        requestMessages: exchange.requestMessages,
        responseMessages: exchange.responseMessages,
        masked: maskedCounts(exchange.masking),
      },
      'access',
    );
  }
}

/**
 * What masking did, when it did anything: counts by direction, card data by kind and the
 * operator's patterns by name under `patterns`, and how long the longest held frame waited.
 * Counts only, never values or fingerprints.
 */
function maskedCounts(record: MaskingRecord | undefined): object | undefined {
  if (record === undefined) return undefined;
  const prompt = nonZero(record.promptCounts, record.promptPatternCounts);
  const response = nonZero(record.responseCounts, record.responsePatternCounts);
  const { heldFrames, maxHeldMs } = record.held;
  if (prompt === undefined && response === undefined && heldFrames === 0) return undefined;
  return { prompt, response, heldFrames, maxHeldMs: roundMs(maxHeldMs) };
}

function nonZero(
  cards: Readonly<MaskCounts>,
  patterns: Readonly<PatternCounts>,
): Record<string, unknown> | undefined {
  const counts: Record<string, unknown> = {};
  for (const kind of FINDING_KINDS) if (cards[kind] > 0) counts[kind] = cards[kind];
  if (Object.keys(patterns).length > 0) counts.patterns = patterns;
  return Object.keys(counts).length === 0 ? undefined : counts;
}

/** Builds the access-log filter; `log` is the logger access lines go to. */
export function accessLogFilterFactory<M extends ExchangeMessage>(log: Logger): FilterFactory<M> {
  return {
    name: 'access-log',
    create: (exchange) => new AccessLogFilter(exchange, log),
  };
}
