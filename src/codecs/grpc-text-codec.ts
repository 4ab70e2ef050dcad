// The texts of KServe v2 gRPC messages for the masking filter: the BYTES elements of inference
// requests and responses, typed or raw, and in a stream, each output of each request as one text.

import type { OutgoingHttpHeaders } from 'node:http2';
import { readPayload } from './grpc-compression';
import { encodeGrpcFrame } from './grpc-frame-decoder';
import type { GrpcMessage } from './grpc-message';
import type { TextSpan } from './kserve-infer-facts';
import { isInferenceOperation, readInferRequest, requestEncoding } from './kserve-request-message';
import { decodeInferResponse, decodeStreamInferResponse } from './kserve-response-codec';
import type { FrameTexts, TextPiece } from '../masking/frame-holdback';
import type { Exchange } from '../pipeline/exchange';
import type { TextCodec } from './text-codec';

// Limitation: a stream response's `error_message` and the grpc-message of a status are not
// masked; Triton writes its own errors there, which may quote the request but not model output.
/** Reads the masking texts of one gRPC exchange. */
class GrpcTextCodec implements TextCodec<GrpcMessage> {
  private responseEncoding: string | undefined;

  constructor(
    private readonly exchange: Exchange,
    private readonly maxMessageBytes: number,
  ) {}

  requestTexts(message: GrpcMessage): FrameTexts<GrpcMessage> | undefined {
    if (!isInferenceOperation(this.exchange.operation)) return undefined;
    const encoding = requestEncoding(this.exchange.requestHeaders);
    const { payload, facts } = readInferRequest(message, encoding, this.maxMessageBytes);
    const pieces = facts.texts.map((span) => wholeText(payload, span));
    return frameTexts(message, payload, pieces, []);
  }

  responseHeaders(headers: OutgoingHttpHeaders): void {
    const encoding = headers['grpc-encoding'];
    this.responseEncoding = typeof encoding === 'string' ? encoding : undefined;
  }

  responseTexts(message: GrpcMessage): FrameTexts<GrpcMessage> | undefined {
    const operation = this.exchange.operation;
    if (operation === 'ModelInfer') {
      const payload = this.payload(message, this.responseEncoding);
      const pieces = decodeInferResponse(payload).texts.map((span) => wholeText(payload, span));
      return frameTexts(message, payload, pieces, []);
    }
    if (operation !== 'ModelStreamInfer') return undefined;

    const payload = this.payload(message, this.responseEncoding);
    const response = decodeStreamInferResponse(payload).response;
    if (response === undefined) return undefined;
    // One text per output element of each request: decoupled models stream their tokens as
    // responses that share the request's id. Lengths prefix each part so no key is another's
    // prefix, whatever an id holds.
    const request = streamKey([message.upstream ?? '', response.id]);
    const pieces = response.texts.map((span) => ({
      bytes: payload.subarray(span.start, span.end),
      stream: request + streamKey([span.tensor, String(span.element)]),
    }));
    return frameTexts(message, payload, pieces, response.finalResponse ? [request] : []);
  }

  private payload(message: GrpcMessage, encoding: string | undefined): Buffer {
    return readPayload(message.frame, message.compressed, encoding, this.maxMessageBytes);
  }
}

function frameTexts(
  message: GrpcMessage,
  payload: Buffer,
  pieces: TextPiece[],
  endedStreams: string[],
): FrameTexts<GrpcMessage> | undefined {
  if (pieces.length === 0 && endedStreams.length === 0) return undefined;
  // A compressed message was masked in its decompressed copy: it leaves uncompressed, which
  // gRPC allows message by message (the compressed flag of the prefix).
  const finish = message.compressed
    ? (held: GrpcMessage) => ({ ...held, frame: encodeGrpcFrame(payload), compressed: false })
    : undefined;
  return { pieces, endedStreams, endsAll: false, finish };
}

function wholeText(payload: Buffer, span: TextSpan): TextPiece {
  return { bytes: payload.subarray(span.start, span.end), stream: undefined };
}

function streamKey(parts: readonly string[]): string {
  return parts.map((part) => `${part.length}:${part}`).join('');
}

/** The codec for the gRPC listener's masking filter. */
export function grpcTextCodec(
  maxMessageBytes: number,
): (exchange: Exchange) => TextCodec<GrpcMessage> {
  return (exchange) => new GrpcTextCodec(exchange, maxMessageBytes);
}
