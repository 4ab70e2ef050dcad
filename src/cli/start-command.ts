// `infergate start`: runs the gateway from a file, from --upstream, or on the embedded default.

import { availableParallelism } from 'node:os';
import path from 'node:path';
import { ensureKeyDirectory } from '../audit/audit-key-directory';
import { clusterMetricsExposition } from '../cluster/cluster-metrics';
import { ConfigurationCheck } from '../cluster/configuration-check';
import {
  clusterRoleOf,
  type ClusterRole,
  type DemoAddresses,
  type WorkerCount,
} from '../cluster/cluster-role';
import { CRASH_LOOP_DEATHS, QUICK_DEATH_MS } from '../cluster/crash-loop-guard';
import { runCluster } from '../cluster/worker-cluster';
import { withWorkerLogId } from '../cluster/worker-log-id';
import { leaveTerminalSignalsToPrimary, runAsWorker } from '../cluster/worker-process';
import {
  buildConfig,
  loadConfigFile,
  type ConfigOrigin,
  type ConfigOverrides,
} from '../config/load-config';
import { DEFAULTS } from '../config/defaults';
import { readEnvironment, type Environment } from '../config/environment';
import type { GatewayConfig } from '../config/gateway-config';
import { startDemoHttpServer } from '../demo/demo-http-server';
import { startDemoServer } from '../demo/demo-server';
import { startGateway } from '../gateway';
import { checkReviewsEnforceable } from '../gateway-reviews';
import { developmentCertificatePaths } from '../identity/pki/development-certificates';
import { createRootLogger, type Logger } from '../observe/logger';
import { ProxyError } from '../errors/proxy-error';
import { parseCount, parseFlags, parsePort, type CliCommand } from './cli-command';
import {
  DEVELOPMENT_CERTS_DIR,
  developmentIdentity,
  developmentIdentitySections,
  logDevelopmentIdentity,
  type DevelopmentIdentity,
} from './development-identity';
import { runUntilSignal } from './process-lifecycle';

