// `infergate start`: runs the gateway from a file, from --upstream, or on the embedded default.

import { buildConfig, loadConfigFile, type ConfigOverrides } from '../config/load-config';
import { DEFAULT_UPSTREAM_NAME, DEFAULTS } from '../config/defaults';
import { readEnvironment, type Environment } from '../config/environment';
import type { GatewayConfig } from '../config/gateway-config';
import { startDemoServer, type DemoServer } from '../demo/demo-server';
import { startGateway } from '../gateway';
import { createRootLogger, type Logger } from '../observe/logger';
import { ProxyError } from '../errors/proxy-error';
import { parseCount, parseFlags, parsePort, type CliCommand } from './cli-command';
import { runUntilSignal } from './process-lifecycle';

const FLAGS = {
  config: { type: 'string', short: 'c' },
  upstream: { type: 'string', multiple: true },
  'grpc-port': { type: 'string' },
  'admin-port': { type: 'string' },
  'log-level': { type: 'string' },
  'demo-token-delay-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Delay between the demo model's streamed tokens, so a newcomer sees them arrive. */
const DEMO_TOKEN_DELAY_MS = 40;

export const startCommand: CliCommand = {
  name: 'start',
  summary: 'run the gateway',
  help: `Usage: infergate start [options]

Runs the gateway until SIGINT or SIGTERM, then drains.

With no --config (and no INFERGATE_CONFIG) and no --upstream, it runs the embedded default:
a bundled demo model server on a loopback port, with the gateway in front of it.

Options:
  -c, --config FILE            configuration file (infergate.yaml); env INFERGATE_CONFIG
      --upstream URL           put the gateway in front of an existing model server,
                               grpc://HOST:PORT or grpcs://HOST:PORT; defaults elsewhere
      --grpc-port N            gRPC listener port (0 picks a free one; default ${DEFAULTS.listeners.grpc.port})
      --admin-port N           admin listener port (0 picks a free one; default ${DEFAULTS.listeners.admin.port})
      --log-level LEVEL        fatal, error, warn, info, debug, trace or silent; env INFERGATE_LOG_LEVEL
      --demo-token-delay-ms N  embedded default only: delay between streamed tokens (default ${DEMO_TOKEN_DELAY_MS})
  -h, --help                   show this help

When every listener is bound it logs one JSON line per listener with msg "listening",
the listener's name and its actual address.`,

  async run(args, io) {
    const flags = parseFlags(args, FLAGS);
    if (flags.help === true) {
      io.stdout.write(`${this.help}\n`);
      return 0;
    }
    const env = readEnvironment();
    const overrides: ConfigOverrides = {
      grpcPort: parsePort('grpc-port', flags['grpc-port']),
      adminPort: parsePort('admin-port', flags['admin-port']),
      logLevel: flags['log-level'],
    };
    const configFile = flags.config ?? env.configFile;
    const upstreams = flags.upstream ?? [];
    if (configFile !== undefined && upstreams.length > 0) {
      throw new ProxyError('ERR_USAGE', '--upstream and --config cannot be combined');
    }

    if (configFile !== undefined || upstreams.length > 0) {
      const config =
        configFile !== undefined
          ? loadConfigFile(configFile, env, overrides)
          : upstreamConfig(upstreams, env, overrides);
      return serve(config, createRootLogger(config.log.level));
    }
    const delay =
      parseCount('demo-token-delay-ms', flags['demo-token-delay-ms']) ?? DEMO_TOKEN_DELAY_MS;
    return serveEmbeddedDefault(env, overrides, delay);
  },
};

function upstreamConfig(
  urls: readonly string[],
  env: Environment,
  overrides: ConfigOverrides,
): GatewayConfig {
  if (urls.length > 1) {
    throw new ProxyError(
      'ERR_USAGE',
      '--upstream takes one gRPC model server; use --config for more',
    );
  }
  return buildConfig(
    { upstreams: [{ name: DEFAULT_UPSTREAM_NAME, address: urls[0] }] },
    env,
    overrides,
    {
      source: '--upstream',
      baseDir: process.cwd(),
    },
  );
}

async function serveEmbeddedDefault(
  env: Environment,
  overrides: ConfigOverrides,
  tokenDelayMs: number,
): Promise<number> {
  // Validate before starting anything, so a bad flag never leaves a demo server running.
  const probe = buildConfig(
    { upstreams: [{ name: 'demo', address: 'grpc://127.0.0.1:1' }] },
    env,
    overrides,
  );
  const logger = createRootLogger(probe.log.level);
  const demo = await startDemoServer({ tokenDelayMs, logger: logger.child({ component: 'demo' }) });
  const address = `grpc://${demo.address}`;
  const config = buildConfig({ upstreams: [{ name: 'demo', address }] }, env, overrides);
  return serve(config, logger, demo);
}

async function serve(config: GatewayConfig, logger: Logger, demo?: DemoServer): Promise<number> {
  let gateway;
  try {
    gateway = await startGateway(config, logger);
  } catch (err) {
    await demo?.close();
    throw err;
  }
  return runUntilSignal(logger, async () => {
    await gateway.close();
    await demo?.close();
  });
}
