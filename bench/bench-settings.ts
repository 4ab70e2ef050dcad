// The benchmark's settings: defaults, the --quick preset, and command-line parsing.

import { parseArgs } from 'node:util';

/** How long and how hard one benchmark run drives each target. */
export interface BenchSettings {
  /** Measured rounds per target and scenario; rounds alternate between the targets. */
  readonly rounds: number;
  /** Length of one measured round. */
  readonly durationMs: number;
  /** Length of the unrecorded warm-up round each target gets before a scenario's rounds. */
  readonly warmupMs: number;
  /** grpc-js channels (separate HTTP/2 connections) per target; workers share them round-robin. */
  readonly channels: number;
  /** --scenarios names (ids, families, protocols or `all`), resolved by the scenario catalog. */
  readonly scenarios: readonly string[];
  /** Log level handed to the gateways; `info` keeps their per-exchange access line, as deployed. */
  readonly gatewayLogLevel: string;
  /** Whether the masking gateway (`masked` target) is started and measured; --no-masked. */
  readonly masked: boolean;
  /** Whether the masking and auditing gateway (`audited` target) is; --no-audited. */
  readonly audited: boolean;
  /** Whether the gateway with every control on (`secured` target) is; --no-secured. */
  readonly secured: boolean;
  /** Whether nginx (`nginx` target) is, where it is installed; --no-nginx. */
  readonly nginx: boolean;
  readonly quick: boolean;
}

/** What the command line asked for: settings to run with, or help to print. */
export type BenchCommand =
  { readonly help: true } | { readonly help: false; settings: BenchSettings };

/** Thrown for a bad flag or value; the entry point prints it with the usage and exits 2. */
export class BenchUsageError extends Error {}

const FULL_SETTINGS: BenchSettings = {
  rounds: 3,
  durationMs: 5_000,
  warmupMs: 2_000,
  channels: 4,
  scenarios: ['all'],
  gatewayLogLevel: 'info',
  masked: true,
  audited: true,
  secured: true,
  nginx: true,
  quick: false,
};

/**
 * Sized so that a whole run (both engine sections, every scenario, five targets) finishes in
 * about a minute on a small machine: still two rounds per target, so they alternate.
 */
const QUICK_SETTINGS: BenchSettings = {
  ...FULL_SETTINGS,
  rounds: 2,
  durationMs: 250,
  warmupMs: 100,
  quick: true,
};

/**
 * The gateway log levels a run can start with: a gateway logs its 'listening' lines, which the
 * bench reads its ports from, at `info`, so at `warn` or above it could never be started.
 */
const LOG_LEVELS = ['info', 'debug', 'trace'];

