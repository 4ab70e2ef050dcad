// `infergate audit unseal`: asks a gateway's admin listener for a frame's sealed originals, which
// the gateway records first, and opens them here with the security team's private key.

import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import type { MaskedTextRecord, SealedRecord } from '../audit/audit-events';
import { unsealOriginal, type SealedDirection } from '../audit/sealed-original';
import { printableText } from '../audit/audit-transcript-text';
import { logIdSchema } from '../config/audit-schema';
import { ProxyError } from '../errors/proxy-error';
import { UNSEAL_PATH } from '../listeners/admin-unseal-endpoint';
import {
  adminRequest,
  parseAdminAddress,
  refusalText,
  type AdminAddress,
  type AdminAnswer,
} from './admin-client';
import { readUnsealKey } from './audit-replay-command';
import { requiredFlag, wroteHelp } from './certs-flags';
import { parseFlags, type CliCommand, type CliIo } from './cli-command';
import { TLS_CLIENT_FLAGS, TLS_CLIENT_HELP, readTlsClientMaterial } from './client-credentials';

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
  readonly address: AdminAddress;
  readonly logId: string;
  readonly sequence: number;
  readonly reason: string;
  readonly keyFile: string;
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

    const { logId, sequence, reason } = ask;
    const payload = { logId, sequence, reason };
    const answer = await adminRequest(ask.address, material, 'POST', UNSEAL_PATH, payload);

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
  const address = parseAdminAddress(requiredFlag('admin', flags.admin));
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
  return { address, logId, sequence, reason, keyFile };
}

function usage(message: string): ProxyError {
  return new ProxyError('ERR_USAGE', message);
}

function refused(io: CliIo, answer: AdminAnswer): number {
  return failed(io, refusalText(answer));
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
