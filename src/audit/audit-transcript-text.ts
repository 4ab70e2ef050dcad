// Renders a replayed exchange as the lines of a transcript a reviewer reads.

import { isoFromMicros } from './audit-time';
import {
  DECISION_OUTCOME,
  REVIEW_EVENT_KIND,
  type CallerRecord,
  type ExchangeFinishedEvent,
  type MaskedTextRecord,
  type ReviewEventRecord,
} from './audit-events';
import {
  THUMBPRINT_PREFIX_CHARS,
  exchangeStatus,
  recordedChunks,
  type ReplayFrame,
  type ReplayedExchange,
  type TimedEvent,
  type UnsealedOriginals,
  type UnsealedTexts,
} from './audit-replay';

const LABEL_CHARS = 20;
const CONTINUATION = ' '.repeat(LABEL_CHARS);

/**
 * Prompts, responses and caller names come from clients and models: raw control characters and
 * bidirectional overrides in them would drive the reviewer's terminal or reorder what it shows,
 * so they are printed as escapes. Newlines and tabs stay; a newline starts an indented line.
 */
const UNSAFE_CHARACTERS =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const OUTCOMES = new Map<number, string>([
  [DECISION_OUTCOME.ALLOWED, 'allowed'],
  [DECISION_OUTCOME.DENIED, 'denied'],
  [DECISION_OUTCOME.REVIEW_REQUIRED, 'review required'],
]);
const REVIEW_KINDS = new Map<number, string>(
  Object.entries(REVIEW_EVENT_KIND).map(([name, kind]) => [kind, name.toLowerCase()]),
);

/**
 * The transcript of one exchange: when, where in the log, who, what, the decision and reviews,
 * the masked prompt and response (with the originals next to them when `originals` is given),
 * how it ended, what was masked, and how its frames verified. Every line is safe to print.
 */
export function transcriptLines(
  exchange: ReplayedExchange,
  originals?: UnsealedOriginals,
): string[] {
  const { started, finished } = exchange;
  return [
    ...field('exchange', exchange.exchangeId),
    ...field('time', timeLine(exchange)),
    ...field('log', `${exchange.logId}, sequences ${sequencesOf(exchange.frames)}`),
    ...field('session', sessionLine(exchange)),
    ...field('who', callerLine(started.event.identity)),
    ...field('what', whatLine(exchange)),
    ...field('decision', decisionLine(exchange)),
    ...exchange.reviews.flatMap((review) => field('review', reviewLine(review))),
    ...textFields('prompt', started.event.prompt, started.event.promptTruncated),
    ...originalFields('original prompt', originals, originals?.prompt),
    ...laterPromptFields(finished?.event, originals),
    ...(finished === undefined
      ? field('response', 'none recorded: the exchange has no ExchangeFinished frame')
      : textFields('response', finished.event.response, finished.event.responseTruncated)),
    ...originalFields('original response', originals, originals?.response),
    ...(finished === undefined ? [] : finishedFields(finished.event)),
    ...field('verification', verificationLine(exchange)),
  ];
}

/** `text` with every character that could drive a terminal written as an escape. */
export function printableText(text: string): string {
  return text.replace(UNSAFE_CHARACTERS, escaped);
}

/** `label: value`, aligned; each further line of `value` indented under the first. */
function field(label: string, value: string): string[] {
  const lines = printableText(value).split('\n');
  return lines.map((line, index) =>
    index === 0 ? `${`${label}:`.padEnd(LABEL_CHARS)}${line}` : `${CONTINUATION}${line}`,
  );
}

function escaped(character: string): string {
  return `\\u{${character.codePointAt(0)!.toString(16)}}`;
}

function textFields(
  label: string,
  texts: readonly MaskedTextRecord[] | undefined,
  truncated: boolean | undefined,
): string[] {
  if (texts === undefined || texts.length === 0) return field(label, '(none)');
  const lines = texts.flatMap((text) => field(label, textValue(text)));
  return truncated === true ? [...lines, ...field(label, '(cut at the configured bound)')] : lines;
}

function textValue({ stream, text }: MaskedTextRecord): string {
  const body = text === undefined || text === '' ? '(empty)' : text;
  return stream === undefined || stream === '' ? body : `[${stream}] ${body}`;
}

/** Nothing at all without `--unseal`, so a plain transcript does not hint at originals. */
function originalFields(
  label: string,
  originals: UnsealedOriginals | undefined,
  original: UnsealedTexts | undefined,
): string[] {
  if (originals === undefined) return [];
  if (original === undefined) return field(label, 'not sealed');
  if (!original.opened) return field(label, `does not open with the key given: ${original.reason}`);
  return textFields(label, original.texts, false);
}

/** The prompts of a stream's requests after its first, when there were any. */
function laterPromptFields(
  finished: ExchangeFinishedEvent | undefined,
  originals: UnsealedOriginals | undefined,
): string[] {
  if (finished?.prompt === undefined || finished.prompt.length === 0) return [];
  return [
    ...textFields('later prompt', finished.prompt, false),
    ...originalFields('original later prompt', originals, originals?.laterPrompt),
  ];
}

