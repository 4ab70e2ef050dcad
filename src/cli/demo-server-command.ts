// `infergate demo-server`: runs the bundled demo model server alone, as an upstream.

import { readEnvironment } from '../config/environment';
import { DEFAULTS } from '../config/defaults';
import { startDemoHttpServer } from '../demo/demo-http-server';
import { startDemoServer } from '../demo/demo-server';
import { createRootLogger } from '../observe/logger';
import { parseCount, parseFlags, parsePort, type CliCommand } from './cli-command';
import { runUntilSignal } from './process-lifecycle';

const FLAGS = {
  host: { type: 'string' },
  port: { type: 'string' },
  'http-port': { type: 'string' },
  'token-delay-ms': { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const demoServerCommand: CliCommand = {
  name: 'demo-server',
  summary: 'run the bundled demo model server (KServe v2 gRPC and HTTP) on its own',
  help: `Usage: infergate demo-server [options]

Runs the deterministic demo model server that the embedded default forwards to: models
"demo-chat" (text_input -> text_output, streamed token by token through ModelStreamInfer),
"echo" (returns its input) and "echo-stream" (streams its prompt back word by word, or in
pieces of demo_token_bytes bytes; code points over HTTP), on a KServe v2 gRPC port and an
HTTP port (OpenAI, vLLM and Triton HTTP/REST). Useful as an upstream for trying and
benchmarking infergate.

Options:
      --host HOST          address to bind both sides (default 127.0.0.1)
      --port N             gRPC port (default 0: a free one)
      --http-port N        HTTP port (default 0: a free one)
      --token-delay-ms N   delay between streamed tokens (default 0: as fast as possible)
      --log-level LEVEL    as for start (default ${DEFAULTS.log.level})
  -h, --help               show this help

When bound it logs one JSON line per side with msg "listening", the listener ("demo" for
gRPC, "demo-http" for HTTP) and its address.`,

  async run(args, io) {
    const flags = parseFlags(args, FLAGS);
    if (flags.help === true) {
      io.stdout.write(`${this.help}\n`);
      return 0;
    }
    const level = flags['log-level'] ?? readEnvironment().logLevel ?? DEFAULTS.log.level;
    const host = flags.host ?? '127.0.0.1';
    const httpPort = parsePort('http-port', flags['http-port']) ?? 0;
    const options = {
      host,
      tokenDelayMs: parseCount('token-delay-ms', flags['token-delay-ms']) ?? 0,
      logger: createRootLogger(level),
    };
    const { logger } = options;

    const demo = await startDemoServer({ ...options, port: parsePort('port', flags.port) ?? 0 });
    let http;
    try {
      http = await startDemoHttpServer({ ...options, port: httpPort });
    } catch (err) {
      await demo.close();
      throw err;
    }
    logger.info({ listener: 'demo', address: demo.address }, 'listening');
    logger.info({ listener: 'demo-http', address: http.address }, 'listening');
    return runUntilSignal(
      logger,
      async () => void (await Promise.all([demo.close(), http.close()])),
    );
  },
};
