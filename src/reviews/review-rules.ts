// Review rules compiled once from configuration, and the match that says which holds a request.

import type { Permission } from '../config/identity-schema';
import type { ReviewConditionsConfig, ReviewRuleConfig } from '../config/gateway-config';
import { MODEL_LOADING_OPERATIONS, permissionFor } from '../identity/permissions';
import { compileMaskPattern } from '../masking/pattern-masker';
import { compileModelPattern } from '../pipeline/model-pattern';
import { ReviewRate } from './review-rate';

/** What the codecs read from a request that a rule may weigh; absent when the request is silent. */
export interface ReviewFacts {
  readonly maxTokens?: number;
  readonly n?: number;
  /** Embeddings inputs. */
  readonly inputs?: number;
  /** The first dimension of the first input tensor (KServe, Triton). */
  readonly batch?: number;
}

/** One request, as a rule sees it. */
export interface ReviewRuleInput {
  readonly subject: string;
  readonly roles: readonly string[];
  readonly route: string | undefined;
  readonly model: string | undefined;
  /** The operation as exchanges name it (`chat.completions`, `ModelInfer`). */
  readonly operation: string;
  readonly facts: ReviewFacts;
  /** The prompt texts; masked texts are fine, rules never look for card data. */
  readonly prompts: readonly string[];
}

/** A compiled rule; immutable apart from the counts of its rate condition. */
export interface ReviewRule {
  readonly name: string;
  readonly reviewers: readonly string[];
  readonly approvals: number;
  /** Every condition except the rate, cheapest first. */
  readonly conditions: readonly ((input: ReviewRuleInput) => boolean)[];
  readonly rate: ReviewRate | undefined;
}

/** The rules in configuration order. */
export interface ReviewRules {
  readonly rules: readonly ReviewRule[];
  /** Whether some rule reads prompt texts; when none does, a caller need not decode them. */
  readonly readsPrompts: boolean;
}

/** What matching one request found. */
export interface ReviewMatch {
  /** The first rule that holds, or undefined: the request goes on. */
  readonly rule: ReviewRule | undefined;
  /**
   * The rate conditions with a token bound that counted this request, which the usage its
   * response reports is added to (`ReviewRate.recordUsage`); empty for most requests.
   */
  readonly tokenRates: readonly ReviewRate[];
}

/**
 * Permissions whose unstated token cap is the upstream's default, as in the policy
 * (`src/identity/policy-role.ts`). Threat: a caller would escape `maxTokensAbove` by leaving
 * `max_tokens` out, so for these an unstated cap is above every bound.
 */
const UNSTATED_CAP_IS_UNBOUNDED: ReadonlySet<Permission> = new Set<Permission>([
  'chat',
  'completions',
  'responses',
]);

const IGNORE_CASE_PREFIX = '(?i)';

/**
 * Compiles a `promptMatches` pattern: JavaScript syntax, with a leading `(?i)` for ignoring
 * case (JavaScript has no inline flag). Throws ProxyError ERR_CONFIG_INVALID when it does not
 * compile or has no bound on its length, as masking patterns are refused: an unbounded pattern
 * over a 16 MiB prompt is how a rule becomes a denial of service.
 */
export function compilePromptPattern(label: string, source: string): RegExp {
  const ignoreCase = source.startsWith(IGNORE_CASE_PREFIX);
  const body = ignoreCase ? source.slice(IGNORE_CASE_PREFIX.length) : source;
  const { regex } = compileMaskPattern(label, body, ignoreCase);
  return new RegExp(regex.source, ignoreCase ? 'i' : '');
}

/** Compiles validated rules once, at start-up; throws only for rules configuration refuses. */
export function compileReviewRules(
  rules: readonly ReviewRuleConfig[],
  maxRateSubjects?: number,
): ReviewRules {
  const compiled = rules.map((rule) => compileRule(rule, maxRateSubjects));
  return {
    rules: compiled,
    readsPrompts: rules.some((rule) => rule.when.promptMatches !== undefined),
  };
}