function finishedFields(finished: ExchangeFinishedEvent): string[] {
  const chunks = recordedChunks(finished);
  const masked = (finished.masked ?? []).map((m) => `${m.direction} ${m.kind} ${m.count ?? 0}`);
  const usage = finished.usage;
  return [
    ...field('status', [String(finished.status ?? 0), finished.detail].filter(Boolean).join(', ')),
    ...field(
      'chunks',
      chunks.length === 0
        ? 'none recorded'
        : `${chunks.length}, the last at ${chunks.at(-1)!.atMs ?? 0} ms`,
    ),
    ...field('masked', masked.length === 0 ? 'nothing' : masked.join(', ')),
    ...(usage === undefined
      ? []
      : field(
          'usage',
          `${usage.promptTokens ?? 0} prompt, ${usage.completionTokens ?? 0} completion tokens`,
        )),
  ];
}

function timeLine({ started, finished }: ReplayedExchange): string {
  const start = isoTime(started.timeUnixMicros);
  if (finished === undefined) return `${start}, not finished`;
  return `${start}, finished after ${finished.event.durationMs ?? 0} ms`;
}

function sequencesOf(frames: readonly ReplayFrame[]): string {
  return frames.map((frame) => frame.sequence).join(', ');
}

function sessionLine({ started, session }: ReplayedExchange): string {
  const sessionId = started.event.sessionId ?? '';
  const opened = session?.opened;
  if (opened === undefined) return `${sessionId} (no SessionOpened frame found)`;
  const { listener, clientAddress, tlsVersion, cipher } = opened.event;
  const parts = [`${sessionId} on ${listener ?? '-'} from ${clientAddress || '-'}`];
  parts.push(tlsVersion ? `${tlsVersion} ${cipher ?? ''}`.trim() : 'cleartext');
  parts.push(`opened ${isoTime(opened.timeUnixMicros)}`);
  const closed = session?.closed;
  if (closed !== undefined) parts.push(`closed after ${closed.event.exchanges ?? 0} exchanges`);
  return parts.join(', ');
}

function callerLine(caller: CallerRecord | undefined): string {
  if (caller === undefined) return 'not recorded';
  const issuer = caller.tokenIssuer ? ` (issuer ${caller.tokenIssuer})` : '';
  const parts = [caller.tokenSubject ? `${caller.tokenSubject}${issuer}` : 'no token'];
  const roles = caller.roles ?? [];
  parts.push(roles.length === 0 ? 'no roles' : `roles ${roles.join(' ')}`);
  const certificate = caller.certificate;
  if (certificate === undefined) parts.push('no certificate');
  else {
    const thumbprint = (certificate.thumbprint ?? '').slice(0, THUMBPRINT_PREFIX_CHARS);
    parts.push(`certificate ${certificate.subject ?? '-'} x5t#S256 ${thumbprint}…`);
  }
  return parts.join(', ');
}

function whatLine({ started }: ReplayedExchange): string {
  const { listener, protocol, operation, model, route, upstream, facts } = started.event;
  const parts = [`${operation ?? '-'} on ${listener ?? '-'} (${protocol ?? '-'})`];
  if (model) parts.push(`model ${model}`);
  if (route) parts.push(`route ${route}`);
  if (upstream) parts.push(`upstream ${upstream}`);
  const known = Object.entries(facts ?? {}).map(([name, value]) => `${name}=${value}`);
  if (known.length > 0) parts.push(known.join(' '));
  return parts.join(', ');
}

function decisionLine({ decision }: ReplayedExchange): string {
  if (decision === undefined) return 'none recorded';
  const { outcome, role, detail, reviewId } = decision.event;
  const parts = [OUTCOMES.get(outcome ?? 0) ?? `outcome ${outcome ?? 0}`];
  if (role) parts.push(`role ${role}`);
  if (detail) parts.push(detail);
  if (reviewId) parts.push(`review ${reviewId}`);
  return parts.join(', ');
}

function reviewLine({ timeUnixMicros, event }: TimedEvent<ReviewEventRecord>): string {
  const parts = [`${REVIEW_KINDS.get(event.kind ?? 0) ?? 'unknown'} ${event.reviewId ?? '-'}`];
  parts.push(isoTime(timeUnixMicros));
  if (event.rule) parts.push(`rule ${event.rule}`);
  if (event.actor?.tokenSubject) parts.push(`by ${event.actor.tokenSubject}`);
  if (event.reason) parts.push(event.reason);
  return parts.join(', ');
}

function verificationLine(exchange: ReplayedExchange): string {
  const frames = [...exchange.frames, ...(exchange.session?.frames ?? [])];
  const status = exchangeStatus(exchange);
  const count = (wanted: string) => frames.filter((frame) => frame.status === wanted).length;
  if (status === 'verified') return `verified (${frames.length} frames)`;
  if (status === 'unsigned') {
    const after = `${count('unsigned')} of ${frames.length} frames`;
    return `unsigned: ${after} come after the last checkpoint`;
  }
  const broken = `${count('broken')} of ${frames.length} frames broken`;
  return `broken: ${broken}; infergate audit verify lists the breaks`;
}

/** A frame time as ISO 8601 with every digit, or the raw number when no date can hold it. */
function isoTime(micros: number): string {
  return isoFromMicros(micros) ?? `${micros} us`;
}
