// Starts the targets' child processes: the demo server, then one gateway per gateway target.

import { gatewaysFor, type GatewayTarget, type TargetName } from './bench-targets';
import type { BenchProcess, BenchProcesses } from './processes';
import type { ScenarioProtocol } from './scenario';
import type { BenchTempDirs } from './temp-dirs';

/** One target's listeners as its clients reach them. */
export interface TargetEndpoint {
  readonly target: TargetName;
  /** Human name in progress lines and connection errors (`demo server`, `masked infergate`). */
  readonly label: string;
  /** 'host:port' of the target's gRPC and HTTP listener. */
  readonly addresses: Readonly<Record<ScenarioProtocol, string>>;
}

/** The running children and what the run needs of them. */
export interface Targets {
  readonly children: readonly BenchProcess[];
  /** Child pid by CPU role (`demo`, `gateway`, `maskedGateway`, `auditedGateway`). */
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
  /** Where an auditing gateway gets its audit directory, removed after the children stop. */
  readonly tempDirs: BenchTempDirs;
}

function listening(
  endpoint: TargetEndpoint,
  child: BenchProcess,
  progress: (line: string) => void,
) {
  const { grpc, http } = endpoint.addresses;
  progress(`${endpoint.label} listening on gRPC ${grpc}, HTTP ${http} (pid ${child.pid})`);
}

/**
 * A gateway in front of both of the demo server's sides: cleartext, no certificates or tokens,
 * as the demo server is reached. Only --mask and the audit trail differ between gateways; an
 * auditing one writes segment files into `auditDir` and makes its signing keys in `auditDir/keys`
 * as it starts, so each run begins a fresh chain.
 */
function gatewayArgs(
  direct: Readonly<Record<ScenarioProtocol, string>>,
  gateway: GatewayTarget,
  logLevel: string,
  auditDir: string | undefined,
): string[] {
  const args = ['start', '--upstream', `grpc://${direct.grpc}`];
  args.push('--upstream', `http://${direct.http}`);
  args.push('--grpc-port', '0', '--http-port', '0', '--admin-port', '0', '--log-level', logLevel);
  args.push('--insecure', '--mask', gateway.mask, '--workers', '1');
  args.push(...(auditDir === undefined ? ['--no-audit'] : ['--audit-dir', auditDir]));
  return args;
}

async function startGateway(
  processes: BenchProcesses,
  direct: Readonly<Record<ScenarioProtocol, string>>,
  gateway: GatewayTarget,
  options: GatewayOptions,
): Promise<{ child: BenchProcess; endpoint: TargetEndpoint; args: string[] }> {
  const auditDir = gateway.audit ? await options.tempDirs.make('audit-gateway') : undefined;
  const args = gatewayArgs(direct, gateway, options.logLevel, auditDir);
  const child = await processes.start(gateway.label, args, ['grpc', 'http', 'admin']);
  const addresses = { grpc: child.addresses.get('grpc')!, http: child.addresses.get('http')! };
  const endpoint = { target: gateway.target, label: gateway.label, addresses };
  listening(endpoint, child, options.progress);
  return { child, endpoint, args };
}

/**
 * Starts the demo server (both sides), then, one after the other, a gateway for each gateway
 * target in `targets`. Rejects with StartupError when a child fails to start; children already
 * started are left to `processes.stopAll`.
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
  for (const gateway of gatewaysFor(targets)) {
    const started = await startGateway(processes, direct, gateway, options);
    children.push(started.child);
    pids.set(gateway.role, started.child.pid);
    endpoints.push(started.endpoint);
    commands[gateway.role] = started.args;
  }
  return { children, pids, endpoints, commands };
}
