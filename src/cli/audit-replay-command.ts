// `infergate audit replay`: exchanges rebuilt from a verified store, as text, JSON or a stream.

import { isoFromMicros } from '../audit/audit-time';
import fs from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as delay } from 'node:timers/promises';
import type { MaskedTextRecord } from '../audit/audit-events';
import {
  collectExchanges,
  exchangeStatus,
  responseChunks,
  unsealExchange,
  type ReplayChunk,
  type ReplayFilter,
  type ReplayedExchange,
  type ReplayResult,
  type TimedEvent,
  type UnsealedOriginals,
} from '../audit/audit-replay';
import { printableText, transcriptLines } from '../audit/audit-transcript-text';
import { sealingPrivateKeyFromPem } from '../audit/sealing-key';
import { ProxyError } from '../errors/proxy-error';
import { parseFlags, type CliCommand, type CliIo } from './cli-command';
import { wroteHelp } from './certs-flags';
import {
  AUDIT_SOURCE_FLAGS,
  AUDIT_SOURCE_FLAGS_HELP,
  auditJson,
  auditSourceFromFlags,
} from './audit-source-flags';

const REPLAY_FLAGS = {
  ...AUDIT_SOURCE_FLAGS,
  exchange: { type: 'string' },
  session: { type: 'string' },
  identity: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  log: { type: 'string' },
  json: { type: 'boolean' },
  stream: { type: 'string' },
  speed: { type: 'string' },
  unseal: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A date, or a date and time that names its offset: a bare local time would mean each zone's. */
const ISO_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;
const SPEED_PATTERN = /^\d{1,9}(?:\.\d{1,9})?$/;

const HELP = `Usage: infergate audit replay (--dir DIR | --pg URL [--table T] | --config FILE) --keys PATH...
                              [--exchange ID] [--session ID] [--identity WHO]
                              [--since ISO] [--until ISO] [--log ID] [--json]
                              [--stream ID [--speed X]] [--unseal KEYFILE]

Verifies the store as infergate audit verify does and rebuilds, from their frames, the
exchanges that match every filter given, oldest first: when, where in the log, who called
(token subject, roles, certificate), what (listener, operation, model, route), the decision and
reviews, the masked prompt and response, how it ended, what was masked, and how its frames and
its session's verified: "verified" (a valid checkpoint covers them), "unsigned" (after the last
checkpoint) or "broken". Exchange ids are unique within a log only; --log picks the log.

--stream re-emits the response of exchange ID to stdout chunk by chunk, each at the time it
left the gateway divided by --speed, as the client saw it; how it verified goes to stderr.
Control characters in texts are shown as escapes, never sent to the terminal.

--unseal opens the sealed originals with the security team's X25519 private key and shows them
next to the masked texts (with --stream, the original response is streamed); a record that
does not open is named on its own line. An unseal done this way is offline: no gateway
records it in the audit log, unlike an unseal through the admin listener.

Exits 0 when no frame shown is broken (an unsigned one is shown as such), 1 when one is, when
no exchange matches, or when the store or a key cannot be read, 2 on bad usage.

Options:
${AUDIT_SOURCE_FLAGS_HELP}
      --exchange ID      only the exchange ID
      --session ID       only the exchanges of session ID
      --identity WHO     only the exchanges of token subject, certificate subject or
                         thumbprint WHO (or its first 12 characters)
      --since ISO        only exchanges started at or after ISO: 2024-05-01 (midnight UTC)
                         or 2024-05-01T09:30:00Z (a time needs Z or an offset)
      --until ISO        only exchanges started at or before ISO
      --log ID           only the exchanges of log ID
      --json             print one JSON object per exchange (bytes as hex)
      --stream ID        re-emit the response of exchange ID with its recorded timing
      --speed X          replay X times as fast (default 1; 0 does not wait)
      --unseal KEYFILE   show the originals, opened with the PKCS #8 PEM private key KEYFILE
  -h, --help             show this help`;

/** What `audit replay` needs from outside, so tests replay a stream without waiting. */
export interface AuditReplayDependencies {
  /** Resolves after `ms` milliseconds; never called with `--speed 0`. */
  readonly sleep: (ms: number) => Promise<void>;
}

/** What the flags ask for, checked before the store is read. */
interface ReplayPlan {
  readonly filter: ReplayFilter;
  readonly json: boolean;
  /** Set with `--stream`: the speed divides every recorded delay; 0 does not wait. */
  readonly speed: number | undefined;
  readonly unsealKey: string | undefined;
}

/** `audit replay` with the given dependencies; {@link auditReplayCommand} waits on real time. */
export function createAuditReplayCommand(
  dependencies: Partial<AuditReplayDependencies> = {},
): CliCommand {
  const sleep = dependencies.sleep ?? ((ms: number) => delay(ms));
  return {
    name: 'replay',
    summary: 'show recorded exchanges as transcripts, or re-emit a recorded stream',
    help: HELP,

    async run(args, io) {
      const flags = parseFlags(args, REPLAY_FLAGS);
      if (wroteHelp(flags.help, this, io)) return 0;
      const plan = replayPlan(flags);
      const { source, keys } = auditSourceFromFlags(flags);
      const unsealKey = plan.unsealKey === undefined ? undefined : readUnsealKey(plan.unsealKey);

      const result = await collectExchanges(source, { ...plan.filter, keys });

      if (result.exchanges.length === 0) return notFound(io, plan.filter, result);
      if (plan.speed !== undefined) return streamOne(io, result, plan.speed, unsealKey, sleep);
      for (const [index, exchange] of result.exchanges.entries()) {
        const originals = unsealKey && unsealExchange(exchange, unsealKey);
        if (plan.json) io.stdout.write(`${auditJson(exchangeJson(exchange, originals))}\n`);
        else writeTranscript(io, exchange, originals, index);
      }
      return exitCode(io, result.exchanges);
    },
  };
}

/** `audit replay`, waiting on real time when it streams. */
export const auditReplayCommand: CliCommand = createAuditReplayCommand();

type ReplayFlagValues = ReturnType<typeof parseFlags<typeof REPLAY_FLAGS>>;

function replayPlan(flags: ReplayFlagValues): ReplayPlan {
  const since = parseInstant('since', flags.since);
  const until = parseInstant('until', flags.until);
  if (since !== undefined && until !== undefined && since.getTime() > until.getTime()) {
    throw usage(`--since "${flags.since}" is after --until "${flags.until}"`);
  }
  if (flags.speed !== undefined && flags.stream === undefined)
    throw usage('--speed needs --stream');
  if (flags.stream !== undefined && flags.json === true) {
    throw usage('--stream and --json cannot be given together');
  }
  const exchangeId = nonEmpty('exchange', flags.exchange);
  const streamId = nonEmpty('stream', flags.stream);
  if (streamId !== undefined && exchangeId !== undefined && streamId !== exchangeId) {
    throw usage(`--stream "${streamId}" and --exchange "${exchangeId}" name two exchanges`);
  }

  const filter: ReplayFilter = {
    exchangeId: streamId ?? exchangeId,
    sessionId: nonEmpty('session', flags.session),
    identity: nonEmpty('identity', flags.identity),
    logId: nonEmpty('log', flags.log),
    since,
    until,
  };
  const speed = streamId === undefined ? undefined : parseSpeed(flags.speed);
  const unsealKey = nonEmpty('unseal', flags.unseal);
  return { filter, json: flags.json === true, speed, unsealKey };
}

function parseInstant(flag: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const match = ISO_PATTERN.exec(value);
  const time = Date.parse(value);
  // Date.parse rolls 2024-02-30 over into March; a date that does not exist is a typo.
  const [year, month, day] = (match ?? []).slice(1, 4).map(Number);
  const probe = new Date(Date.UTC(year ?? 0, (month ?? 0) - 1, day ?? 0));
  if (match === null || Number.isNaN(time) || probe.getUTCDate() !== day) {
    throw usage(`--${flag} "${value}" is not an ISO 8601 date or a date and time with an offset`);
  }
  return new Date(time);
}

function parseSpeed(value: string | undefined): number {
  if (value === undefined) return 1;
  if (!SPEED_PATTERN.test(value)) throw usage(`--speed "${value}" is not a non-negative number`);
  return Number(value);
}

function nonEmpty(flag: string, value: string | undefined): string | undefined {
  if (value === '') throw usage(`--${flag} needs a value`);
  return value;
}

function usage(message: string): ProxyError {
  return new ProxyError('ERR_USAGE', message);
}

/**
 * Reads the security team's private key from a PKCS #8 PEM file, before anything else is read or
 * asked for, so a bad key fails fast. Throws ERR_AUDIT_KEY_INVALID.
 */
export function readUnsealKey(file: string): KeyObject {
  let pem: string;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ProxyError('ERR_AUDIT_KEY_INVALID', `cannot read ${file} (${code})`, { cause: err });
  }
  return sealingPrivateKeyFromPem(pem, file);
}

