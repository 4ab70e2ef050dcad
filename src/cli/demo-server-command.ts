// `infergate demo-server`: runs the bundled demo model server alone, as an upstream.

import { readEnvironment } from '../config/environment';
import { DEFAULTS } from '../config/defaults';
import { startDemoServer } from '../demo/demo-server';
import { createRootLogger } from '../observe/logger';
import { parseCount, parseFlags, parsePort, type CliCommand } from './cli-command';
import { runUntilSignal } from './process-lifecycle';

const FLAGS = {
  host: { type: 'string' },
  port: { type: 'string' },
  'token-delay-ms': { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const demoServerCommand: CliCommand = {
  name: 'demo-server',
  summary: 'run the bundled demo model server (KServe v2 gRPC) on its own',
  help: `Usage: infergate demo-server [options]

Runs the deterministic demo model server that the embedded default forwards to: models
"demo-chat" (text_input -> text_output, streamed token by token through ModelStreamInfer)
and "echo" (returns its input). Useful as an upstream for trying and benchmarking infergate.

Options:
      --host HOST          address to bind (default 127.0.0.1)
      --port N             port (default 0: a free one)
      --token-delay-ms N   delay between streamed tokens (default 0: as fast as possible)
      --log-level LEVEL    as for start (default ${DEFAULTS.log.level})
  -h, --help               show this help

When bound it logs one JSON line with msg "listening" and its address.`,

  async run(args, io) {
    const flags = parseFlags(args, FLAGS);
    if (flags.help === true) {
      io.stdout.write(`${this.help}\n`);
      return 0;
    }
    const level = flags['log-level'] ?? readEnvironment().logLevel ?? DEFAULTS.log.level;
    const logger = createRootLogger(level);
    const demo = await startDemoServer({
      host: flags.host ?? '127.0.0.1',
      port: parsePort('port', flags.port) ?? 0,
      tokenDelayMs: parseCount('token-delay-ms', flags['token-delay-ms']) ?? 0,
      logger,
    });
    logger.info({ listener: 'demo', address: demo.address }, 'listening');
    return runUntilSignal(logger, () => demo.close());
  },
};
