// `infergate reviews`: lists, shows, approves and denies the requests a gateway holds for review,
// through its admin listener over mTLS.

import { z } from 'zod';
import { printableText } from '../audit/audit-transcript-text';
import { ProxyError } from '../errors/proxy-error';
import { REVIEW_ID_PATTERN, REVIEWS_PATH } from '../listeners/admin-review-endpoint';
import {
  adminRequest,
  DEFAULT_ADMIN_ADDRESS,
  parseAdminAddress,
  refusalText,
  type AdminAnswer,
} from './admin-client';
import { requiredFlag, wroteHelp } from './certs-flags';
import { parseFlags, type CliCommand, type CliIo } from './cli-command';
import { runSubcommand, subcommandLines } from './cli-subcommands';
import { TLS_CLIENT_FLAGS, TLS_CLIENT_HELP, readTlsClientMaterial } from './client-credentials';

const FLAGS = {
  ...TLS_CLIENT_FLAGS,
  admin: { type: 'string' },
  reason: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type FlagValues = ReturnType<typeof parseFlags<typeof FLAGS>>;

const MAX_REASON_CHARS = 500;
const MISSING_MATERIAL_HINT = '; infergate certs init makes a development set';

const CONNECTION_HELP = `      --admin HOST:PORT         the gateway's admin listener over TLS
                                (default ${DEFAULT_ADMIN_ADDRESS})
${TLS_CLIENT_HELP}
  -h, --help                    show this help`;

const EXIT_HELP =
  'Exits 0 on success, 1 when the gateway refuses or cannot be reached, 2 on bad usage.';

/** What one subcommand does once its flags are read. */
interface ReviewAction {
  readonly name: 'list' | 'show' | 'approve' | 'deny';
  readonly summary: string;
  readonly usage: string;
  readonly description: string;
  /** Help lines of its own flags, each ending in a newline. */
  readonly options?: string;
  /** Whether it takes a review ID after its name, and `--reason`. */
  readonly takesId: boolean;
  readonly takesReason: boolean;
  /** Sends the request and prints the answer; resolves with the exit code. */
  perform(call: AdminCall, ask: ReviewAsk, io: CliIo): Promise<number>;
}

/** The ID and reason, checked before anything is read or sent. */
interface ReviewAsk {
  readonly id: string;
  readonly reason: string;
}

type AdminCall = (method: string, path: string, payload?: unknown) => Promise<AdminAnswer>;

const listAction: ReviewAction = {
  name: 'list',
  summary: 'list the pending reviews',
  usage: 'list',
  description: `Lists the pending reviews, oldest first: the rule that held each request, who asked,
for what, and how many approvals it has of how many it needs.`,
  takesId: false,
  takesReason: false,
  async perform(call, _ask, io) {
    const answer = await call('GET', REVIEWS_PATH);
    if (answer.status !== 200) return failed(io, refusalText(answer));
    const parsed = z.object({ reviews: z.array(summarySchema) }).safeParse(answer.body);
    if (!parsed.success) {
      return failed(io, 'the gateway answered with something other than reviews');
    }
    const { reviews } = parsed.data;
    write(io, reviews.length === 0 ? ['no pending reviews'] : reviewTable(reviews));
    return 0;
  },
};

const showAction: ReviewAction = {
  name: 'show',
  summary: 'show one review whole',
  usage: 'show ID',
  description: `Shows review ID: who asked, the masked request, the reviewer roles, the decisions so
far and the grant.`,
  takesId: true,
  takesReason: false,
  perform: (call, ask, io) => printReview(call('GET', reviewPath(ask.id)), io),
};

function decisionAction(verdict: 'approve' | 'deny'): ReviewAction {
  const verb = verdict === 'approve' ? 'Approves' : 'Denies';
  return {
    name: verdict,
    summary: `${verdict} a review, with a reason`,
    usage: `${verdict} ID --reason TEXT`,
    description: `${verb} review ID as the holder of the certificate and token sent, and prints
its new state. The gateway refuses the requester, a caller without a reviewer role the review
names, and a review already decided or expired. The reason is recorded in the audit log.`,
    options: `      --reason TEXT             why, in 1-${MAX_REASON_CHARS} characters; recorded\n`,
    takesId: true,
    takesReason: true,
    perform: (call, { id, reason }, io) =>
      printReview(call('POST', `${reviewPath(id)}/${verdict}`, { reason }), io),
  };
}

/** One subcommand of `reviews`: its ID when it takes one, its flags, then the request. */
function subcommand(action: ReviewAction): CliCommand {
  return {
    name: action.name,
    summary: action.summary,
    help: `Usage: infergate reviews ${action.usage} [--admin HOST:PORT]
                         [--certs DIR | --ca F --cert F --key F] [--token JWT]

${action.description}

${EXIT_HELP}

Options:
${action.options ?? ''}${CONNECTION_HELP}`,

    async run(args, io) {
      const [id, rest] = action.takesId ? takeId(args) : [undefined, args];
      const flags = parseFlags(rest, FLAGS);
      if (wroteHelp(flags.help, this, io)) return 0;
      const ask = reviewAsk(action, id, flags);
      const address = parseAdminAddress(flags.admin ?? DEFAULT_ADMIN_ADDRESS);
      const material = await readTlsClientMaterial(flags, MISSING_MATERIAL_HINT);

      const call: AdminCall = (method, path, payload) =>
        adminRequest(address, material, method, path, payload);
      return action.perform(call, ask, io);
    },
  };
}

function reviewAsk(action: ReviewAction, id: string | undefined, flags: FlagValues): ReviewAsk {
  if (action.takesId && id === undefined) throw usage(`reviews ${action.name} needs a review ID`);
  if (!action.takesReason) {
    if (flags.reason !== undefined) throw usage('--reason applies to approve and deny only');
    return { id: id ?? '', reason: '' };
  }
  const reason = requiredFlag('reason', flags.reason);
  if (reason.length > MAX_REASON_CHARS) {
    throw usage(`--reason has ${reason.length} characters; at most ${MAX_REASON_CHARS} are kept`);
  }
  return { id: id!, reason };
}

/** The leading ID, when the arguments start with one rather than a flag. */
function takeId(args: readonly string[]): [string | undefined, readonly string[]] {
  const [first, ...rest] = args;
  if (first === undefined || first.startsWith('-')) return [undefined, args];
  // Threat: an ID is put in the path; `..` or `/` would send the request somewhere else.
  if (!REVIEW_ID_PATTERN.test(first)) throw usage(`"${printableText(first)}" is not a review ID`);
  return [first, rest];
}

function reviewPath(id: string): string {
  return `${REVIEWS_PATH}/${id}`;
}

/** Prints the review an answer holds; 1 when the gateway refused. */
async function printReview(answering: Promise<AdminAnswer>, io: CliIo): Promise<number> {
  const answer = await answering;
  if (answer.status !== 200) return failed(io, refusalText(answer));
  const parsed = z.object({ review: reviewSchema }).safeParse(answer.body);
  if (!parsed.success) return failed(io, 'the gateway answered with something other than a review');
  write(io, reviewLines(parsed.data.review));
  return 0;
}

const requestSchema = z.object({
  listener: z.string(),
  operation: z.string(),
  model: z.string().optional(),
  route: z.string().optional(),
  facts: z.record(z.string(), z.string()),
});

const summarySchema = z.object({
  id: z.string(),
  state: z.string(),
  rule: z.string(),
  requester: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  request: requestSchema,
  approvals: z.number(),
  approvalsRequired: z.number(),
});

const reviewSchema = summarySchema.extend({
  requester: z.object({
    subject: z.string(),
    certificateThumbprint: z.string(),
    roles: z.array(z.string()),
  }),
  request: requestSchema.extend({ maskedPrompt: z.array(z.string()) }),
  reviewerRoles: z.array(z.string()),
  decisions: z.array(
    z.object({ reviewer: z.string(), verdict: z.string(), reason: z.string(), at: z.string() }),
  ),
  grant: z.object({ expiresAt: z.string(), usedAt: z.string().optional() }).optional(),
});

type ReviewSummary = z.infer<typeof summarySchema>;
type ReviewView = z.infer<typeof reviewSchema>;

const TABLE_HEADINGS = [
  'ID',
  'STATE',
  'RULE',
  'REQUESTER',
  'OPERATION',
  'MODEL',
  'APPROVALS',
  'EXPIRES',
];
const LABEL_CHARS = 20;

/** One aligned row per review under a heading row. */
function reviewTable(reviews: readonly ReviewSummary[]): string[] {
  const rows = reviews.map((review) =>
    [
      review.id,
      review.state,
      review.rule,
      review.requester,
      review.request.operation,
      review.request.model ?? '-',
      `${review.approvals}/${review.approvalsRequired}`,
      review.expiresAt,
    ].map(printableText),
  );
  const widths = TABLE_HEADINGS.map((heading, column) =>
    Math.max(heading.length, ...rows.map((row) => row[column]!.length)),
  );
  return [TABLE_HEADINGS, ...rows].map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd(),
  );
}