const FLAGS = {
  config: { type: 'string', short: 'c' },
  upstream: { type: 'string', multiple: true },
  'grpc-port': { type: 'string' },
  'http-port': { type: 'string' },
  'admin-port': { type: 'string' },
  workers: { type: 'string' },
  'log-level': { type: 'string' },
  'demo-token-delay-ms': { type: 'string' },
  certs: { type: 'string' },
  insecure: { type: 'boolean' },
  mask: { type: 'string' },
  'audit-dir': { type: 'string' },
  'no-audit': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Where a start without a configuration file writes its audit frames. */
const DEVELOPMENT_AUDIT_DIR = 'audit';

/** Delay between the demo model's streamed tokens, so a newcomer sees them arrive. */
const DEMO_TOKEN_DELAY_MS = 40;

/** The most workers --workers takes: a guard against a typo forking thousands of processes. */
const MAX_WORKERS = 1024;

export const startCommand: CliCommand = {
  name: 'start',
  summary: 'run the gateway',
  help: `Usage: infergate start [options]

Runs the gateway until SIGINT or SIGTERM, then drains.

With no --config (and no INFERGATE_CONFIG) and no --upstream, it runs the embedded default:
the bundled demo model server (gRPC and HTTP) on loopback ports, with the gateway in front.

Options:
  -c, --config FILE            configuration file (infergate.yaml); env INFERGATE_CONFIG
      --upstream URL           put the gateway in front of an existing model server:
                               grpc://HOST:PORT or grpcs:// for KServe v2 gRPC (Triton),
                               http://HOST:PORT or https:// for OpenAI-compatible servers,
                               vLLM or Triton's HTTP API; give one of each to serve both
      --grpc-port N            gRPC listener port (0 picks a free one; default ${DEFAULTS.listeners.grpc.port})
      --http-port N            HTTP listener port (0 picks a free one; default ${DEFAULTS.listeners.http.port})
      --admin-port N           admin listener port (0 picks a free one; default ${DEFAULTS.listeners.admin.port})
      --workers N              gateway processes serving on the same ports (default one per core
                               this process may run on, ${availableParallelism()} here; a container's CPU quota is
                               not counted), a cluster even of one; --workers 1 runs the
                               gateway in this process alone, with no cluster
      --log-level LEVEL        fatal, error, warn, info, debug, trace or silent; env INFERGATE_LOG_LEVEL
      --demo-token-delay-ms N  embedded default only: delay between streamed tokens (default ${DEMO_TOKEN_DELAY_MS})
      --certs DIR              without --config: the development certificates, made on first
                               run (default ${DEVELOPMENT_CERTS_DIR}); every listener needs a client certificate
                               from its CA and a token bound to it (infergate token issue)
      --insecure               without --config: cleartext listeners that authenticate nobody,
                               for benchmarks and trials on a trusted machine only
      --mask WHAT              without --config: where card data is masked: both (default),
                               prompts, responses or none
      --audit-dir DIR          without --config: where audit frames are written (default
                               ${DEVELOPMENT_AUDIT_DIR}), signed by development keys in DIR/keys
      --no-audit               without --config: record nothing (benchmarks of the plain path)
  -h, --help                   show this help

When every listener is bound it logs one JSON line per listener with msg "listening",
the listener's name and its actual address.

Unless --workers 1 is given, this process is the primary: it checks the configuration, makes
the development certificates and audit keys and runs the demo model server, then forks the
workers, which log their own "listening" lines; once all are listening it logs "workers ready".
Each worker writes its own audit chain, LOGID-w1 to LOGID-wN (LOGID is the host name unless
the configuration names one). A worker that dies is replaced; when a slot's workers die
${CRASH_LOOP_DEATHS} times in a row, each within ${QUICK_DEATH_MS / 1000} s of its start,
the cluster stops with exit code 1. SIGINT and SIGTERM drain every worker. SIGHUP reloads
every worker's certificates and keys or, when the configuration file changed into one that
loads, restarts the workers one at a time on it (a lone worker hands over to a stand-in,
LOGID-w2, while it restarts); send them to the primary.`,

  async run(args, io) {
    const flags = parseFlags(args, FLAGS);
    if (flags.help === true) {
      io.stdout.write(`${this.help}\n`);
      return 0;
    }
    const env = readEnvironment();
    const launch = { role: clusterRoleOf(parseWorkers(flags.workers), env), args };
    if (launch.role.kind === 'worker') leaveTerminalSignalsToPrimary();
    const overrides: ConfigOverrides = {
      grpcPort: parsePort('grpc-port', flags['grpc-port']),
      httpPort: parsePort('http-port', flags['http-port']),
      adminPort: parsePort('admin-port', flags['admin-port']),
      logLevel: flags['log-level'],
    };
    const configFile = flags.config ?? env.configFile;
    const upstreams = flags.upstream ?? [];
    if (configFile !== undefined && upstreams.length > 0) {
      throw new ProxyError('ERR_USAGE', '--upstream and --config cannot be combined');
    }
    if (configFile !== undefined) {
      const fileless = ['certs', 'insecure', 'mask', 'audit-dir', 'no-audit'] as const;
      if (fileless.some((name) => flags[name] !== undefined)) {
        const message =
          '--certs, --insecure, --mask, --audit-dir and --no-audit do not apply to --config';
        throw new ProxyError('ERR_USAGE', message);
      }
      const load = () => loadConfigFile(configFile, env, overrides);
      const config = load();
      const fromFile = { ...launch, configFile: { path: configFile, load } };
      return serve(config, createRootLogger(config.log.level), fromFile);
    }

    if (flags.certs !== undefined && flags.insecure === true) {
      throw new ProxyError('ERR_USAGE', '--certs and --insecure cannot be combined');
    }
    const certsDir = flags.insecure === true ? undefined : (flags.certs ?? DEVELOPMENT_CERTS_DIR);
    if (flags['no-audit'] === true && flags['audit-dir'] !== undefined) {
      throw new ProxyError('ERR_USAGE', '--audit-dir and --no-audit cannot be combined');
    }
    const masking = flags.mask === undefined ? {} : { masking: { mask: flags.mask } };
    const auditDir =
      flags['no-audit'] === true ? undefined : (flags['audit-dir'] ?? DEVELOPMENT_AUDIT_DIR);
    const makesFiles = launch.role.kind !== 'worker';
    const start = new StartWithoutFile(env, overrides, certsDir, masking, auditDir, makesFiles);
    if (upstreams.length > 0) {
      const config = upstreamConfig(upstreams, start);
      return serve(config, start.logger(config), launch);
    }
    const delay =
      parseCount('demo-token-delay-ms', flags['demo-token-delay-ms']) ?? DEMO_TOKEN_DELAY_MS;
    return serveEmbeddedDefault(start, delay, launch);
  },
};

/** What runs once the configuration is built: the process's cluster role, and its arguments. */
interface Launch {
  readonly role: ClusterRole;
  /** The `start` arguments, which a primary's workers run again. */
  readonly args: readonly string[];
  /** The configuration file and how it is loaded, when the gateway runs on one. */
  readonly configFile?: { readonly path: string; readonly load: () => GatewayConfig };
}

/**
 * Reads --workers: a whole number from 1, where 1 serves in this process alone; by default one
 * per core the process may run on, in a cluster even when that is one core.
 */
function parseWorkers(value: string | undefined): WorkerCount {
  if (value === undefined) return { workers: availableParallelism(), alone: false };
  const workers = Number(value);
  if (!/^[1-9][0-9]{0,3}$/.test(value) || workers > MAX_WORKERS) {
    throw new ProxyError(
      'ERR_USAGE',
      `--workers "${value}" is not a whole number from 1 to ${MAX_WORKERS}`,
    );
  }
  return { workers, alone: workers === 1 };
}

/**
 * A start without a configuration file: upstreams from flags, the development identity from
 * `certsDir` (none with --insecure). The document is validated without the identity first, so a
 * bad flag is reported before any certificate file is written. Unless `makesFiles`, the
 * certificates and audit keys are read as a primary made them, never written: its workers
 * would otherwise race to write the same files.
 */
class StartWithoutFile {
  private identity: DevelopmentIdentity | undefined;

  constructor(
    private readonly env: Environment,
    private readonly overrides: ConfigOverrides,
    private readonly certsDir: string | undefined,
    /** Sections the flags set besides the upstreams (`masking` from --mask). */
    private readonly sections: Record<string, unknown>,
    /** Where audit frames go; undefined with --no-audit. */
    private readonly auditDir: string | undefined,
    private readonly makesFiles: boolean,
  ) {}

  build(upstreams: { upstreams: object[] }, origin?: ConfigOrigin): GatewayConfig {
    const document = { ...upstreams, ...this.sections };
    const plain = buildConfig(document, this.env, this.overrides, origin);
    if (this.certsDir === undefined && this.auditDir === undefined) return plain;
    if (this.certsDir !== undefined) this.identity ??= this.identityIn(this.certsDir);
    return buildConfig(
      { ...document, ...this.identity?.sections, ...this.auditSection() },
      this.env,
      this.overrides,
      origin,
    );
  }

  private identityIn(certsDir: string): DevelopmentIdentity {
    if (this.makesFiles) return developmentIdentity(certsDir);
    const sections = developmentIdentitySections(developmentCertificatePaths(certsDir));
    return { sections, written: [] };
  }

  /** The `audit` section on the development keys, made in the audit folder on first run. */
  private auditSection(): Record<string, unknown> {
    if (this.auditDir === undefined) return {};
    const dir = path.resolve(this.auditDir);
    const signingKeyDir = path.join(dir, 'keys');
    if (this.makesFiles) ensureKeyDirectory(signingKeyDir);
    return { audit: { files: { dir }, signingKeyDir } };
  }

  /** The root logger, which then tells what the development identity is (once, not per worker). */
  logger(config: GatewayConfig): Logger {
    const logger = createRootLogger(config.log.level);
    if (this.identity !== undefined && this.makesFiles) {
      logDevelopmentIdentity(this.identity, this.certsDir!, logger);
    }
    return logger;
  }
}

/** One upstream per protocol, named after it, with the built-in defaults for everything else. */
function upstreamConfig(urls: readonly string[], start: StartWithoutFile): GatewayConfig {
  const upstreams = urls.map((address) => ({ name: upstreamName(address), address }));
  const names = upstreams.map((upstream) => upstream.name);
  if (new Set(names).size !== names.length) {
    const message = '--upstream takes one gRPC and one HTTP model server; use --config for more';
    throw new ProxyError('ERR_USAGE', message);
  }
  return start.build({ upstreams }, { source: '--upstream', baseDir: process.cwd() });
}

function upstreamName(address: string): string {
  return /^grpcs?:/i.test(address) ? 'grpc-upstream' : 'http-upstream';
}

/** The demo model server's two sides, running until the gateway stops. */
interface RunningDemo {
  readonly addresses: DemoAddresses;
  close(): Promise<void>;
}

/**
 * The gateway in front of the demo model server, which this process starts; a cluster worker
 * uses the one its primary started instead.
 */
async function serveEmbeddedDefault(
  start: StartWithoutFile,
  tokenDelayMs: number,
  launch: Launch,
): Promise<number> {
  if (launch.role.kind === 'worker') {
    const demo = launch.role.demo;
    if (demo === undefined) {
      const message = 'the cluster primary named no demo model server for its worker';
      throw new ProxyError('ERR_CONFIG_INVALID', message);
    }
    const config = start.build({ upstreams: demoUpstreams(demo.grpc, demo.http) });
    return serve(config, start.logger(config), launch);
  }
  // Validate before starting anything, so a bad flag never leaves a demo server running.
  const probe = start.build({ upstreams: demoUpstreams('127.0.0.1:1', '127.0.0.1:1') });
  const logger = start.logger(probe);
  const options = { tokenDelayMs, logger: logger.child({ component: 'demo' }) };
  const grpc = await startDemoServer(options);
  const http = await startDemoHttpServer(options);
  logger.info({ grpc: grpc.address, http: http.address }, 'demo model server started');
  const demo = {
    addresses: { grpc: grpc.address, http: http.address },
    close: async () => void (await Promise.all([grpc.close(), http.close()])),
  };
  const config = start.build({ upstreams: demoUpstreams(grpc.address, http.address) });
  return serve(config, logger, launch, demo);
}

function demoUpstreams(grpcAddress: string, httpAddress: string) {
  return [
    { name: 'demo', address: `grpc://${grpcAddress}` },
    { name: 'demo-http', address: `http://${httpAddress}` },
  ];
}

/** Runs the gateway in this process (alone or as a worker), or the cluster of workers. */
async function serve(
  config: GatewayConfig,
  root: Logger,
  launch: Launch,
  demo?: RunningDemo,
): Promise<number> {
  const { role } = launch;
  if (role.kind === 'primary') return serveCluster(config, root, role.workers, launch, demo);
  const { config: own, logger } =
    role.kind === 'worker' ? asWorker(config, root, role.slot) : { config, logger: root };
  let gateway;
  try {
    // A worker's /metrics shows the whole cluster, gathered through the primary.
    const metricsExposition = role.kind === 'worker' ? clusterMetricsExposition : undefined;
    gateway = await startGateway(own, logger, { metricsExposition });
  } catch (err) {
    await demo?.close();
    throw err;
  }
  const shutdown = async () => {
    await gateway.close();
    await demo?.close();
  };
  const reload = () => void gateway.reloadTls();
  if (role.kind === 'worker') return runAsWorker(logger, { shutdown, reload }, gateway.addresses);
  return runUntilSignal(logger, shutdown, reload);
}

/**
 * What the worker in `slot` changes: it writes its own audit chain, and its log lines name its
 * slot and pid (the root logger's base fields leave out pino's pid).
 */
function asWorker(config: GatewayConfig, root: Logger, slot: number) {
  const logger = root.child({ workerSlot: slot, pid: process.pid });
  return { config: withWorkerLogId(config, slot), logger };
}

/**
 * The primary of a cluster: it serves nothing itself, and stops the demo model server it runs
 * for the workers once they have all exited. What the workers would each find wrong in the
 * configuration is reported here, once, before any worker starts.
 */
async function serveCluster(
  config: GatewayConfig,
  logger: Logger,
  workers: number,
  launch: Launch,
  demo: RunningDemo | undefined,
): Promise<number> {
  try {
    checkReviewsEnforceable(config);
    if (config.reviews !== undefined && config.reviews.postgres === undefined) {
      // Limitation: without reviews.postgres each worker keeps its own reviews and grants, so a
      // decision made through one worker's admin listener is unknown to the others.
      logger.warn({ workers }, 'each worker keeps its own reviews in memory');
    }
    const file = launch.configFile;
    const check =
      file === undefined
        ? undefined
        : new ConfigurationCheck(file.path, loadable(file.load), config, logger);
    return await runCluster({
      workers,
      args: launch.args,
      logger,
      demo: demo?.addresses,
      configurationChanged: check === undefined ? undefined : () => check.changed(),
    });
  } finally {
    await demo?.close();
  }
}

/** `load`, refusing as a start does what the workers could not start on. */
function loadable(load: () => GatewayConfig): () => GatewayConfig {
  return () => {
    const config = load();
    checkReviewsEnforceable(config);
    return config;
  };
}
