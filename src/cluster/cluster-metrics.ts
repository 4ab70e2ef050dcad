// The Prometheus metrics of a whole cluster: a worker asked for /metrics has its primary gather
// every worker's registry, so a scrape of the shared admin port sees the cluster, not one worker.

import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { MetricsExposition } from '../observe/gateway-metrics';
import type { Logger } from '../observe/logger';

/** How long a worker waits for its primary's aggregate before answering the scrape with 500. */
export const METRICS_ASK_TIMEOUT_MS = 8_000;

/** A worker to its primary: send me every worker's metrics, aggregated. */
interface MetricsAsk {
  readonly infergate: 'metrics-ask';
  readonly id: number;
}

/** The primary's answer: the exposition text, or why there is none. */
interface MetricsAnswer {
  readonly infergate: 'metrics-answer';
  readonly id: number;
  readonly text?: string;
  readonly error?: string;
}

/**
 * In the primary: answers each worker's ask with the aggregate of every connected worker's
 * registry (prom-client's AggregatorRegistry: counters and histograms summed, gauges as each
 * metric says). A worker that does not answer within prom-client's 5 s fails the scrape.
 */
export function answerMetricsAsks(logger: Logger): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isTagged(message, 'metrics-ask')) return;
    const id = (message as unknown as MetricsAsk).id;
    aggregator.clusterMetrics().then(
      (text) => answer(worker, { infergate: 'metrics-answer', id, text }),
      (err: unknown) => {
        logger.warn({ err, pid: worker.process.pid }, 'cluster metrics not gathered');
        const error = err instanceof Error ? err.message : String(err);
        answer(worker, { infergate: 'metrics-answer', id, error });
      },
    );
  });
}

/**
 * In a worker: offers `registry` to the primary's aggregation, and returns the exposition the
 * admin listener serves, which asks the primary for the whole cluster's figures.
 */
export function clusterMetricsExposition(registry: Registry): MetricsExposition {
  // Constructing one installs prom-client's answer to the primary's request for this worker's
  // metrics; setRegistries says which registry it answers with.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  const waiting = new Map<number, (answer: MetricsAnswer) => void>();
  let nextId = 0;
  process.on('message', (message: unknown) => {
    if (!isTagged(message, 'metrics-answer')) return;
    const answer = message as unknown as MetricsAnswer;
    waiting.get(answer.id)?.(answer);
  });
  return {
    contentType: registry.contentType,
    render: () =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error('the cluster primary did not answer for metrics'));
        }, METRICS_ASK_TIMEOUT_MS);
        waiting.set(id, (answer) => {
          clearTimeout(timer);
          waiting.delete(id);
          if (answer.text !== undefined) resolve(answer.text);
          else reject(new Error(`cluster metrics not gathered: ${answer.error ?? 'no reason'}`));
        });
        const ask: MetricsAsk = { infergate: 'metrics-ask', id };
        process.send?.(ask);
      }),
  };
}

function answer(worker: Worker, message: MetricsAnswer): void {
  // A worker gone meanwhile has nobody waiting for the answer.
  if (worker.isConnected()) worker.send(message);
}

function isTagged(message: unknown, tag: string): message is Record<string, unknown> {
  return (
    message !== null &&
    typeof message === 'object' &&
    (message as Record<string, unknown>).infergate === tag
  );
}
