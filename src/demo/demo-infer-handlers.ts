// ModelInfer and ModelStreamInfer handlers: paced token generation that stops on cancellation.

import type { handleBidiStreamingCall, handleUnaryCall, ServerDuplexStream } from '@grpc/grpc-js';
import { elapsedNs, type DemoContext } from './demo-context';
import {
  planInference,
  streamResponses,
  unaryResponse,
  type InferencePlan,
} from './demo-inference';
import type {
  DemoFailure,
  ModelInferRequest,
  ModelInferResponse,
  ModelStreamInferResponse,
} from './kserve-messages';

type StreamCall = ServerDuplexStream<ModelInferRequest, ModelStreamInferResponse>;

/** Counts a failed request in the statistics of the model it named, when that model exists. */
function recordFailure(context: DemoContext, request: ModelInferRequest, startedNs: bigint): void {
  if (context.registry.resolve(request.model_name).ok) {
    context.registry.record(request.model_name, false, elapsedNs(startedNs));
  }
}

/**
 * ModelInfer: one response with the whole output. With a token delay the chat reply is held
 * for (tokens × delay), like a model generating it; a cancel in that time drops it.
 */
export function handleModelInfer(
  context: DemoContext,
): handleUnaryCall<ModelInferRequest, ModelInferResponse> {
  return (call, callback) => {
    const startedNs = process.hrtime.bigint();
    const plan = planInference(context.registry, call.request);
    if (!plan.ok) {
      recordFailure(context, call.request, startedNs);
      callback(plan.failure);
      return;
    }

    const respond = (): void => {
      context.registry.record(call.request.model_name, true, elapsedNs(startedNs));
      callback(null, unaryResponse(plan.value));
    };
    const delayMs = context.tokenDelayMs * (plan.value.tokens?.length ?? 0);
    if (delayMs === 0) {
      respond();
      return;
    }
    const timer = setTimeout(respond, delayMs);
    call.once('cancelled', () => {
      clearTimeout(timer);
      context.events.emit('cancelled', 'ModelInfer');
    });
  };
}

/**
 * One ModelStreamInfer call. Requests on the stream run concurrently; each yields its
 * responses (or one `error_message`, leaving the stream open). The call ends once the client
 * has half-closed and every generation is done.
 */
class StreamSession {
  private readonly timers = new Set<NodeJS.Timeout>();
  private running = 0;
  private clientDone = false;
  private cancelled = false;

  constructor(
    private readonly context: DemoContext,
    private readonly call: StreamCall,
  ) {}

  /** Wires the call's events; nothing is written before the first request arrives. */
  start(): void {
    this.call.on('data', (request: ModelInferRequest) => this.onRequest(request));
    this.call.on('end', () => {
      this.clientDone = true;
      this.finishIfIdle();
    });
    this.call.on('cancelled', () => this.onCancelled());
    this.call.on('error', (err: Error) => {
      this.context.logger.debug({ err }, 'demo stream call failed');
    });
  }

  private onRequest(request: ModelInferRequest): void {
    const startedNs = process.hrtime.bigint();
    const plan = planInference(this.context.registry, request);
    if (!plan.ok) {
      recordFailure(this.context, request, startedNs);
      this.writeFailure(plan.failure);
      return;
    }

    this.running += 1;
    const responses = streamResponses(plan.value);
    this.pump(plan.value, responses, responses.next(), startedNs);
  }

  /**
   * Writes `next` and what follows it: one response per timer tick with a token delay,
   * otherwise as many as the stream accepts before it asks to wait for 'drain'. Looking one
   * response ahead lets the generation finish without a trailing delay.
   */
  private pump(
    plan: InferencePlan,
    responses: Generator<ModelInferResponse>,
    next: IteratorResult<ModelInferResponse>,
    startedNs: bigint,
  ): void {
    let current = next;
    while (!this.cancelled && current.done !== true) {
      const writable = this.call.write({ error_message: '', infer_response: current.value });
      const following = responses.next();
      if (following.done !== true && this.context.tokenDelayMs > 0) {
        this.schedule(() => this.pump(plan, responses, following, startedNs));
        return;
      }
      if (following.done !== true && !writable) {
        this.call.once('drain', () => this.pump(plan, responses, following, startedNs));
        return;
      }
      current = following;
    }
    this.finishGeneration(plan, startedNs);
  }

  private schedule(step: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      step();
    }, this.context.tokenDelayMs);
    this.timers.add(timer);
  }

  private finishGeneration(plan: InferencePlan, startedNs: bigint): void {
    if (this.cancelled) {
      return;
    }
    this.running -= 1;
    this.context.registry.record(plan.request.model_name, true, elapsedNs(startedNs));
    this.finishIfIdle();
  }

  private writeFailure(failure: DemoFailure): void {
    if (!this.cancelled) {
      this.call.write({ error_message: failure.details, infer_response: null });
    }
  }

  private finishIfIdle(): void {
    if (this.clientDone && this.running === 0 && !this.cancelled) {
      this.call.end();
    }
  }

  private onCancelled(): void {
    this.cancelled = true;
    for (const timer of this.timers) {
      clearTimeout(timer);
    }
    this.timers.clear();
    this.context.events.emit('cancelled', 'ModelStreamInfer');
  }
}

/** ModelStreamInfer: decoupled streaming, one session per call. */
export function handleModelStreamInfer(
  context: DemoContext,
): handleBidiStreamingCall<ModelInferRequest, ModelStreamInferResponse> {
  return (call) => new StreamSession(context, call).start();
}
