// The grpc-js KServe clients the benchmark drives, one set per target, built identically.

import * as grpc from '@grpc/grpc-js';
import { loadKserveDefinition } from '../src/demo/kserve-definition';
import type {
  ModelInferRequest,
  ModelInferResponse,
  ModelStreamInferResponse,
} from '../src/demo/kserve-messages';
import type { ClientCredentials } from './target-credentials';

/** The two RPCs the benchmark calls, typed over the untyped proto-loader client. */
export interface InferenceClient extends grpc.Client {
  ModelInfer(
    request: ModelInferRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: (err: grpc.ServiceError | null, response?: ModelInferResponse) => void,
  ): grpc.ClientUnaryCall;
  ModelStreamInfer(
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
  ): grpc.ClientDuplexStream<ModelInferRequest, ModelStreamInferResponse>;
}

/** How long a target's channels may take to connect before it counts as failed to start. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Cleartext without `credentials`; with them TLS presenting the client certificate, and every
 * call carrying the token as `authorization` metadata (grpc-js sends call credentials only over
 * TLS, as the token must not cross a network in the clear).
 */
function channelCredentials(credentials: ClientCredentials | undefined): grpc.ChannelCredentials {
  if (credentials === undefined) return grpc.credentials.createInsecure();
  const { ca, key, cert, authorization } = credentials;
  const token = grpc.credentials.createFromMetadataGenerator((_options, callback) => {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', authorization);
    callback(null, metadata);
  });
  return grpc.credentials.combineChannelCredentials(
    grpc.credentials.createSsl(ca, key, cert),
    token,
  );
}

/**
 * Creates `count` clients for `address`, over TLS with `credentials`. grpc-js shares one
 * connection among channels with equal options through its global subchannel pool; a local pool
 * per channel gives each its own HTTP/2 connection, so one socket is not the client's bottleneck.
 */
export function createClients(
  address: string,
  count: number,
  targetCredentials?: ClientCredentials,
): InferenceClient[] {
  const { GRPCInferenceService } = loadKserveDefinition();
  const credentials = channelCredentials(targetCredentials);
  const clients: InferenceClient[] = [];
  const serverName =
    targetCredentials === undefined
      ? {}
      : { 'grpc.ssl_target_name_override': targetCredentials.serverName };
  for (let index = 0; index < count; index += 1) {
    const options: grpc.ChannelOptions = { 'grpc.use_local_subchannel_pool': 1, ...serverName };
    const client: unknown = new GRPCInferenceService(address, credentials, options);
    clients.push(client as InferenceClient);
  }
  return clients;
}

/** Resolves once every client is connected; rejects naming `target` when one is not in time. */
export async function waitForClients(
  target: string,
  clients: readonly InferenceClient[],
): Promise<void> {
  const deadline = Date.now() + CONNECT_TIMEOUT_MS;
  const ready = clients.map(
    (client) =>
      new Promise<void>((resolve, reject) =>
        client.waitForReady(deadline, (err) =>
          err === undefined || err === null
            ? resolve()
            : reject(new Error(`${target} did not accept connections: ${err.message}`)),
        ),
      ),
  );
  await Promise.all(ready);
}

/** Closes every client's channel. */
export function closeClients(clients: readonly InferenceClient[]): void {
  for (const client of clients) client.close();
}
