// Resolves the `reviews` section: checks every rule against the roles, routes and patterns.

import type { CheckableConfig } from './config-schema';
import type { ConfigIssue } from './config-error';
import type {
  ReviewRuleConfig,
  ReviewsConfig,
  ReviewWebhookConfig,
  RouteConfig,
} from './gateway-config';
import type { ReviewsSection } from './reviews-schema';
import { ProxyError } from '../errors/proxy-error';
import { compileModelPattern } from '../pipeline/model-pattern';
import { compilePromptPattern } from '../reviews/review-rules';

type RuleSection = ReviewsSection['rules'][number];
type WebhookSection = NonNullable<ReviewsSection['webhook']>;

/** RFC 9110 §5.1: a field name is a token. */
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** RFC 9110 §5.5: no CR, LF or NUL in a field value (they would split or end the header). */
const FIELD_VALUE_FORBIDDEN = /[\r\n\0]/;

/** Set by the notifier for every delivery; a configured copy would contradict it. */
const RESERVED_FIELDS = new Set(['content-type', 'content-length', 'host', 'transfer-encoding']);

/** The keys of `when` that are conditions; a rule with none of them would hold every request. */
const CONDITION_KEYS = [
  'roles',
  'routes',
  'models',
  'operations',
  'loadsModels',
  'maxTokensAbove',
  'nAbove',
  'inputsAbove',
  'batchAbove',
  'promptMatches',
  'rate',
] as const;

/**
 * Builds the review configuration, or undefined when the file has no `reviews` section. Every
 * role a rule names must be defined under `roles` and every route among `routes` (the implicit
 * `default` one included); patterns must compile; names are unique; a rule needs a condition
 * and at least one approval, a rate a bound; and a caller never waits past a review's expiry.
 */
export function resolveReviews(
  file: CheckableConfig,
  routes: readonly RouteConfig[],
  issues: ConfigIssue[],
): ReviewsConfig | undefined {
  const section = file.reviews;
  if (section === undefined) return undefined;
  if (section.waitMs > section.reviewTtlMs) {
    const reason = `waits ${section.waitMs} ms for reviews that expire after ${section.reviewTtlMs} ms`;
    issues.push({ path: 'reviews.waitMs', reason });
  }

  const context = { roles: file.roles, routes: new Set(routes.map((route) => route.name)), issues };
  const names = new Set<string>();
  section.rules.forEach((rule, index) => {
    const path = `reviews.rules[${index}]`;
    if (names.has(rule.name))
      issues.push({ path: `${path}.name`, reason: `"${rule.name}" is used twice` });
    names.add(rule.name);
    checkRule(rule, path, context);
  });
  if (section.webhook !== undefined) checkWebhook(section.webhook, issues);
  return {
    waitMs: section.waitMs,
    reviewTtlMs: section.reviewTtlMs,
    grantTtlMs: section.grantTtlMs,
    rules: section.rules.map(resolveRule),
    // Only when named, so a section without one resolves as it did before stores were chosen.
    ...(section.postgres === undefined
      ? {}
      : {
          postgres: {
            connectionString: section.postgres.connectionString,
            table: section.postgres.table,
          },
        }),
    ...(section.webhook === undefined ? {} : { webhook: resolveWebhook(section.webhook) }),
  };
}

function resolveWebhook(webhook: WebhookSection): ReviewWebhookConfig {
  const { url, timeoutMs, attempts, headers } = webhook;
  return { url, timeoutMs, attempts, headers };
}

/** The URL is http or https; headers are valid fields the notifier does not set itself. */
function checkWebhook(webhook: WebhookSection, issues: ConfigIssue[]): void {
  const path = 'reviews.webhook';
  const protocol = new URL(webhook.url).protocol;
  if (protocol !== 'http:' && protocol !== 'https:') {
    issues.push({ path: `${path}.url`, reason: `must be http:// or https://, not ${protocol}//` });
  }
  for (const [field, value] of Object.entries(webhook.headers)) {
    const where = `${path}.headers.${field}`;
    if (!FIELD_NAME.test(field)) issues.push({ path: where, reason: 'is not a header name' });
    else if (RESERVED_FIELDS.has(field.toLowerCase())) {
      issues.push({ path: where, reason: 'is set by the gateway for every delivery' });
    }
    // The value may be a secret: the reason says what is wrong, never what it is.
    if (FIELD_VALUE_FORBIDDEN.test(value)) {
      issues.push({ path: where, reason: 'holds a line break or NUL' });
    }
  }
}

interface RuleContext {
  readonly roles: CheckableConfig['roles'];
  readonly routes: ReadonlySet<string>;
  readonly issues: ConfigIssue[];
}

function resolveRule(rule: RuleSection): ReviewRuleConfig {
  return { name: rule.name, when: rule.when, reviewers: rule.reviewers, approvals: rule.approvals };
}

function checkRule(rule: RuleSection, path: string, context: RuleContext): void {
  const { when } = rule;
  const { issues } = context;
  if (!CONDITION_KEYS.some((key) => when[key] !== undefined)) {
    issues.push({ path: `${path}.when`, reason: 'a rule needs at least one condition' });
  }
  if (rule.approvals < 1) {
    issues.push({
      path: `${path}.approvals`,
      reason: `${rule.approvals} approvals; at least 1 is needed`,
    });
  }
  if (
    when.rate !== undefined &&
    when.rate.requests === undefined &&
    when.rate.tokens === undefined
  ) {
    issues.push({ path: `${path}.when.rate`, reason: 'a rate needs requests, tokens or both' });
  }

  checkRoles(when.roles, `${path}.when.roles`, context);
  checkRoles(rule.reviewers, `${path}.reviewers`, context);
  checkRoutes(when.routes, `${path}.when.routes`, context);
  checkPatterns(rule, path, issues);
}

/** Looked up with hasOwn: a role named `toString` is unknown, not inherited. */
function checkRoles(roles: readonly string[] | undefined, path: string, context: RuleContext) {
  roles?.forEach((role, index) => {
    if (!Object.hasOwn(context.roles, role)) {
      context.issues.push({ path: `${path}[${index}]`, reason: `no role "${role}" is defined` });
    }
  });
}

function checkRoutes(routes: readonly string[] | undefined, path: string, context: RuleContext) {
  routes?.forEach((route, index) => {
    if (!context.routes.has(route)) {
      context.issues.push({ path: `${path}[${index}]`, reason: `no route is named "${route}"` });
    }
  });
}

function checkPatterns(rule: RuleSection, path: string, issues: ConfigIssue[]): void {
  rule.when.models?.forEach((pattern, index) => {
    const problem = compileModelPattern(pattern).problem;
    if (problem !== undefined)
      issues.push({ path: `${path}.when.models[${index}]`, reason: problem });
  });
  rule.when.promptMatches?.forEach((source, index) => {
    try {
      compilePromptPattern(rule.name, source);
    } catch (err) {
      if (!(err instanceof ProxyError)) throw err;
      issues.push({ path: `${path}.when.promptMatches[${index}]`, reason: err.message });
    }
  });
}
