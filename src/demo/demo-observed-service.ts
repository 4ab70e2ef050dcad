// Wraps service definitions and handlers so the demo server reports every message it sees.

import type { EventEmitter } from 'node:events';
import type {
  Metadata,
  MethodDefinition,
  ServiceDefinition,
  UntypedHandleCall,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';

/** Any handler shape, seen as the common part all four grpc-js handler kinds share. */
type AnyHandler = (
  call: {
    readonly metadata: Metadata;
    getAuthContext?(): { sslPeerCertificate?: { fingerprint256?: string } } | null;
  },
  callback?: unknown,
) => void;

/**
 * Copies a service definition with its (de)serializers wrapped: the server emits
 * `('request', rpcName, bytes)` for each request message as received and
 * `('response', rpcName, bytes)` for each response message as sent, both before protobuf
 * decoding / after encoding, so tests can compare them byte for byte with the far side.
 */
export function observeDefinition(
  definition: ServiceDefinition,
  events: EventEmitter,
): ServiceDefinition {
  const observed: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const [rpcName, method] of Object.entries(definition)) {
    observed[rpcName] = {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        events.emit('request', rpcName, bytes);
        return method.requestDeserialize(bytes);
      },
      responseSerialize: (value: unknown): Buffer => {
        const bytes = method.responseSerialize(value);
        events.emit('response', rpcName, bytes);
        return bytes;
      },
    };
  }
  return observed;
}

/**
 * Wraps handlers so each call first emits `('metadata', rpcName, metadata, peerCertificate)`
 * with the request metadata grpc-js received and, over mTLS, the client certificate's
 * fingerprint (SHA-256, colon-separated hex; undefined in cleartext). grpc-js picks the call kind from the definition, not
 * from the handler, so one wrapper shape serves all four kinds.
 */
export function observeImplementation(
  handlers: Record<string, UntypedHandleCall>,
  events: EventEmitter,
): UntypedServiceImplementation {
  const observed: Record<string, UntypedHandleCall> = {};
  for (const [rpcName, handler] of Object.entries(handlers)) {
    const inner = handler as unknown as AnyHandler;
    const wrapped: AnyHandler = (call, callback) => {
      const peer = call.getAuthContext?.()?.sslPeerCertificate;
      events.emit('metadata', rpcName, call.metadata, peer?.fingerprint256);
      inner(call, callback);
    };
    observed[rpcName] = wrapped as unknown as UntypedHandleCall;
  }
  return observed;
}
