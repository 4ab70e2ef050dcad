// A KServe inference request message as the filters read it: decompressed and decoded once,
// however many filters ask (the policy for its limits, masking for its texts).

import type { IncomingHttpHeaders } from 'node:http2';
import { readPayload } from './grpc-compression';
import type { GrpcMessage } from './grpc-message';
import type { InferRequestFacts } from './kserve-infer-facts';
import { decodeInferRequest } from './kserve-request-codec';

/** A request message's payload (decompressed when it was compressed) and its facts. */
export interface ReadInferRequest {
  /** The payload the facts' spans index: a view of the frame, or a decompressed copy. */
  readonly payload: Buffer;
  readonly facts: InferRequestFacts;
}

/**
 * What was read of each frame, by the frame's Buffer: a filter that replaces the frame (a
 * re-encoded message) gets a new entry, and an entry goes with its frame.
 */
const READ = new WeakMap<Buffer, ReadInferRequest>();

/** Whether an RPC carries ModelInferRequest messages. */
export function isInferenceOperation(operation: string): boolean {
  return operation === 'ModelInfer' || operation === 'ModelStreamInfer';
}

/** The call's `grpc-encoding`, in which compressed request messages are. */
export function requestEncoding(headers: IncomingHttpHeaders): string | undefined {
  const value = headers['grpc-encoding'];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Reads a ModelInferRequest message once: later calls for the same frame return the same payload
 * and facts, so masking writes into the copy the policy read. Throws ProxyError as `readPayload`
 * and `decodeInferRequest` do.
 */
export function readInferRequest(
  message: GrpcMessage,
  encoding: string | undefined,
  maxMessageBytes: number,
): ReadInferRequest {
  let read = READ.get(message.frame);
  if (read === undefined) {
    const payload = readPayload(message.frame, message.compressed, encoding, maxMessageBytes);
    read = { payload, facts: decodeInferRequest(payload) };
    READ.set(message.frame, read);
  }
  return read;
}
