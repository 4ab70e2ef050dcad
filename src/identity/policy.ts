// The role policy: which caller may run which operation on which model, within which limits
// (PCI DSS v4.0 Req. 7.2: access by least privilege, denied unless a role grants it).

import type { Permission } from '../config/identity-schema';
import type { RolesConfig } from '../config/gateway-config';
import { permissionFor } from './permissions';
import { PolicyRole, type ModelScope } from './policy-role';
import { explainRefusal, refuseUnknownOperation } from './policy-refusals';

/**
 * What the codecs read from a request that a role may limit; a field is absent when the request
 * does not state it.
 */
export interface RequestLimitFacts {
  /** The largest token cap the request states (`max_tokens` and its aliases). */
  readonly maxTokens?: number;
  /** Choices per request (OpenAI `n`). */
  readonly n?: number;
  /** First dimension of the first input tensor (KServe, Triton). */
  readonly batchSize?: number;
  /** Bytes of the request body or message. */
  readonly requestBytes?: number;
}

/** One question to the policy: everything it decides on, already read from the exchange. */
export interface PolicyRequest {
  /**
   * The caller's roles (token and certificate); names configuration does not define are
   * ignored.
   */
  readonly roles: readonly string[];
  /** The gRPC method or the HTTP operation the codec recognised, as `permissionFor` names them. */
  readonly operation: string;
  /**
   * The model the request names; undefined when it names none. Then server-wide operations
   * (ServerLive, the model list) need only the permission, and any other reaches every model.
   */
  readonly model: string | undefined;
  readonly limits: RequestLimitFacts;
}

/** Why a request was refused, snake_case, for the access log and the audit record. */
export type PolicyRefusalDetail =
  | 'unknown_operation'
  | 'no_known_role'
  | 'role_lacks_operation'
  | 'role_lacks_model'
  | 'max_tokens_exceeded'
  | 'n_exceeded'
  | 'batch_size_exceeded'
  | 'request_bytes_exceeded';

/** A refusal: the error code to answer with, a message for the caller, a detail for records. */
export interface PolicyRefusal {
  readonly allowed: false;
  readonly code: 'ERR_PERMISSION_DENIED' | 'ERR_LIMIT_EXCEEDED';
  /** One sentence naming the most specific reason; never a secret, a prompt or a token. */
  readonly message: string;
  readonly detail: PolicyRefusalDetail;
}

/** An allow names the first of the caller's roles (in the caller's order) that allowed. */
export interface PolicyAllow {
  readonly allowed: true;
  readonly role: string;
}

/** The policy's answer to one request. */
export type PolicyDecision = PolicyAllow | PolicyRefusal;

/** The compiled role policy. */
export interface Policy {
  /** Decides one request; never throws. An allow is a per-role object built at start-up. */
  decide(request: PolicyRequest): PolicyDecision;
}

/**
 * Permissions whose operations without a model concern the server, not a model: health and
 * metadata, the repository index, shared memory, logging, the model list.
 */
const SERVER_WIDE_PERMISSIONS: ReadonlySet<Permission> = new Set<Permission>([
  'metadata',
  'repository',
  'shared_memory',
  'log',
  'models',
]);

/**
 * Permissions whose empty model name means every model: KServe ModelStatistics with an empty
 * name reports all models and TraceSetting with an empty model_name changes the global settings
 * (protos/kserve/grpc_service.proto), so '' there is not a model named ''.
 */
const EMPTY_MEANS_ALL_PERMISSIONS: ReadonlySet<Permission> = new Set<Permission>([
  'statistics',
  'trace',
]);

/**
 * Compiles the `roles` section once, at start-up: permissions become sets and model patterns
 * are compiled, so `decide` never reads configuration. Role names are looked up in a Map, never
 * on the config object, because they come from tokens: a role named `__proto__` or `toString`
 * must be unknown, not an inherited property.
 */
export function compilePolicy(roles: RolesConfig): Policy {
  const compiled = new Map<string, PolicyRole>();
  for (const [name, role] of Object.entries(roles)) compiled.set(name, new PolicyRole(name, role));
  return { decide: (request) => decide(compiled, request) };
}

/**
 * Deny by default: an operation `permissionFor` does not know is refused, and otherwise the
 * request is allowed only through a role that grants the permission, reaches the model and
 * holds every limit it sets. The refusal is worked out on a second, cold pass.
 */
function decide(roles: ReadonlyMap<string, PolicyRole>, request: PolicyRequest): PolicyDecision {
  const permission = permissionFor(request.operation);
  if (permission === undefined) return refuseUnknownOperation(request.operation);

  const scope = modelScope(permission, request.model);
  for (const name of request.roles) {
    const role = roles.get(name);
    if (role !== undefined && roleAllows(role, permission, scope, request)) return role.allow;
  }
  return explainRefusal(roles, request, permission, scope);
}

function roleAllows(
  role: PolicyRole,
  permission: Permission,
  scope: ModelScope,
  request: PolicyRequest,
): boolean {
  return (
    role.permissions.has(permission) &&
    role.reaches(scope, request.model) &&
    role.brokenLimit(request.limits, permission) === undefined
  );
}

/**
 * Threat: a request that does not say which model it reaches may reach any (vLLM serves its one
 * model to an OpenAI body without `model`; Triton's `/v2/models/stats` reports every model), so
 * outside the server-wide permissions a missing name is matched as every model, as an empty one
 * is for statistics and trace.
 */
function modelScope(permission: Permission, model: string | undefined): ModelScope {
  if (model === undefined) return SERVER_WIDE_PERMISSIONS.has(permission) ? 'none' : 'all';
  if (model === '' && EMPTY_MEANS_ALL_PERMISSIONS.has(permission)) return 'all';
  return 'named';
}
