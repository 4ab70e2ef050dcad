// `infergate audit unseal`: asks a gateway's admin listener for a frame's sealed originals, which
// the gateway records first, and opens them here with the security team's private key.

import type { KeyObject } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import { z } from 'zod';
import type { MaskedTextRecord, SealedRecord } from '../audit/audit-events';
import { unsealOriginal, type SealedDirection } from '../audit/sealed-original';
import { printableText } from '../audit/audit-transcript-text';
import { logIdSchema } from '../config/audit-schema';
import { ProxyError } from '../errors/proxy-error';
import { UNSEAL_PATH } from '../listeners/admin-unseal-endpoint';
import { readUnsealKey } from './audit-replay-command';
import { requiredFlag, wroteHelp } from './certs-flags';
import { parseFlags, type CliCommand, type CliIo } from './cli-command';
import {
  TLS_CLIENT_FLAGS,
  TLS_CLIENT_HELP,
  readTlsClientMaterial,
  type TlsClientMaterial,
} from './client-credentials';

const FLAGS = {
  ...TLS_CLIENT_FLAGS,
  admin: { type: 'string' },
  log: { type: 'string' },
  sequence: { type: 'string' },
  reason: { type: 'string' },
  'sealing-key': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const MAX_REASON_CHARS = 500;
const REQUEST_TIMEOUT_MS = 30_000;
/** Sealed records are bounded by `audit.maxTextBytes`; an answer past this is not one. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;
const MISSING_MATERIAL_HINT = '; infergate certs init makes a development set';
const LABEL_CHARS = 20;

const HELP = `Usage: infergate audit unseal --admin HOST:PORT --log ID --sequence N --reason TEXT
                              --sealing-key FILE [--certs DIR | --ca F --cert F --key F]
                              [--token JWT]

Asks the gateway's admin listener for the sealed originals of frame N of log ID (its
ExchangeStarted frame holds the prompt, its ExchangeFinished frame the response) and opens them
with the security team's X25519 private key, which never leaves this machine. The gateway
records who asked and why in its audit log, durably, before it answers; the caller needs a
token with a role the gateway's audit.unsealRoles names. infergate audit replay lists frames
with their sequences.

Exits 0 when every record opened, 1 when the gateway refuses or a record does not open, 2 on
bad usage.

Options:
      --admin HOST:PORT         the gateway's admin listener (TLS)
      --log ID                  the log the frame belongs to
      --sequence N              the frame's sequence number
      --reason TEXT             why, in 1-${MAX_REASON_CHARS} characters; recorded with the unseal
      --sealing-key FILE        the PKCS #8 PEM private key the originals are sealed to
${TLS_CLIENT_HELP}
  -h, --help                    show this help`;

const base64 = z
  .string()
  .regex(/^[A-Za-z0-9+/]*={0,2}$/)
  .transform((text) => Buffer.from(text, 'base64'));
const sealedSchema = z.object({
  recipientKeyId: z.string(),
  ephemeralPublicKey: base64,
  nonce: base64,
  ciphertext: base64,
  tag: base64,
});
const answerSchema = z.object({
  logId: z.string(),
  sequence: z.number(),
  exchangeId: z.string(),
  sealedPrompt: sealedSchema.optional(),
  sealedResponse: sealedSchema.optional(),
});

/** What the flags ask for, checked before anything is read or sent. */
interface UnsealAsk {
  readonly host: string;
  readonly port: number;
  readonly logId: string;
  readonly sequence: number;
  readonly reason: string;
  readonly keyFile: string;
}

/** One answer of the admin listener. */
interface AdminAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** `audit unseal`. */
export const auditUnsealCommand: CliCommand = {
  name: 'unseal',
  summary: "fetch a frame's sealed originals through a gateway, recorded, and open them",
  help: HELP,

  async run(args, io) {
    const flags = parseFlags(args, FLAGS);
    if (wroteHelp(flags.help, this, io)) return 0;
    const ask = unsealAsk(flags);
    // The key is read before the gateway records an unseal that could not be opened here.
    const key = readUnsealKey(ask.keyFile);
    const material = await readTlsClientMaterial(flags, MISSING_MATERIAL_HINT);

    const answer = await postUnseal(ask, material);

    if (answer.status !== 200) return refused(io, answer);
    const parsed = answerSchema.safeParse(answer.body);
    if (
      !parsed.success ||
      parsed.data.logId !== ask.logId ||
      parsed.data.sequence !== ask.sequence
    ) {
      return failed(io, 'the gateway answered with something other than the record asked for');
    }
    return openAndPrint(io, key, ask, parsed.data);
  },
};

type FlagValues = ReturnType<typeof parseFlags<typeof FLAGS>>;

function unsealAsk(flags: FlagValues): UnsealAsk {
  const { host, port } = parseAdmin(requiredFlag('admin', flags.admin));
  const logId = requiredFlag('log', flags.log);
  if (!logIdSchema.safeParse(logId).success) throw usage(`--log "${logId}" is not a log id`);
  const sequenceText = requiredFlag('sequence', flags.sequence);
  const sequence = Number(sequenceText);
  if (!/^[1-9]\d{0,15}$/.test(sequenceText) || !Number.isSafeInteger(sequence)) {
    throw usage(`--sequence "${sequenceText}" is not a positive integer`);
  }
  const reason = requiredFlag('reason', flags.reason);
  if (reason.length > MAX_REASON_CHARS) {
    throw usage(`--reason has ${reason.length} characters; at most ${MAX_REASON_CHARS} are kept`);
  }
  const keyFile = requiredFlag('sealing-key', flags['sealing-key']);
  return { host, port, logId, sequence, reason, keyFile };
}

/** `host:port`, `[v6]:port`; the brackets are dropped for the socket. */
function parseAdmin(value: string): { host: string; port: number } {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  if (match === null || port < 1 || port > 65_535) {
    throw usage(`--admin "${value}" is not HOST:PORT`);
  }
  return { host: match[1] ?? match[2]!, port };
}

function usage(message: string): ProxyError {
  return new ProxyError('ERR_USAGE', message);
}

/** Sends the ask over mTLS and reads the JSON answer, whatever its status. */
function postUnseal(ask: UnsealAsk, material: TlsClientMaterial): Promise<AdminAnswer> {
  const payload = JSON.stringify({ logId: ask.logId, sequence: ask.sequence, reason: ask.reason });
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
  };
  if (material.authorization !== undefined) headers.authorization = material.authorization;
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        host: ask.host,
        port: ask.port,
        method: 'POST',
        path: UNSEAL_PATH,
        headers,
        ca: material.ca,
        cert: material.cert,
        key: material.key,
        agent: false,
        timeout: REQUEST_TIMEOUT_MS,
      },
      (response) => readAnswer(response, resolve, reject),
    );
    request.on('timeout', () => request.destroy(new Error('the admin listener did not answer')));
    request.on('error', (err) =>
      reject(new Error(`cannot reach the admin listener: ${err.message}`)),
    );
    request.end(payload);
  });
}

