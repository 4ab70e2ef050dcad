// `infergate audit export`: every frame of a store as JSON lines, with its verdict, for a SIEM.

import { isoFromMicros } from '../audit/audit-time';
import fs from 'node:fs';
import { verifyAudit, type AuditReport, type FrameVerdict } from '../audit/audit-verifier';
import { ProxyError } from '../errors/proxy-error';
import { parseFlags, type CliCommand, type CliIo } from './cli-command';
import { wroteHelp } from './certs-flags';
import {
  AUDIT_SOURCE_FLAGS,
  AUDIT_SOURCE_FLAGS_HELP,
  auditJson,
  auditSourceFromFlags,
} from './audit-source-flags';

const EXPORT_FLAGS = {
  ...AUDIT_SOURCE_FLAGS,
  out: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Frames hold masked prompts and caller identities: the export is readable by its owner only. */
const EXPORT_FILE_MODE = 0o600;

/** Where export lines go. */
interface ExportSink {
  write(line: string): void;
  /** Called once the export is whole; only then does `--out` name a file. */
  finish(): void;
  /** Called when the store could not be read to the end. */
  abandon(): void;
}

/** `audit export`: one JSON object per frame, in storage order, with its verdict. */
export const auditExportCommand: CliCommand = {
  name: 'export',
  summary: 'print every frame of an audit store as JSON lines, with its verdict',
  help: `Usage: infergate audit export (--dir DIR | --pg URL [--table T] | --config FILE) --keys PATH...
                              [--out FILE]

Verifies the store as infergate audit verify does and prints one JSON object per frame, in
storage order: logId, sequence, time (ISO 8601), kind, status ("verified" when a valid
checkpoint covers it, "unsigned" after the last one, "broken" at or before a break), where
(its place in the store) and event (the decoded event, bytes as hex). A frame that does not
decode has kind and event null. Exits 0 when no log has a break, 1 on a break (every frame is
still exported) or an unreadable store or key, 2 on bad usage.

Options:
${AUDIT_SOURCE_FLAGS_HELP}
  -o, --out FILE         write to FILE (owner-only, replaced once whole) instead of stdout
  -h, --help             show this help`,

  async run(args, io) {
    const flags = parseFlags(args, EXPORT_FLAGS);
    if (wroteHelp(flags.help, this, io)) return 0;
    const { source, keys } = auditSourceFromFlags(flags);
    const sink = flags.out === undefined ? stdoutSink(io) : fileSink(flags.out);

    let report: AuditReport;
    try {
      report = await verifyAudit(source, { keys, onFrame: (verdict) => sink.write(line(verdict)) });
    } catch (err) {
      sink.abandon();
      throw err;
    }
    sink.finish();

    writeBreaks(io, report);
    return report.ok ? 0 : 1;
  },
};

function line(verdict: FrameVerdict): string {
  const { frame } = verdict;
  const record = {
    logId: verdict.logId,
    sequence: verdict.sequence ?? null,
    time: (frame && isoFromMicros(frame.timeUnixMicros)) ?? null,
    kind: verdict.kind ?? null,
    status: verdict.status,
    where: verdict.where,
    event: frame?.body ?? null,
  };
  return `${auditJson(record)}\n`;
}

/** Breaks go to stderr, so stdout stays JSON lines only. */
function writeBreaks(io: CliIo, report: AuditReport): void {
  for (const log of report.logs) {
    const count = log.breaks.length + log.breaksOmitted;
    if (count === 0) continue;
    io.stderr.write(
      `infergate audit export: log ${log.logId} has ${count} breaks; ` +
        'infergate audit verify lists them\n',
    );
  }
}

// Limitation: onFrame is synchronous, so stdout writes do not wait for a slow reader; exporting
// a large store into a pipe that drains slowly buffers the lines in memory (--out does not).
function stdoutSink(io: CliIo): ExportSink {
  return { write: (text) => io.stdout.write(text), finish: () => {}, abandon: () => {} };
}

/** Writes beside `file` and renames at the end, so a failed export never looks complete. */
function fileSink(file: string): ExportSink {
  const partial = `${file}.partial`;
  const fd = fileStep(file, () => fs.openSync(partial, 'w', EXPORT_FILE_MODE));
  return {
    write: (text) => fileStep(file, () => fs.writeSync(fd, text)),
    finish: () =>
      fileStep(file, () => {
        fs.fsyncSync(fd);
        fs.closeSync(fd);
        fs.renameSync(partial, file);
      }),
    abandon: () => {
      fs.closeSync(fd);
      fs.rmSync(partial, { force: true });
    },
  };
}

function fileStep<T>(file: string, step: () => T): T {
  try {
    return step();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ProxyError('ERR_USAGE', `cannot write the export to ${file} (${code})`, {
      cause: err,
    });
  }
}
