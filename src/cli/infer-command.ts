// `infergate infer`: sends one prompt to a KServe v2 endpoint and prints the answer, to try a
// gateway (or a model server) without writing a client.

import * as grpc from '@grpc/grpc-js';
import { decodeBytesElements } from '../demo/bytes-tensor';
import { loadKserveDefinition } from '../demo/kserve-definition';
import { ProxyError } from '../errors/proxy-error';
import { DEFAULTS } from '../config/defaults';
import { parseCount, parseFlags, type CliCommand, type CliIo } from './cli-command';
import {
  CLIENT_CREDENTIAL_FLAGS,
  CLIENT_CREDENTIAL_HELP,
  readClientCredentials,
} from './client-credentials';

const FLAGS = {
  ...CLIENT_CREDENTIAL_FLAGS,
  address: { type: 'string', short: 'a' },
  model: { type: 'string', short: 'm' },
  prompt: { type: 'string', short: 'p' },
  stream: { type: 'boolean', short: 's' },
  'timeout-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The parts of a ModelInferResponse this command prints. */
interface InferResponse {
  model_name: string;
  outputs: { name: string; contents?: { bytes_contents?: Buffer[] } | null }[];
  raw_output_contents: Buffer[];
  parameters: Record<string, { bool_param?: boolean }>;
}

type KserveClient = grpc.Client & Record<string, Function>;

export const inferCommand: CliCommand = {
  name: 'infer',
  summary: 'send one prompt through a gateway (or to a model server) and print the answer',
  help: `Usage: infergate infer [options]

Sends a ModelInfer (or, with --stream, a ModelStreamInfer) request with the prompt as the
BYTES input "text_input" and prints the "text_output" it gets back; streamed tokens are
printed as they arrive. Exits 1 with the gRPC status when the call fails.

Options:
  -a, --address HOST:PORT   where to send it (default localhost:${DEFAULTS.listeners.grpc.port})
  -m, --model NAME          model name (default demo-chat)
  -p, --prompt TEXT         the prompt (default "Hello")
  -s, --stream              stream the answer token by token through ModelStreamInfer
      --timeout-ms N        deadline of the call (default 30000)
${CLIENT_CREDENTIAL_HELP}
  -h, --help                show this help`,

  async run(args, io) {
    const flags = parseFlags(args, FLAGS);
    if (flags.help === true) {
      io.stdout.write(`${this.help}\n`);
      return 0;
    }
    const address = flags.address ?? `localhost:${DEFAULTS.listeners.grpc.port}`;
    const credentials = await readClientCredentials(flags);
    const { GRPCInferenceService } = loadKserveDefinition();
    const client = new GRPCInferenceService(address, credentials.channel) as KserveClient;
    const request = inferRequest(flags.model ?? 'demo-chat', flags.prompt ?? 'Hello');
    const deadline = Date.now() + (parseCount('timeout-ms', flags['timeout-ms']) ?? 30_000);
    const metadata = new grpc.Metadata();
    if (credentials.authorization !== undefined) {
      metadata.set('authorization', credentials.authorization);
    }
    try {
      const call = { client, request, metadata, deadline };
      if (flags.stream === true) await streamInfer(call, io);
      else await unaryInfer(call, io);
      return 0;
    } finally {
      client.close();
    }
  },
};

function inferRequest(model: string, prompt: string) {
  return {
    model_name: model,
    id: 'infergate-cli',
    inputs: [
      {
        name: 'text_input',
        datatype: 'BYTES',
        shape: ['1'],
        contents: { bytes_contents: [Buffer.from(prompt)] },
      },
    ],
  };
}

/** One call to make: where, what, and with which metadata and deadline. */
interface InferCall {
  readonly client: KserveClient;
  readonly request: object;
  readonly metadata: grpc.Metadata;
  readonly deadline: number;
}

function unaryInfer(call: InferCall, io: CliIo): Promise<void> {
  return new Promise((resolve, reject) => {
    call.client.ModelInfer!(
      call.request,
      call.metadata,
      { deadline: call.deadline },
      (err: grpc.ServiceError | null, response: InferResponse) => {
        if (err !== null) return reject(callFailed(err));
        io.stdout.write(`${outputText(response)}\n`);
        resolve();
      },
    );
  });
}

function streamInfer(call: InferCall, io: CliIo): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = call.client.ModelStreamInfer!(call.metadata, {
      deadline: call.deadline,
    }) as grpc.ClientDuplexStream<
      object,
      {
        error_message: string;
        infer_response: InferResponse | null;
      }
    >;
    stream.on('data', (message) => {
      if (message.error_message !== '')
        return reject(new ProxyError('ERR_USAGE', message.error_message));
      const response = message.infer_response!;
      io.stdout.write(outputText(response));
      if (response.parameters.triton_final_response?.bool_param !== false) stream.end();
    });
    stream.on('error', (err: grpc.ServiceError) => reject(callFailed(err)));
    stream.on('end', () => {
      io.stdout.write('\n');
      resolve();
    });
    stream.write(call.request);
  });
}

/** The `text_output` tensor as text, from either the typed or the raw form. */
function outputText(response: InferResponse): string {
  const index = response.outputs.findIndex((output) => output.name === 'text_output');
  if (index < 0) return '';
  const typed = response.outputs[index]!.contents?.bytes_contents;
  const raw = response.raw_output_contents[index];
  const elements = typed?.length
    ? typed
    : raw === undefined
      ? []
      : (decodeBytesElements(raw) ?? []);
  return elements.map((element) => Buffer.from(element).toString('utf8')).join('');
}

function callFailed(err: grpc.ServiceError): Error {
  const name = grpc.status[err.code] ?? String(err.code);
  return new Error(`call failed with ${name}: ${err.details}`);
}
