// `infergate audit verify`: checks the chain and signatures of every log of a store.

import { isoFromMicros } from '../audit/audit-time';
import { HASH_BYTES } from '../audit/audit-chain';
import {
  verifyAudit,
  type AuditReport,
  type LogReport,
  type WitnessHead,
} from '../audit/audit-verifier';
import { ProxyError } from '../errors/proxy-error';
import { parseFlags, type CliCommand, type CliIo } from './cli-command';
import { writeField, wroteHelp } from './certs-flags';
import {
  AUDIT_SOURCE_FLAGS,
  AUDIT_SOURCE_FLAGS_HELP,
  auditJson,
  auditSourceFromFlags,
} from './audit-source-flags';

const VERIFY_FLAGS = {
  ...AUDIT_SOURCE_FLAGS,
  head: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const HEAD_PATTERN = new RegExp(`^(.+):(\\d{1,15}):([0-9a-fA-F]{${HASH_BYTES * 2}})$`);

/** `audit verify`: verifies a store against the given public keys only. */
export const auditVerifyCommand: CliCommand = {
  name: 'verify',
  summary: 'verify the chain and checkpoint signatures of an audit store',
  help: `Usage: infergate audit verify (--dir DIR | --pg URL [--table T] | --config FILE) --keys PATH...
                              [--head LOGID:SEQUENCE:HASHHEX]... [--json]

Reads every frame of the store once and checks each log: that it starts at its genesis, that
every frame links to the one before it, that every checkpoint commits to the frame before it
under a trusted key, and that every key rotation is vouched for. Only the keys given are
trusted, never keys named in the log. Prints, per log, the frames read and verified, the last
signed checkpoint, the frames after it (the unsigned tail), gaps, rotations and every break.

Frames cut off after the last checkpoint leave no trace in the store: pass a head saved
elsewhere (--head) to prove they are still there. Exits 0 when no log has a break, 1 on a
break or an unreadable store or key, 2 on bad usage.

Options:
${AUDIT_SOURCE_FLAGS_HELP}
      --head L:S:H       a witness head: log L's frame S must hash to H (64 hex digits)
      --json             print the report as one JSON object (bytes as hex)
  -h, --help             show this help`,

  async run(args, io) {
    const flags = parseFlags(args, VERIFY_FLAGS);
    if (wroteHelp(flags.help, this, io)) return 0;
    const heads = (flags.head ?? []).map(parseWitnessHead);
    const { source, keys } = auditSourceFromFlags(flags);

    const report = await verifyAudit(source, { keys, heads });

    if (flags.json === true) io.stdout.write(`${auditJson(report)}\n`);
    else writeReport(io, report);
    return report.ok ? 0 : 1;
  },
};

/** Parses `LOGID:SEQUENCE:HASHHEX`; the log id may itself hold colons, so it is read last. */
function parseWitnessHead(value: string): WitnessHead {
  const match = HEAD_PATTERN.exec(value);
  const sequence = Number(match?.[2]);
  if (match === null || sequence < 1) {
    throw new ProxyError(
      'ERR_USAGE',
      `--head "${value}" is not LOGID:SEQUENCE:HASHHEX with a ${HASH_BYTES * 2}-digit hash`,
    );
  }
  return { logId: match[1]!, sequence, hash: Buffer.from(match[3]!, 'hex') };
}

function writeReport(io: CliIo, report: AuditReport): void {
  if (report.logs.length === 0) writeField(io, 'logs', 'none found');
  report.logs.forEach((log, index) => {
    if (index > 0) io.stdout.write('\n');
    writeLog(io, log);
  });

  const breaks = report.logs.reduce((sum, log) => sum + log.breaks.length + log.breaksOmitted, 0);
  io.stdout.write('\n');
  writeField(io, 'result', report.ok ? 'ok' : `${breaks} breaks`);
}

function writeLog(io: CliIo, log: LogReport): void {
  writeField(io, 'log', log.logId);
  writeField(io, 'frames', `${log.framesRead} read, ${log.framesVerified} verified`);
  writeField(io, 'sequences', `${log.firstSequence ?? '-'} to ${log.lastSequence ?? '-'}`);
  writeField(io, 'checkpoint', checkpointLine(log));
  writeField(io, 'unsigned tail', `${log.unsignedTail} frames`);

  if (log.gaps.length === 0) writeField(io, 'gaps', 'none');
  for (const gap of log.gaps) {
    const torn = `${gap.tornBytes} torn bytes in ${gap.segment}`;
    writeField(io, 'gap', `at ${gap.sequence}, after ${gap.lastSequence}, ${torn}`);
  }

  if (log.rotations.length === 0) writeField(io, 'rotations', 'none');
  for (const rotation of log.rotations) {
    const vouched = rotation.vouched ? 'vouched' : 'not vouched';
    const keys = `${rotation.previousKeyId} to ${rotation.keyId}`;
    writeField(io, 'rotation', `at ${rotation.sequence}, ${keys}, ${vouched}`);
  }

  if (log.breaks.length === 0) writeField(io, 'breaks', 'none');
  for (const found of log.breaks) {
    const at = `${found.where || '-'}, sequence ${found.sequence ?? '-'}`;
    writeField(io, 'break', `${found.kind} at ${at}: ${found.message}`);
  }
  if (log.breaksOmitted > 0) writeField(io, 'not listed', `${log.breaksOmitted} more breaks`);
}

function checkpointLine(log: LogReport): string {
  const checkpoint = log.lastCheckpoint;
  if (checkpoint === undefined) return 'none';
  const time = isoFromMicros(checkpoint.timeUnixMicros) ?? `${checkpoint.timeUnixMicros} us`;
  const covers = `covers to ${checkpoint.headSequence}`;
  return `${checkpoint.frameSequence} (${covers}), key ${checkpoint.keyId}, ${time}`;
}
