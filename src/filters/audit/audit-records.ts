// Turns what an exchange and its session know into the events of audit frames.

import type {
  DecisionEvent,
  ExchangeFinishedEvent,
  ExchangeStartedEvent,
  MaskedCountRecord,
  MaskedTextRecord,
  SessionOpenedEvent,
} from '../../audit/audit-events';
import { DECISION_OUTCOME } from '../../audit/audit-events';
import { callerRecord, certificateRecord } from '../../audit/caller-record';
import { REVIEW_REQUIRED_DETAIL } from '../../reviews/review-decisions';
import { FINDING_KINDS } from '../../masking/findings';
import type { MaskCounts } from '../../masking/mask-options';
import type { MaskingRecord } from '../../masking/masking-record';
import type { PatternCounts } from '../../masking/pattern-masker';
import { roundMs } from '../../observe/duration';
import type { Exchange } from '../../pipeline/exchange';
import type { Session } from '../../pipeline/session';
import type { AuditTranscript } from './audit-transcript';

/** HTTP statuses and gRPC codes that mean identity or policy refused the caller. */
const REFUSED_HTTP = new Set([401, 403]);
const REFUSED_GRPC = new Set([7, 16]);

export function sessionOpenedEvent(listener: string, session: Session): SessionOpenedEvent {
  const certificate = session.tls?.certificate;
  return {
    sessionId: session.id,
    listener,
    clientAddress: session.remoteAddress,
    tlsVersion: session.tls?.protocol,
    certificate: certificate === undefined ? undefined : certificateRecord(certificate),
  };
}

/** The start of an exchange: who asked, for what, and the masked prompt. */
export function exchangeStartedEvent(
  exchange: Exchange,
  prompt: readonly MaskedTextRecord[],
  promptTruncated: boolean,
  facts: Readonly<Record<string, string>> | undefined,
): ExchangeStartedEvent {
  return {
    exchangeId: exchange.id,
    sessionId: exchange.session.id,
    listener: exchange.listener,
    protocol: exchange.protocol,
    operation: exchange.operation,
    model: exchange.model,
    route: exchange.route,
    upstream: exchange.upstream,
    clientAddress: exchange.remoteAddress,
    identity: exchange.identity === undefined ? undefined : callerRecord(exchange.identity),
    facts,
    prompt,
    promptTruncated,
  };
}

/**
 * What identity, policy and reviews decided, when they decided anything: a refusal by status
 * (held for review when the review filter said so), an allowance once a caller was identified;
 * either names the review that held or let the exchange through. Undefined for an exchange that ended before either
 * looked at it (no route, a malformed request) on a gateway with no identity checks.
 */
export function decisionEvent(exchange: Exchange): DecisionEvent | undefined {
  const status = exchange.status;
  const refusedStatuses = exchange.protocol === 'grpc' ? REFUSED_GRPC : REFUSED_HTTP;
  const { id: exchangeId, detail, reviewId } = exchange;
  if (status !== undefined && refusedStatuses.has(status) && detail !== '') {
    const outcome =
      detail === REVIEW_REQUIRED_DETAIL && reviewId !== undefined
        ? DECISION_OUTCOME.REVIEW_REQUIRED
        : DECISION_OUTCOME.DENIED;
    return { exchangeId, outcome, detail, reviewId };
  }
  if (exchange.identity === undefined) return undefined;
  return { exchangeId, outcome: DECISION_OUTCOME.ALLOWED, role: exchange.grantedRole, reviewId };
}

/**
 * The end of an exchange: its outcome, the masked response, what masking did, and the masked
 * prompts of requests that came after its start.
 */
export function exchangeFinishedEvent(
  exchange: Exchange,
  transcript: AuditTranscript,
  laterPrompt: readonly MaskedTextRecord[],
  now: number,
): ExchangeFinishedEvent {
  const { texts, pieces } = transcript.maskedResponse();
  const ended = exchange.endedAt ?? now;
  return {
    exchangeId: exchange.id,
    status: exchange.status ?? 0,
    detail: exchange.detail || undefined,
    response: texts,
    ...pieces,
    responseTruncated: transcript.responseTruncated,
    masked: maskedCounts(exchange.masking),
    cardFingerprints: exchange.masking?.fingerprints ?? [],
    usage: transcript.usage,
    durationMs: roundMs(ended - exchange.startedAt),
    upstreamHeadersMs:
      exchange.upstreamHeadersAt === undefined
        ? undefined
        : roundMs(exchange.upstreamHeadersAt - exchange.startedAt),
    requestBytes: exchange.requestBytes,
    responseBytes: exchange.responseBytes,
    requestMessages: exchange.requestMessages,
    responseMessages: exchange.responseMessages,
    prompt: laterPrompt,
  };
}

function maskedCounts(record: MaskingRecord | undefined): MaskedCountRecord[] {
  if (record === undefined) return [];
  return [
    ...countsOf('prompt', record.promptCounts, record.promptPatternCounts),
    ...countsOf('response', record.responseCounts, record.responsePatternCounts),
  ];
}

function countsOf(
  direction: MaskedCountRecord['direction'],
  cards: Readonly<MaskCounts>,
  patterns: Readonly<PatternCounts>,
): MaskedCountRecord[] {
  const out: MaskedCountRecord[] = [];
  for (const kind of FINDING_KINDS) {
    if (cards[kind] > 0) out.push({ direction, kind, count: cards[kind] });
  }
  for (const [name, count] of Object.entries(patterns)) {
    out.push({ direction, kind: `pattern:${name}`, count });
  }
  return out;
}
