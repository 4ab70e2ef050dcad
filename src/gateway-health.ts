// What a running gateway says of itself at the admin listener: readiness for `/readyz` and the
// sources its metrics read at each scrape.

import type { GatewayAudit } from './gateway-audit';
import type { GatewayReviews } from './gateway-reviews';
import type { Readiness } from './listeners/admin-listener';
import type { CertificateFacts, GatewayMetricSources } from './observe/gateway-metrics';
import type { RevocationCheck } from './revocations/revocation-check';
import type { UpstreamProbe } from './upstream/upstream-probe';
import type { UpstreamSet } from './upstream/upstream-set';

/** Pending reviews `infergate_reviews_pending` counts at most: a scrape reads them all. */
const PENDING_REVIEWS_COUNTED = 1000;

/**
 * What `/readyz` says: not ready while starting or draining, while the audit log refuses
 * frames or the revocations are stale (every exchange would be refused), or while a probe finds
 * an upstream unreachable.
 * Limitation: one unreachable upstream makes the whole gateway unready, though it could still
 * serve the routes of the others; a load balancer then sends nothing to it.
 */
export function readinessOf(
  phase: 'starting' | 'ready' | 'draining',
  audit: GatewayAudit | undefined,
  probe: UpstreamProbe,
  revocations: RevocationCheck | undefined,
): Readiness {
  if (phase !== 'ready') return { status: phase };
  if (audit !== undefined && !audit.log.writable) return { status: 'audit_unavailable' };
  if (revocations?.stale === true) return { status: 'revocations_unavailable' };
  const upstreams = probe.reachability();
  return { status: probe.allReachable ? 'ready' : 'upstream_unreachable', upstreams };
}

/** What the metrics read at each scrape: what is on in this gateway, and nothing else. */
export function metricSources(
  certificates: () => readonly CertificateFacts[],
  upstreams: UpstreamSet,
  audit: GatewayAudit | undefined,
  reviews: GatewayReviews | undefined,
  revocations: RevocationCheck | undefined,
): GatewayMetricSources {
  return {
    certificates,
    upstreams: () => upstreams.connectionFacts(),
    auditWritable: audit === undefined ? undefined : () => audit.log.writable,
    pendingReviews:
      reviews === undefined
        ? undefined
        : async () => (await reviews.store.listPending(PENDING_REVIEWS_COUNTED)).length,
    reviewsShared: reviews?.shared,
    revocationsStale: revocations === undefined ? undefined : () => revocations.stale,
  };
}