const FLAGS = {
  quick: { type: 'boolean' },
  rounds: { type: 'string' },
  'duration-ms': { type: 'string' },
  'warmup-ms': { type: 'string' },
  channels: { type: 'string' },
  scenarios: { type: 'string' },
  'gateway-log-level': { type: 'string' },
  'no-masked': { type: 'boolean' },
  'no-audited': { type: 'boolean' },
  'no-secured': { type: 'boolean' },
  'no-nginx': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The text `--help` prints. */
export const BENCH_USAGE = `Usage: npm run bench -- [options]
       node dist/bench/run.js [options]

Measures what infergate costs on the gRPC and the HTTP path, and what card-data masking, the
audit trail and TLS with tokens add: the same clients (grpc-js, undici) drive the bundled demo
model server directly (direct), through a gateway with masking off (infergate, --mask none),
through one that masks prompts and responses (masked, --mask both), through one that also
records every exchange in its audit trail (audited, --mask both --audit-dir TEMP), through one
with every control on (secured: the audited gateway with mTLS, tokens and roles, --certs TEMP)
and, where nginx is on PATH, through nginx as a plain reverse proxy (nginx), in alternating
rounds of one run. Before the scenarios, the masking engine and the audit log are timed alone.

Sections and scenarios (protocol, family, then ids):
  engine                                      the masking engine alone: one-shot MB/s on prose,
                                              digit-dense and card-dense text; ns per streamed
                                              6-byte chunk; each against its target
  audit                                       the audit log alone over segment files in TMPDIR:
                                              durable frames/s and append-to-durable latency
                                              with 256 appends in flight; encode + hash frames/s
  grpc  unary        unary-c1 unary-c64       ModelInfer "echo", 1 KiB BYTES input
        stream       stream-c1 stream-c64     ModelStreamInfer "demo-chat", 256 tokens
        rss-streams  rss-streams              RSS of each target's process with 1000
                                              ModelStreamInfer streams open; one round
  http  http-chat    http-chat-c1 http-chat-c64
                     POST /v1/chat/completions "echo", 1 KiB message, not streamed
        http-stream  http-stream-c1 http-stream-c64
                     POST /v1/chat/completions "demo-chat", streamed, demo_tokens 256
        tls-handshakes  tls-handshakes        a new connection per GET /health, 16 at once:
                                              a full TLS handshake with a client certificate
                                              for secured, plain TCP for the others
  The suffix -cN is the concurrency: requests or streams in flight in a closed loop.

Options:
      --quick                   about a minute: ${QUICK_SETTINGS.rounds} rounds of ${QUICK_SETTINGS.durationMs} ms after ${QUICK_SETTINGS.warmupMs} ms warm-ups
      --scenarios NAMES         comma list of the names above, or all (default: engine, audit
                                and every scenario); engine and audit start no child process
      --no-masked               skip the masked target (and its gateway)
      --no-audited              skip the audited target (and its gateway)
      --no-secured              skip the secured target (and its gateway); with --no-masked,
                                --no-audited and --no-nginx, direct and infergate only
      --no-nginx                skip nginx even where it is installed
      --rounds N                measured rounds per target, scenario (default ${FULL_SETTINGS.rounds})
      --duration-ms N           length of one round (default ${FULL_SETTINGS.durationMs})
      --warmup-ms N             unrecorded warm-up round per target, 0 for none
                                (default ${FULL_SETTINGS.warmupMs})
      --channels N              gRPC connections (grpc-js channels) per target (default ${FULL_SETTINGS.channels});
                                HTTP scenarios use one connection per request in flight
      --gateway-log-level LEVEL every gateway's log level: ${LOG_LEVELS.join(', ')} (default ${FULL_SETTINGS.gatewayLogLevel})
  -h, --help                    show this help

Flags given with --quick override its values. Progress goes to stderr, the table to stdout,
every figure to bench/results/bench-<timestamp>.json and the latency distributions to
bench-<timestamp>.svg beside it. Exit codes: 0 done without errors, 1 a target failed to start
or a call failed, 2 bad usage; a missed target (engine, audit or the requirement's) is reported
in the table, not an error.`;

/** Reads an integer flag of at least `min` (0 or 1); undefined when absent. */
function integerFlag(flag: string, value: string | undefined, min = 1): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value) || Number(value) < min) {
    throw new BenchUsageError(`--${flag} "${value}" is not an integer of at least ${min}`);
  }
  return Number(value);
}

function logLevel(value: string | undefined): string | undefined {
  if (value !== undefined && !LOG_LEVELS.includes(value)) {
    throw new BenchUsageError(
      `--gateway-log-level "${value}" is not one of ${LOG_LEVELS.join(', ')}`,
    );
  }
  return value;
}

/** The comma list of --scenarios as names; checked against the catalog by the caller. */
function scenarioList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0) throw new BenchUsageError('--scenarios names no scenario');
  return names;
}

function parseFlags(args: readonly string[]) {
  try {
    return parseArgs({ args: [...args], options: FLAGS, strict: true, allowPositionals: false })
      .values;
  } catch (err) {
    throw new BenchUsageError((err as Error).message.split('\n', 1)[0]);
  }
}

/**
 * Parses the command line; throws BenchUsageError on an unknown flag or a bad value. Scenario
 * names are only split here; `selectScenarios` rejects those that pick nothing.
 */
export function parseBenchArgs(args: readonly string[]): BenchCommand {
  const flags = parseFlags(args);
  if (flags.help === true) return { help: true };

  const base = flags.quick === true ? QUICK_SETTINGS : FULL_SETTINGS;
  const settings: BenchSettings = {
    ...base,
    rounds: integerFlag('rounds', flags.rounds) ?? base.rounds,
    durationMs: integerFlag('duration-ms', flags['duration-ms']) ?? base.durationMs,
    warmupMs: integerFlag('warmup-ms', flags['warmup-ms'], 0) ?? base.warmupMs,
    channels: integerFlag('channels', flags.channels) ?? base.channels,
    scenarios: scenarioList(flags.scenarios) ?? base.scenarios,
    gatewayLogLevel: logLevel(flags['gateway-log-level']) ?? base.gatewayLogLevel,
    masked: flags['no-masked'] !== true,
    audited: flags['no-audited'] !== true,
    secured: flags['no-secured'] !== true,
    nginx: flags['no-nginx'] !== true,
  };
  return { help: false, settings };
}