function readAnswer(
  response: IncomingMessage,
  resolve: (answer: AdminAnswer) => void,
  reject: (err: Error) => void,
): void {
  const chunks: Buffer[] = [];
  let length = 0;
  response.on('data', (chunk: Buffer) => {
    length += chunk.length;
    if (length > MAX_ANSWER_BYTES) response.destroy(new Error('the answer is too large'));
    else chunks.push(chunk);
  });
  response.on('error', reject);
  response.on('end', () => {
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      // A proxy in between may answer HTML; the status still says what happened.
      body = undefined;
    }
    resolve({ status: response.statusCode ?? 0, body });
  });
}

function refused(io: CliIo, answer: AdminAnswer): number {
  const error = (answer.body as { error?: { message?: unknown; type?: unknown } } | undefined)
    ?.error;
  const type = typeof error?.type === 'string' ? ` ${error.type}` : '';
  const message = typeof error?.message === 'string' ? `: ${error.message}` : '';
  return failed(io, `the gateway refused (${answer.status}${type})${message}`);
}

function failed(io: CliIo, message: string): number {
  io.stderr.write(`infergate audit unseal: ${printableText(message)}\n`);
  return 1;
}

/** Opens each record the answer holds and prints the texts; 1 when one does not open. */
function openAndPrint(
  io: CliIo,
  key: KeyObject,
  ask: UnsealAsk,
  answer: z.infer<typeof answerSchema>,
): number {
  const records: [SealedDirection, SealedRecord | undefined][] = [
    ['prompt', answer.sealedPrompt],
    ['response', answer.sealedResponse],
  ];
  const lines = [
    ...field('log', ask.logId),
    ...field('sequence', String(ask.sequence)),
    ...field('exchange', answer.exchangeId),
  ];
  let code = 0;
  for (const [direction, sealed] of records) {
    if (sealed === undefined) continue;
    const texts = openRecord(key, sealed, ask.logId, answer.exchangeId, direction);
    if (typeof texts === 'string') {
      code = failed(io, `the sealed ${direction} does not open with the key given: ${texts}`);
      continue;
    }
    lines.push(...texts.flatMap((text) => field(`original ${direction}`, textValue(text))));
  }
  for (const line of lines) io.stdout.write(`${line}\n`);
  return code;
}

/** The texts of a record, or why it does not open (another key, changed or moved bytes). */
function openRecord(
  key: KeyObject,
  sealed: SealedRecord,
  logId: string,
  exchangeId: string,
  direction: SealedDirection,
): readonly MaskedTextRecord[] | string {
  try {
    const texts = unsealOriginal(key, sealed, logId, exchangeId, direction);
    if (!Array.isArray(texts)) return 'the original is not a text list';
    return texts;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

function textValue({ stream, text }: MaskedTextRecord): string {
  const body = text === undefined || text === '' ? '(empty)' : text;
  return stream === undefined || stream === '' ? body : `[${stream}] ${body}`;
}

/** `label: value`, aligned, each further line of `value` indented; safe to print. */
function field(label: string, value: string): string[] {
  return printableText(value)
    .split('\n')
    .map((line, index) => `${index === 0 ? `${label}:` : ''}`.padEnd(LABEL_CHARS) + line);
}
