// Starts the targets' child processes: the demo server, one gateway per gateway target, then
// nginx.

import { gatewaysFor, NGINX_ROLE, type GatewayTarget, type TargetName } from './bench-targets';
import { startNginx, type NginxInstall } from './nginx-target';
import type { BenchProcess, BenchProcesses } from './processes';
import type { ScenarioProtocol } from './scenario';
import { readClientCredentials, type ClientCredentials } from './target-credentials';
import type { BenchTempDirs } from './temp-dirs';

/** One target's listeners as its clients reach them. */
export interface TargetEndpoint {
  readonly target: TargetName;
  /** Human name in progress lines and connection errors (`demo server`, `masked infergate`). */
  readonly label: string;
  /** 'host:port' of the target's gRPC and HTTP listener. */
  readonly addresses: Readonly<Record<ScenarioProtocol, string>>;
  /** What a client presents to a secured target; undefined for a cleartext one. */
  readonly credentials?: ClientCredentials;
}

/** The running children and what the run needs of them. */
export interface Targets {
  readonly children: readonly BenchProcess[];
  /** Child pid by CPU role (`demo`, `gateway`, `maskedGateway`, ..., `nginx`). */
  readonly pids: ReadonlyMap<string, number>;
  /** The measured targets in round order. */
  readonly endpoints: readonly TargetEndpoint[];
  /** The children's command lines by role, as run. */
  readonly commands: Record<string, readonly string[]>;
}

/** What the gateways share besides their --mask and audit. */
export interface GatewayOptions {
  readonly logLevel: string;
  readonly progress: (line: string) => void;
  /**
   * Where an auditing gateway gets its audit directory, the secured one its certificates and
   * nginx its prefix directory, each removed after the children stop.
   */
  readonly tempDirs: BenchTempDirs;
  /** nginx as found on PATH; the `nginx` target is started only with it. */
  readonly nginx?: NginxInstall;
}

function listening(
  endpoint: TargetEndpoint,
  child: BenchProcess,
  progress: (line: string) => void,
) {
  const { grpc, http } = endpoint.addresses;
  progress(`${endpoint.label} listening on gRPC ${grpc}, HTTP ${http} (pid ${child.pid})`);
}

/** The temporary directories a gateway child writes into; undefined where it needs none. */
interface GatewayDirs {
  /** Its audit segment files, and its signing keys in `keys/`. */
  readonly audit: string | undefined;
  /** The development set of certificates and token key it makes for a secured target. */
  readonly certs: string | undefined;
}

/**
 * A gateway in front of both of the demo server's sides: cleartext, no certificates or tokens,
 * as the demo server is reached, except the secured one, whose listeners take TLS with a client
 * certificate and a bound token on the development set it makes in `dirs.certs`. Only --mask,
 * the audit trail and the identity differ between gateways; an auditing one writes segment files
 * into `dirs.audit` and makes its signing keys in `dirs.audit/keys` as it starts, so each run
 * begins a fresh chain.
 */
function gatewayArgs(
  direct: Readonly<Record<ScenarioProtocol, string>>,
  gateway: GatewayTarget,
  logLevel: string,
  dirs: GatewayDirs,
): string[] {
  const args = ['start', '--upstream', `grpc://${direct.grpc}`];
  args.push('--upstream', `http://${direct.http}`);
  args.push('--grpc-port', '0', '--http-port', '0', '--admin-port', '0', '--log-level', logLevel);
  args.push(...(dirs.certs === undefined ? ['--insecure'] : ['--certs', dirs.certs]));
  args.push('--mask', gateway.mask, '--workers', '1');
  args.push(...(dirs.audit === undefined ? ['--no-audit'] : ['--audit-dir', dirs.audit]));
  return args;
}

/** The secured gateway's client material, once the gateway has made its development set. */
async function credentialsIn(certsDir: string, options: GatewayOptions) {
  options.progress(`issuing a token for the secured gateway's development client certificate`);
  return { credentials: await readClientCredentials(certsDir) };
}

async function startGateway(
  processes: BenchProcesses,
  direct: Readonly<Record<ScenarioProtocol, string>>,
  gateway: GatewayTarget,
  options: GatewayOptions,
): Promise<{ child: BenchProcess; endpoint: TargetEndpoint; args: string[] }> {
  const dirs = {
    audit: gateway.audit ? await options.tempDirs.make('audit-gateway') : undefined,
    certs: gateway.secured ? await options.tempDirs.make('certs-gateway') : undefined,
  };
  const args = gatewayArgs(direct, gateway, options.logLevel, dirs);
  const child = await processes.start(gateway.label, args, ['grpc', 'http', 'admin']);
  const addresses = { grpc: child.addresses.get('grpc')!, http: child.addresses.get('http')! };
  const credentials = dirs.certs === undefined ? {} : await credentialsIn(dirs.certs, options);
  const endpoint = { target: gateway.target, label: gateway.label, addresses, ...credentials };
  listening(endpoint, child, options.progress);
  return { child, endpoint, args };
}

/**
 * Starts the demo server (both sides), then, one after the other, a gateway for each gateway
 * target in `targets`, then nginx when `targets` names it and `options.nginx` says where it is.
 * Rejects with StartupError when a child fails to start; children already started are left to
 * `processes.stopAll`.
 */
export async function startTargets(
  processes: BenchProcesses,
  targets: readonly TargetName[],
  options: GatewayOptions,
): Promise<Targets> {
  const demoArgs = ['demo-server', '--port', '0', '--http-port', '0', '--token-delay-ms', '0'];
  const demo = await processes.start('demo-server', demoArgs, ['demo', 'demo-http']);
  const direct = { grpc: demo.addresses.get('demo')!, http: demo.addresses.get('demo-http')! };
  const directEndpoint = { target: 'direct' as const, label: 'demo server', addresses: direct };
  listening(directEndpoint, demo, options.progress);

  const children = [demo];
  const pids = new Map([['demo', demo.pid]]);
  const endpoints: TargetEndpoint[] = [directEndpoint];
  const commands: Record<string, readonly string[]> = { demo: demoArgs };
  const add = (role: string, started: { child: BenchProcess; endpoint: TargetEndpoint }) => {
    children.push(started.child);
    pids.set(role, started.child.pid);
    endpoints.push(started.endpoint);
  };
  for (const gateway of gatewaysFor(targets)) {
    const started = await startGateway(processes, direct, gateway, options);
    add(gateway.role, started);
    commands[gateway.role] = started.args;
  }
  if (targets.includes('nginx') && options.nginx !== undefined) {
    const started = await startNginx(processes, options.nginx, direct, options.tempDirs);
    listening(started.endpoint, started.child, options.progress);
    add(NGINX_ROLE, started);
    commands[NGINX_ROLE] = started.args;
  }
  return { children, pids, endpoints, commands };
}
