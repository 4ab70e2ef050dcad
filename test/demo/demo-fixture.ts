// Starts a demo server with clients for one test, and wraps the untyped grpc-js client calls.

import { once } from 'node:events';
import type { TestContext } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  startDemoServer,
  type DemoServer,
  type DemoServerOptions,
} from '../../src/demo/demo-server';
import { loadKserveDefinition } from '../../src/demo/kserve-definition';

/** A decoded message as proto-loader returns it. */
export type Message = Record<string, unknown>;

type UnaryMethod = (
  request: object,
  metadata: grpc.Metadata,
  callback: (err: grpc.ServiceError | null, response?: Message) => void,
) => grpc.ClientUnaryCall;

/** A running demo server plus an inference client and a health client, closed after the test. */
export interface DemoFixture {
  readonly server: DemoServer;
  readonly inference: grpc.Client;
  readonly health: grpc.Client;
}

/** Starts a demo server on port 0 and connects both clients; everything closes in t.after. */
export async function createDemoFixture(
  t: TestContext,
  options: DemoServerOptions = {},
): Promise<DemoFixture> {
  const { GRPCInferenceService, Health } = loadKserveDefinition();
  const server = await startDemoServer({ port: 0, ...options });
  const credentials = grpc.credentials.createInsecure();
  const inference = new GRPCInferenceService(server.address, credentials);
  const health = new Health(server.address, credentials);
  t.after(async () => {
    inference.close();
    health.close();
    await server.close();
  });
  return { server, inference, health };
}

/** Starts a unary call by RPC name; returns the call and a promise of its response. */
export function startUnary(
  client: grpc.Client,
  rpc: string,
  request: object,
  metadata = new grpc.Metadata(),
): { call: grpc.ClientUnaryCall; response: Promise<Message> } {
  const method = (client as unknown as Record<string, UnaryMethod>)[rpc];
  if (method === undefined) {
    throw new Error(`client has no method ${rpc}`);
  }
  let call: grpc.ClientUnaryCall | undefined;
  const response = new Promise<Message>((resolve, reject) => {
    call = method.call(client, request, metadata, (err, value) =>
      err === null ? resolve(value ?? {}) : reject(err),
    );
  });
  return { call: call as grpc.ClientUnaryCall, response };
}

/** Calls a unary RPC and resolves with the decoded response (rejects with a ServiceError). */
export function unary(client: grpc.Client, rpc: string, request: object = {}): Promise<Message> {
  return startUnary(client, rpc, request).response;
}

/** Opens a ModelStreamInfer call. */
export function openStream(client: grpc.Client): grpc.ClientDuplexStream<object, Message> {
  const method = (
    client as unknown as Record<string, () => grpc.ClientDuplexStream<object, Message>>
  ).ModelStreamInfer;
  if (method === undefined) {
    throw new Error('client has no method ModelStreamInfer');
  }
  return method.call(client);
}

/**
 * Opens a health Watch call. Its client-side CANCELLED error is swallowed: tests cancel it on
 * purpose and check the server side.
 */
export function openWatch(
  health: grpc.Client,
  service: string,
): grpc.ClientReadableStream<Message> {
  const methods = health as unknown as Record<
    string,
    (request: object) => grpc.ClientReadableStream<Message>
  >;
  const watch = methods.Watch?.call(health, { service });
  if (watch === undefined) {
    throw new Error('client has no method Watch');
  }
  watch.on('error', () => undefined);
  return watch;
}

/** Reads messages from a stream on demand, in order. */
export class StreamReader {
  private readonly messages: Message[] = [];
  private ended = false;

  constructor(private readonly stream: grpc.ClientReadableStream<Message>) {
    stream.on('data', (message: Message) => this.messages.push(message));
    stream.on('end', () => {
      this.ended = true;
    });
  }

  /** Resolves with the next `count` messages; rejects if the stream ends or fails first. */
  async take(count: number): Promise<Message[]> {
    while (this.messages.length < count) {
      if (this.ended) {
        throw new Error(`stream ended after ${this.messages.length} of ${count} messages`);
      }
      await Promise.race([once(this.stream, 'data'), once(this.stream, 'end')]);
    }
    return this.messages.splice(0, count);
  }

  /** Resolves with every remaining message once the server ends the stream. */
  async rest(): Promise<Message[]> {
    if (!this.ended) {
      await once(this.stream, 'end');
    }
    return this.messages.splice(0);
  }
}

/** Sends requests on a fresh stream, half-closes, and resolves with every response. */
export async function streamAll(client: grpc.Client, requests: object[]): Promise<Message[]> {
  const stream = openStream(client);
  const reader = new StreamReader(stream);
  for (const request of requests) {
    stream.write(request);
  }
  stream.end();
  return reader.rest();
}

/** Waits for the next emission of `event` on the server whose first argument is `rpc`. */
export function nextEvent(server: DemoServer, event: string, rpc: string): Promise<unknown[]> {
  return new Promise((resolve) => {
    const listener = (name: string, ...rest: unknown[]): void => {
      if (name === rpc) {
        server.events.off(event, listener);
        resolve(rest);
      }
    };
    server.events.on(event, listener);
  });
}