/** The review as `label: value` lines: who asked, for what, and how far it is. */
function reviewLines(review: ReviewView): string[] {
  const { request, requester, grant } = review;
  return [
    ...field('review', review.id),
    ...field('state', review.state),
    ...field('rule', review.rule),
    ...field('requester', `${requester.subject} (${requester.roles.join(', ')})`),
    ...field('certificate', requester.certificateThumbprint),
    ...field('created', review.createdAt),
    ...field('expires', review.expiresAt),
    ...field(
      'request',
      [request.listener, request.operation, request.model, request.route].filter(Boolean).join(' '),
    ),
    ...Object.entries(request.facts).flatMap(([name, value]) => field(`fact ${name}`, value)),
    ...request.maskedPrompt.flatMap((text) => field('masked prompt', text)),
    ...field('reviewer roles', review.reviewerRoles.join(', ')),
    ...field('approvals', `${review.approvals}/${review.approvalsRequired}`),
    ...review.decisions.flatMap((decision) =>
      field(decision.verdict, `${decision.reviewer} at ${decision.at}: ${decision.reason}`),
    ),
    ...(grant === undefined ? [] : field('grant', grantText(grant))),
  ];
}

function grantText(grant: NonNullable<ReviewView['grant']>): string {
  const used = grant.usedAt === undefined ? 'unused' : `used at ${grant.usedAt}`;
  return `${used}, expires ${grant.expiresAt}`;
}

