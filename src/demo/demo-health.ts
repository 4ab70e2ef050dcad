// The standard grpc.health.v1.Health service of the demo server.

import {
  status,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type UntypedHandleCall,
} from '@grpc/grpc-js';
import type { DemoContext } from './demo-context';

/** Service names Check and Watch report as SERVING; the empty name is the whole server. */
const SERVED_NAMES: ReadonlySet<string> = new Set(['', 'inference.GRPCInferenceService']);

interface HealthCheckRequest {
  service: string;
}

interface HealthCheckResponse {
  status: 'SERVING' | 'SERVICE_UNKNOWN';
}

/** Check: SERVING for the server and the inference service, NOT_FOUND for other names. */
const check: handleUnaryCall<HealthCheckRequest, HealthCheckResponse> = ({ request }, callback) => {
  if (!SERVED_NAMES.has(request.service)) {
    callback({ code: status.NOT_FOUND, details: `unknown service '${request.service}'` });
    return;
  }
  callback(null, { status: 'SERVING' });
};

/**
 * Watch: sends the current status once (SERVICE_UNKNOWN for other names, as the health
 * protocol asks) and then holds the stream open, since the status never changes, until the
 * client cancels or the server closes.
 */
function watch(
  context: DemoContext,
): handleServerStreamingCall<HealthCheckRequest, HealthCheckResponse> {
  return (call) => {
    const known = SERVED_NAMES.has(call.request.service);
    call.write({ status: known ? 'SERVING' : 'SERVICE_UNKNOWN' });

    const endOnShutdown = (): void => {
      call.end();
    };
    context.shutdownHooks.add(endOnShutdown);
    call.once('cancelled', () => {
      context.shutdownHooks.delete(endOnShutdown);
      context.events.emit('cancelled', 'Watch');
    });
  };
}

/** Handlers for grpc.health.v1.Health. */
export function healthHandlers(context: DemoContext): Record<string, UntypedHandleCall> {
  return { Check: check, Watch: watch(context) };
}