function notFound(io: CliIo, filter: ReplayFilter, result: ReplayResult): number {
  const what =
    filter.exchangeId === undefined
      ? 'no exchange matches the filters given'
      : `exchange ${JSON.stringify(filter.exchangeId)} is not in the store or does not match`;
  io.stderr.write(`infergate audit replay: ${printableText(what)}\n`);
  if (!result.report.ok) {
    io.stderr.write(
      'infergate audit replay: the store has breaks; infergate audit verify lists them\n',
    );
  }
  return 1;
}

function writeTranscript(
  io: CliIo,
  exchange: ReplayedExchange,
  originals: UnsealedOriginals | undefined,
  index: number,
): void {
  if (index > 0) io.stdout.write('\n');
  for (const line of transcriptLines(exchange, originals)) io.stdout.write(`${line}\n`);
}

function exchangeJson(exchange: ReplayedExchange, originals: UnsealedOriginals | undefined) {
  const { session } = exchange;
  return {
    logId: exchange.logId,
    exchangeId: exchange.exchangeId,
    sessionId: exchange.started.event.sessionId ?? '',
    time: isoFromMicros(exchange.started.timeUnixMicros) ?? null,
    verification: exchangeStatus(exchange),
    frames: exchange.frames,
    session: session && {
      opened: timedJson(session.opened),
      closed: timedJson(session.closed),
      frames: session.frames,
    },
    started: timedJson(exchange.started),
    decision: timedJson(exchange.decision),
    finished: timedJson(exchange.finished),
    reviews: exchange.reviews.map(timedJson),
    ...(originals === undefined ? {} : { originals }),
  };
}