/**
 * The first rule, in configuration order, whose every condition holds for `input`. Every rule
 * is evaluated, not only those before the match, so each rate condition counts every request
 * that meets its rule's other conditions whatever the rules before it say.
 */
export function matchReviewRule(
  rules: ReviewRules,
  input: ReviewRuleInput,
  nowMs: number,
): ReviewMatch {
  let matched: ReviewRule | undefined;
  const tokenRates: ReviewRate[] = [];
  for (const rule of rules.rules) {
    if (!rule.conditions.every((condition) => condition(input))) continue;
    const rate = rule.rate;
    const holds =
      rate === undefined || rate.count(input.subject, input.facts.maxTokens ?? 0, nowMs);
    if (rate?.boundsTokens === true) tokenRates.push(rate);
    if (holds && matched === undefined) matched = rule;
  }
  return { rule: matched, tokenRates };
}

function compileRule(rule: ReviewRuleConfig, maxRateSubjects: number | undefined): ReviewRule {
  const { when } = rule;
  return {
    name: rule.name,
    reviewers: rule.reviewers,
    approvals: rule.approvals,
    conditions: [...scopeConditions(when), ...factConditions(when), ...promptConditions(rule)],
    rate: when.rate === undefined ? undefined : new ReviewRate(when.rate, maxRateSubjects),
  };
}

type Condition = (input: ReviewRuleInput) => boolean;

function scopeConditions(when: ReviewConditionsConfig): Condition[] {
  const conditions: Condition[] = [];
  if (when.roles !== undefined) {
    const roles = new Set(when.roles);
    conditions.push((input) => input.roles.some((role) => roles.has(role)));
  }
  if (when.routes !== undefined) {
    const routes = new Set(when.routes);
    conditions.push((input) => input.route !== undefined && routes.has(input.route));
  }
  if (when.operations !== undefined) {
    const operations = new Set<string>(when.operations);
    conditions.push((input) => operations.has(permissionFor(input.operation) ?? ''));
  }
  if (when.loadsModels === true) {
    conditions.push((input) => MODEL_LOADING_OPERATIONS.has(input.operation));
  }
  if (when.models !== undefined) {
    const patterns = when.models.map(compileModelPattern);
    // Threat: a request naming no model may reach any (see `modelScope` in the policy), so it
    // meets every model condition; `operations` keeps health and metadata calls out.
    conditions.push(
      ({ model }) => model === undefined || patterns.some((pattern) => pattern.matches(model)),
    );
  }
  return conditions;
}

function factConditions(when: ReviewConditionsConfig): Condition[] {
  const conditions: Condition[] = [];
  const { maxTokensAbove, nAbove, inputsAbove, batchAbove } = when;
  if (maxTokensAbove !== undefined) {
    conditions.push(({ facts, operation }) =>
      facts.maxTokens === undefined
        ? UNSTATED_CAP_IS_UNBOUNDED.has(permissionFor(operation) ?? 'infer')
        : facts.maxTokens > maxTokensAbove,
    );
  }
  // An unstated n is the server's 1; an unstated input count or batch means there is none.
  if (nAbove !== undefined) conditions.push(({ facts }) => (facts.n ?? 1) > nAbove);
  if (inputsAbove !== undefined) conditions.push(({ facts }) => (facts.inputs ?? 0) > inputsAbove);
  if (batchAbove !== undefined) conditions.push(({ facts }) => (facts.batch ?? 0) > batchAbove);
  return conditions;
}

function promptConditions(rule: ReviewRuleConfig): Condition[] {
  const sources = rule.when.promptMatches;
  if (sources === undefined) return [];
  const patterns = sources.map((source) => compilePromptPattern(rule.name, source));
  return [({ prompts }) => patterns.some((pattern) => prompts.some((text) => pattern.test(text)))];
}
