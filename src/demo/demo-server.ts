// The bundled demo KServe v2 model server: a deterministic upstream for demos, tests and bench.

import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import pino, { type Logger } from 'pino';
import { adminHandlers } from './demo-admin-handlers';
import type { DemoContext } from './demo-context';
import { healthHandlers } from './demo-health';
import { handleModelInfer, handleModelStreamInfer } from './demo-infer-handlers';
import { DemoModelRegistry } from './demo-models';
import { observeDefinition, observeImplementation } from './demo-observed-service';
import { DemoSettings, settingsHandlers } from './demo-settings';
import { loadKserveDefinition } from './kserve-definition';

/** How long `close()` waits for in-flight calls before cutting them off. */
const CLOSE_GRACE_MS = 2_000;

/** Message size limits lifted (-1) so large tensors pass in both directions. */
const SERVER_OPTIONS: grpc.ServerOptions = Object.freeze({
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': -1,
});

/** Where and how the demo server runs. */
export interface DemoServerOptions {
  /** Interface to bind; default '127.0.0.1'. */
  host?: string;
  /** Port to bind; default 0 picks a free one (read it back from `DemoServer.port`). */
  port?: number;
  /** Delay between streamed tokens; default 0 (fast mode, for benchmarks and tests). */
  tokenDelayMs?: number;
  /** Logger for lifecycle lines; default a disabled logger. */
  logger?: Logger;
  /** How the port is secured; default cleartext (tests give TLS and mTLS credentials). */
  credentials?: grpc.ServerCredentials;
}

/** A running demo server. */
export interface DemoServer {
  /** 'host:port' actually bound. */
  readonly address: string;
  readonly port: number;
  /**
   * Emits `('request', rpcName, Buffer)` per request message received,
   * `('response', rpcName, Buffer)` per response message sent, `('metadata', rpcName,
   * grpc.Metadata, peerFingerprint)` per call, and `('cancelled', rpcName)` when a client cancels a call.
   */
  readonly events: EventEmitter;
  /** Stops accepting calls, lets in-flight ones finish, and cuts them off after a short bound. */
  close(): Promise<void>;
}

/** Registers the inference and health services, observed, on `server`. */
function registerServices(server: grpc.Server, context: DemoContext): void {
  const { GRPCInferenceService, Health } = loadKserveDefinition();
  const inference = {
    ...adminHandlers(context),
    ...settingsHandlers(context),
    ModelInfer: handleModelInfer(context),
    ModelStreamInfer: handleModelStreamInfer(context),
  };
  server.addService(
    observeDefinition(GRPCInferenceService.service, context.events),
    observeImplementation(inference, context.events),
  );
  server.addService(
    observeDefinition(Health.service, context.events),
    observeImplementation(healthHandlers(context), context.events),
  );
}

/** 'host:port', with IPv6 hosts in brackets. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Binds without TLS (the demo upstream is local) and resolves with the bound port. */
function bind(
  server: grpc.Server,
  host: string,
  port: number,
  credentials: grpc.ServerCredentials,
): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(hostPort(host, port), credentials, (err, boundPort) => {
      if (err !== null) {
        reject(err);
        return;
      }
      resolve(boundPort);
    });
  });
}

/** Ends long-lived calls, shuts down gracefully, and forces the rest after the grace bound. */
function shutdown(server: grpc.Server, context: DemoContext): Promise<void> {
  for (const hook of context.shutdownHooks) {
    hook();
  }
  context.shutdownHooks.clear();

  return new Promise((resolve) => {
    const force = setTimeout(() => {
      context.logger.warn({ graceMs: CLOSE_GRACE_MS }, 'demo server forced shutdown');
      server.forceShutdown();
      resolve();
    }, CLOSE_GRACE_MS);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}

/**
 * Starts the demo server with `demo-chat` and `echo` ready. Rejects when the address cannot
 * be bound or the protos cannot be loaded.
 */
export async function startDemoServer(options: DemoServerOptions = {}): Promise<DemoServer> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? pino({ enabled: false });
  const context: DemoContext = {
    registry: new DemoModelRegistry(),
    settings: new DemoSettings(),
    events: new EventEmitter(),
    tokenDelayMs: Math.max(0, options.tokenDelayMs ?? 0),
    logger,
    shutdownHooks: new Set(),
  };
  const server = new grpc.Server(SERVER_OPTIONS);
  registerServices(server, context);

  const credentials = options.credentials ?? grpc.ServerCredentials.createInsecure();
  const port = await bind(server, host, options.port ?? 0, credentials).catch((err: unknown) => {
    server.forceShutdown();
    throw err;
  });
  const address = hostPort(host, port);
  logger.info({ address, tokenDelayMs: context.tokenDelayMs }, 'demo server listening');

  let closing: Promise<void> | undefined;
  return {
    address,
    port,
    events: context.events,
    close: () => {
      closing ??= shutdown(server, context).then(() =>
        logger.info({ address }, 'demo server closed'),
      );
      return closing;
    },
  };
}
