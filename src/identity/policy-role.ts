// One role of the policy, compiled for the hot path: permissions as a set, model patterns
// compiled once, and only the limits the role sets.

import type { Permission } from '../config/identity-schema';
import type { RoleConfig, RoleLimits } from '../config/gateway-config';
import { compileModelPattern, type ModelPattern } from '../pipeline/model-pattern';
import type { PolicyAllow, PolicyRefusalDetail, RequestLimitFacts } from './policy';

/**
 * How a request's model is matched: `none` needs the permission only, `named` a role whose
 * patterns match the name, `all` a role that reaches every model.
 */
export type ModelScope = 'none' | 'named' | 'all';

/** One limit a role sets on one request field. */
export interface RoleLimit {
  readonly field: keyof RoleLimits & keyof RequestLimitFacts;
  /** The field as requests and messages name it (`max_tokens`). */
  readonly label: string;
  readonly detail: PolicyRefusalDetail;
  readonly limit: number;
}

const LIMIT_FIELDS = [
  ['maxTokens', 'max_tokens', 'max_tokens_exceeded'],
  ['n', 'n', 'n_exceeded'],
  ['batchSize', 'batch_size', 'batch_size_exceeded'],
  ['requestBytes', 'request_bytes', 'request_bytes_exceeded'],
] as const;

/**
 * Permissions whose requests may state a token cap and, when they leave it out, get the
 * upstream's default: vLLM then generates up to the model's context length. Threat: a role
 * limited to 1024 tokens would lift its own limit by omitting `max_tokens`, so for these an
 * unstated cap breaks a `maxTokens` limit. The other limits hold when unstated: an absent `n` is
 * the server's default of 1 and every limit is at least 1; an absent batch size means the request
 * has no batch to count (no shaped first input, no input list); request bytes are counted by the gateway,
 * not claimed by the caller, so a caller cannot leave them out.
 */
const UNSTATED_CAP_IS_UNBOUNDED: ReadonlySet<Permission> = new Set<Permission>([
  'chat',
  'completions',
  'responses',
]);

// Limitation: KServe and Triton carry a token cap only by backend convention (a `max_tokens`
// parameter or input, when the model has one), so on infer and stream_infer an unstated cap
// counts as within a `maxTokens` limit: such a limit binds only the requests that state a cap.

/** A role compiled from its configuration; immutable, shared by every decision. */
export class PolicyRole {
  readonly permissions: ReadonlySet<Permission>;
  /** True when a pattern matches every name (`*`): only such a role reaches all models. */
  readonly allModels: boolean;
  readonly limits: readonly RoleLimit[];
  /** This role's allow, built once so that an allowing decision allocates nothing. */
  readonly allow: PolicyAllow;
  private readonly exactModels: ReadonlySet<string>;
  private readonly wildcardModels: readonly ModelPattern[];

  constructor(
    readonly name: string,
    config: RoleConfig,
  ) {
    // A pattern with a problem matches nothing; configuration validation already reported it.
    const patterns = config.models.map(compileModelPattern).filter((p) => p.problem === undefined);
    this.permissions = new Set(config.operations);
    this.exactModels = new Set(patterns.filter((p) => !isWildcard(p)).map((p) => p.source));
    this.wildcardModels = patterns.filter(isWildcard);
    this.allModels = patterns.some((pattern) => /^\*+$/.test(pattern.source));
    this.limits = compileLimits(config.limits);
    this.allow = Object.freeze<PolicyAllow>({ allowed: true, role: name });
  }

  /** True when this role reaches the request's model in `scope`. */
  reaches(scope: ModelScope, model: string | undefined): boolean {
    if (scope === 'none') return true;
    if (scope === 'all' || model === undefined) return this.allModels;
    if (this.exactModels.has(model)) return true;
    for (const pattern of this.wildcardModels) if (pattern.matches(model)) return true;
    return false;
  }

  /**
   * The first limit of this role the request breaks, in the order max_tokens, n, batch_size,
   * request_bytes; undefined when every limit holds. A stated value that is not a number (NaN)
   * compares false and so breaks the limit instead of slipping past it.
   */
  brokenLimit(facts: RequestLimitFacts, permission: Permission): RoleLimit | undefined {
    for (const limit of this.limits) {
      const value = facts[limit.field];
      const broken =
        value === undefined ? unstatedBreaks(limit, permission) : !(value <= limit.limit);
      if (broken) return limit;
    }
    return undefined;
  }
}

function isWildcard(pattern: ModelPattern): boolean {
  return /[*?]/.test(pattern.source);
}

function compileLimits(limits: RoleLimits): RoleLimit[] {
  const compiled: RoleLimit[] = [];
  for (const [field, label, detail] of LIMIT_FIELDS) {
    const limit = limits[field];
    if (limit !== undefined) compiled.push({ field, label, detail, limit });
  }
  return compiled;
}

function unstatedBreaks(limit: RoleLimit, permission: Permission): boolean {
  return limit.field === 'maxTokens' && UNSTATED_CAP_IS_UNBOUNDED.has(permission);
}