/** `label: value`, aligned, each further line of `value` indented; safe to print. */
function field(label: string, value: string): string[] {
  return printableText(value)
    .split('\n')
    .map((line, index) => `${index === 0 ? `${label}:` : ''}`.padEnd(LABEL_CHARS) + line);
}

function write(io: CliIo, lines: readonly string[]): void {
  for (const line of lines) io.stdout.write(`${line}\n`);
}

function failed(io: CliIo, message: string): number {
  io.stderr.write(`infergate reviews: ${printableText(message)}\n`);
  return 1;
}

function usage(message: string): ProxyError {
  return new ProxyError('ERR_USAGE', message);
}

const SUBCOMMANDS: readonly CliCommand[] = [
  listAction,
  showAction,
  decisionAction('approve'),
  decisionAction('deny'),
].map(subcommand);

function help(): string {
  return `Usage: infergate reviews <subcommand> [ID] [options]

Works with the requests a gateway holds until reviewers approve them (its reviews section),
through the gateway's admin listener over mTLS with a token bound to the client certificate.

Subcommands:
${subcommandLines(SUBCOMMANDS)}

Run infergate reviews <subcommand> --help for its options.`;
}

/** `reviews`: dispatches to a subcommand. */
export const reviewsCommand: CliCommand = {
  name: 'reviews',
  summary: 'list, show, approve and deny held requests',
  help: help(),

  run(args, io) {
    return runSubcommand(args, io, SUBCOMMANDS, 'infergate reviews', help());
  },
};