function timedJson<T>(timed: TimedEvent<T> | undefined) {
  if (timed === undefined) return null;
  const time = isoFromMicros(timed.timeUnixMicros) ?? null;
  return { sequence: timed.sequence, time, event: timed.event };
}

/** Broken frames go to stderr too, so stdout stays the transcript or JSON lines only. */
function exitCode(io: CliIo, exchanges: readonly ReplayedExchange[]): number {
  const broken = exchanges.filter((exchange) => exchangeStatus(exchange) === 'broken');
  for (const exchange of broken) {
    const name = printableText(`exchange ${exchange.exchangeId} of log ${exchange.logId}`);
    const why = 'rests on broken frames; infergate audit verify lists the breaks';
    io.stderr.write(`infergate audit replay: ${name} ${why}\n`);
  }
  return broken.length === 0 ? 0 : 1;
}

/** Re-emits the response of the one exchange found, then says on stderr how it verified. */
async function streamOne(
  io: CliIo,
  result: ReplayResult,
  speed: number,
  unsealKey: KeyObject | undefined,
  sleep: AuditReplayDependencies['sleep'],
): Promise<number> {
  const [exchange, ...others] = result.exchanges;
  if (others.length > 0) {
    const logs = result.exchanges.map((found) => found.logId).join(', ');
    throw usage(`exchange ${exchange!.exchangeId} is in logs ${logs}; pick one with --log`);
  }
  const finished = exchange!.finished;
  if (finished === undefined) {
    const name = printableText(exchange!.exchangeId);
    io.stderr.write(`infergate audit replay: exchange ${name} has no recorded response\n`);
    return 1;
  }

  const chunks = responseChunks(finished.event, streamTexts(io, exchange!, unsealKey));
  await emitChunks(io, chunks, speed, sleep);

  writeStreamSummary(io, exchange!, chunks, speed);
  return exitCode(io, [exchange!]);
}

/** The original response with `--unseal` when it opens; the masked one otherwise. */
function streamTexts(
  io: CliIo,
  exchange: ReplayedExchange,
  unsealKey: KeyObject | undefined,
): readonly MaskedTextRecord[] | undefined {
  if (unsealKey === undefined) return undefined;
  const original = unsealExchange(exchange, unsealKey).response;
  if (original?.opened === true) return original.texts;
  const why =
    original === undefined
      ? 'no original response was sealed'
      : `the original response does not open with the key given: ${original.reason}`;
  io.stderr.write(`infergate audit replay: ${printableText(why)}; replaying the masked one\n`);
  return undefined;
}

/**
 * Writes each chunk once its recorded time, divided by `speed`, has passed since the first
 * wait began. Each stream is decoded on its own so a character split across chunks stays whole.
 */
async function emitChunks(
  io: CliIo,
  chunks: readonly ReplayChunk[],
  speed: number,
  sleep: AuditReplayDependencies['sleep'],
): Promise<void> {
  const decoders = new Map<string, StringDecoder>();
  const streams = new Set(chunks.map((chunk) => chunk.stream));
  let elapsedMs = 0;
  let lastStream: string | undefined;
  for (const chunk of chunks) {
    const dueMs = speed === 0 ? 0 : chunk.atMs / speed;
    if (dueMs > elapsedMs) await sleep(dueMs - elapsedMs);
    elapsedMs = Math.max(elapsedMs, dueMs);
    if (streams.size > 1 && chunk.stream !== lastStream) {
      io.stdout.write(`${lastStream === undefined ? '' : '\n'}[${printableText(chunk.stream)}] `);
    }
    lastStream = chunk.stream;
    const decoder = decoders.get(chunk.stream) ?? new StringDecoder('utf8');
    decoders.set(chunk.stream, decoder);
    const text = decoder.write(chunk.bytes);
    if (text.length > 0) io.stdout.write(printableText(text));
  }
  // A stream whose text ends inside a character (a cut response) leaves its last bytes here.
  const rest = [...decoders.values()].map((decoder) => decoder.end()).join('');
  io.stdout.write(`${printableText(rest)}\n`);
}

function writeStreamSummary(
  io: CliIo,
  exchange: ReplayedExchange,
  chunks: readonly ReplayChunk[],
  speed: number,
): void {
  const cut = chunks.filter((chunk) => !chunk.whole).length;
  const name = printableText(`exchange ${exchange.exchangeId} of log ${exchange.logId}`);
  const pace = speed === 0 ? 'without waiting' : `at speed ${speed}`;
  io.stderr.write(
    `${name}: ${chunks.length} chunks replayed ${pace}; ${exchangeStatus(exchange)}\n`,
  );
  if (cut > 0) io.stderr.write(`${name}: ${cut} chunks reach past the recorded text (cut)\n`);
}
