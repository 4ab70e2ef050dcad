// The metrics filter: counts each finished exchange and its latencies in the gateway's metrics.

import type { GatewayMetrics } from '../../observe/gateway-metrics';
import type { ExchangeMessage, FilterFactory } from '../../pipeline/filter';

/**
 * Builds the metrics filter. It reads the exchange's record once, when the exchange completes,
 * as the access log does, so it costs nothing per message.
 */
export function metricsFilterFactory<M extends ExchangeMessage>(
  metrics: GatewayMetrics,
): FilterFactory<M> {
  return {
    name: 'metrics',
    create: (exchange) => ({ onExchangeComplete: () => metrics.exchangeFinished(exchange) }),
  };
}
