// `infergate mask`: masks a text as the gateway would, or checks that a file holds no card data,
// so operators and assessors can see the masking policy at work without a model server.

import { readFileSync } from 'node:fs';
import { readEnvironment } from '../config/environment';
import { loadConfigFile } from '../config/load-config';
import { ProxyError } from '../errors/proxy-error';
import { textMaskPolicy } from '../filters/masking/masking-settings';
import { FINDING_KINDS } from '../masking/findings';
import { DEFAULT_MASK_OPTIONS } from '../masking/mask-options';
import {
  emptyTextMaskCounts,
  maskText,
  StreamTextMasker,
  type TextMaskCounts,
  type TextMaskPolicy,
} from '../masking/text-masker';
import { parseCount, parseFlags, type CliCommand, type CliIo } from './cli-command';

const FLAGS = {
  config: { type: 'string', short: 'c' },
  file: { type: 'string' },
  check: { type: 'boolean' },
  json: { type: 'boolean' },
  'chunk-bytes': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The largest text read at once: the command holds it whole, as a one-shot mask does. */
const MAX_TEXT_BYTES = 256 * 1024 * 1024;

const HELP = `Usage: infergate mask [--config FILE] [--file PATH] [--check] [--json] [--chunk-bytes N]

Masks the text of PATH (default: standard input) as the gateway masks prompts and responses:
card numbers, security codes, expiry dates and track data, then the operator's patterns of
the configuration's masking section (without --config: the defaults, no patterns). Prints the
masked text. What was found is counted by kind; the values never are.

Options:
  -c, --config FILE      the gateway's configuration: its masking options and patterns
      --file PATH        the text to read instead of standard input
      --check            print only the counts, and exit 1 when anything was found: a check
                         that a log, an export or a fixture holds no card data
      --json             print one JSON object: the masked text (none with --check), the
                         counts, and the stream comparison
      --chunk-bytes N    also mask the text as a stream cut into pieces of N bytes, as tokens
                         arrive, and say whether the result equals the whole text's
  -h, --help             show this help

Exit codes: 0 done (with --check: nothing found), 1 card data or a pattern found with --check,
2 bad flags, an unreadable file or an invalid configuration.`;

/** `infergate mask`: the masking engine on a text, with the gateway's policy. */
export const maskCommand: CliCommand = {
  name: 'mask',
  summary: 'mask a text as the gateway would, or check a file for card data',
  help: HELP,

  async run(args, io) {
    const flags = parseFlags(args, FLAGS);
    if (flags.help === true) {
      io.stdout.write(`${HELP}\n`);
      return 0;
    }
    const chunkBytes = parseCount('chunk-bytes', flags['chunk-bytes']);
    if (chunkBytes === 0) throw new ProxyError('ERR_USAGE', '--chunk-bytes must be at least 1');
    const policy = policyOf(flags.config);
    const original = readText(flags.file);

    const text = Buffer.from(original);
    const counts = emptyTextMaskCounts();
    maskText(text, policy, counts);
    const stream = chunkBytes === undefined ? undefined : streamed(original, policy, chunkBytes);
    report(io, { text, counts, stream, check: flags.check === true, json: flags.json === true });
    return flags.check === true && found(counts) ? 1 : 0;
  },
};

/** The masking policy of the configuration file, or the defaults without one. */
function policyOf(configFile: string | undefined): TextMaskPolicy {
  if (configFile === undefined) return { options: DEFAULT_MASK_OPTIONS, patterns: [] };
  return textMaskPolicy(loadConfigFile(configFile, readEnvironment()));
}

function readText(file: string | undefined): Buffer {
  let text: Buffer;
  try {
    text = readFileSync(file ?? 0);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'an error';
    throw new ProxyError('ERR_USAGE', `${file ?? 'standard input'} cannot be read (${code})`);
  }
  if (text.length > MAX_TEXT_BYTES) {
    throw new ProxyError('ERR_USAGE', `the text is over ${MAX_TEXT_BYTES} bytes`);
  }
  return text;
}

/** The text masked as a stream of `chunkBytes` pieces, and whether it equals the one-shot. */
function streamed(original: Buffer, policy: TextMaskPolicy, chunkBytes: number) {
  const masker = new StreamTextMasker(policy);
  const out: Buffer[] = [];
  for (let at = 0; at < original.length; at += chunkBytes) {
    out.push(...masker.push(Buffer.from(original.subarray(at, at + chunkBytes))));
  }
  out.push(...masker.end());
  return { chunkBytes, masked: Buffer.concat(out) };
}

interface Outcome {
  readonly text: Buffer;
  readonly counts: TextMaskCounts;
  readonly stream: { chunkBytes: number; masked: Buffer } | undefined;
  readonly check: boolean;
  readonly json: boolean;
}

function report(io: CliIo, outcome: Outcome): void {
  const { text, counts, stream, check } = outcome;
  const identical = stream === undefined ? undefined : stream.masked.equals(text);
  if (outcome.json) {
    const streamFacts = stream && { chunkBytes: stream.chunkBytes, identical };
    const masked = check ? undefined : text.toString('utf8');
    const object = { masked, found: countsObject(counts), stream: streamFacts };
    io.stdout.write(`${JSON.stringify(object)}\n`);
    return;
  }
  if (!check) io.stdout.write(text);
  // Counts go to stderr when the text is on stdout, so a pipe gets the masked text alone.
  const summary = check ? io.stdout : io.stderr;
  summary.write(`${summaryLine(counts)}\n`);
  if (stream !== undefined) {
    const verdict = identical ? 'equals' : 'DIFFERS FROM';
    summary.write(`masked as a stream of ${stream.chunkBytes}-byte pieces: ${verdict} the whole\n`);
  }
}

function countsObject(counts: TextMaskCounts): Record<string, number> {
  const out: Record<string, number> = {};
  for (const kind of FINDING_KINDS) out[kind] = counts.cards[kind];
  for (const [name, count] of Object.entries(counts.patterns)) out[`pattern:${name}`] = count;
  return out;
}

function summaryLine(counts: TextMaskCounts): string {
  const parts = Object.entries(countsObject(counts)).map(([kind, count]) => `${kind} ${count}`);
  return `found: ${parts.join(', ')}`;
}

function found(counts: TextMaskCounts): boolean {
  return Object.values(countsObject(counts)).some((count) => count > 0);
}
