// The nginx target: finds nginx on PATH, writes its configuration into a temporary directory and
// runs it as a child in the foreground, in front of the demo server.

import { execFile } from 'node:child_process';
import { accessSync, chmodSync, constants, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { NGINX_ROLE } from './bench-targets';
import { nginxConfig } from './nginx-config';
import type { BenchProcess, BenchProcesses } from './processes';
import type { ScenarioProtocol } from './scenario';
import type { TargetEndpoint } from './target-processes';
import type { BenchTempDirs } from './temp-dirs';

/** How nginx was found on this machine, for the report. */
export interface NginxInstall {
  /** The executable's absolute path. */
  readonly file: string;
  /** What `nginx -v` printed (`nginx version: nginx/1.24.0`), or `unknown`. */
  readonly version: string;
}

/** A started nginx and what the run records of it. */
export interface StartedNginx {
  readonly child: BenchProcess;
  readonly endpoint: TargetEndpoint;
  /** The command line as run, the executable first. */
  readonly args: string[];
}

const execFileAsync = promisify(execFile);

/** The first executable `nginx` in a PATH directory; undefined when there is none. */
export function findNginx(searchPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (dir === '') continue;
    const file = path.resolve(dir, 'nginx');
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // Not in this directory, or not executable there: the search goes on to the next one.
      continue;
    }
  }
  return undefined;
}

/** nginx on PATH with its version, or undefined when it is not installed. */
export async function detectNginx(): Promise<NginxInstall | undefined> {
  const file = findNginx();
  if (file === undefined) return undefined;
  try {
    // nginx -v writes its version to stderr.
    const { stderr } = await execFileAsync(file, ['-v']);
    return { file, version: stderr.trim() || 'unknown' };
  } catch {
    // It is there but would not say its version; starting it will tell whether it runs at all.
    return { file, version: 'unknown' };
  }
}

/**
 * A port free on 127.0.0.1 now, for nginx, which cannot listen on port 0 and report the port.
 * Another process may take it before nginx binds it; nginx then fails to start, naming it.
 */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Whether a TCP connection to `port` on 127.0.0.1 is accepted now. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Writes nginx.conf into a new temporary directory and runs `nginx -p DIR -c nginx.conf -g
 * 'daemon off;'` in front of `direct`; resolves once both its ports accept connections. Rejects
 * with StartupError when nginx exits first (a bad directive, a taken port) or is not ready in
 * time; a started child is left to `processes.stopAll`, the directory to `tempDirs`.
 */
export async function startNginx(
  processes: BenchProcesses,
  install: NginxInstall,
  direct: Readonly<Record<ScenarioProtocol, string>>,
  tempDirs: BenchTempDirs,
): Promise<StartedNginx> {
  const dir = await tempDirs.make(NGINX_ROLE);
  // Run as root, nginx's worker runs as an unprivileged user that must reach its temp paths.
  chmodSync(dir, 0o755);
  const ports = { grpc: await freePort(), http: await freePort() };
  const config = nginxConfig({
    dir,
    grpcPort: ports.grpc,
    httpPort: ports.http,
    upstreamGrpc: direct.grpc,
    upstreamHttp: direct.http,
  });
  writeFileSync(path.join(dir, 'nginx.conf'), config);

  const args = ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'];
  const ready = async () => (await accepts(ports.grpc)) && (await accepts(ports.http));
  const child = await processes.startProgram('nginx', install.file, args, ready);
  const addresses = { grpc: `127.0.0.1:${ports.grpc}`, http: `127.0.0.1:${ports.http}` };
  const endpoint = { target: 'nginx' as const, label: 'nginx', addresses };
  return { child, endpoint, args: [install.file, ...args] };
}
