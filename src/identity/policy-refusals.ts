// Why the policy refused a request: the most specific reason, as a code, a message and a detail.

import type { Permission } from '../config/identity-schema';
import type { PolicyRefusal, PolicyRefusalDetail, PolicyRequest } from './policy';
import type { ModelScope, PolicyRole, RoleLimit } from './policy-role';

/** Model and operation names come from the caller; a message carries at most this much of one. */
const MAX_NAME_CHARS = 128;

const NO_KNOWN_ROLE_MESSAGE = 'no role of the caller is known to infergate';

/** The refusal of an operation that no permission covers (deny by default). */
export function refuseUnknownOperation(operation: string): PolicyRefusal {
  const message = `operation "${clip(operation)}" is not known to infergate`;
  return refusal('ERR_PERMISSION_DENIED', 'unknown_operation', message);
}

/**
 * Names the most specific reason nothing allowed, among the caller's roles that configuration
 * defines: a broken limit of a role that had the permission and the model (the first such role
 * in the caller's order), else a model no role with the permission reaches, else the permission.
 * Only called once no role allowed, so it may allocate.
 */
export function explainRefusal(
  roles: ReadonlyMap<string, PolicyRole>,
  request: PolicyRequest,
  permission: Permission,
  scope: ModelScope,
): PolicyRefusal {
  const known = knownRoles(roles, request.roles);
  if (known.length === 0) {
    return refusal('ERR_PERMISSION_DENIED', 'no_known_role', NO_KNOWN_ROLE_MESSAGE);
  }

  const granting = known.filter((role) => role.permissions.has(permission));
  for (const role of granting) {
    if (!role.reaches(scope, request.model)) continue;
    const limit = role.brokenLimit(request.limits, permission);
    if (limit !== undefined) return refuseLimit(role, limit, request.limits[limit.field]);
  }
  if (granting.length > 0) return refuseModel(request, scope);
  return refuseOperation(permission, request.model, scope);
}

function knownRoles(
  roles: ReadonlyMap<string, PolicyRole>,
  names: readonly string[],
): PolicyRole[] {
  const known: PolicyRole[] = [];
  for (const name of names) {
    const role = roles.get(name);
    if (role !== undefined) known.push(role);
  }
  return known;
}

function refuseLimit(role: PolicyRole, limit: RoleLimit, value: number | undefined): PolicyRefusal {
  const message =
    value === undefined
      ? `${limit.label} must be stated, as role "${role.name}" limits it to ${limit.limit}`
      : `${limit.label} ${value} is above ${limit.limit}, the limit of role "${role.name}"`;
  return refusal('ERR_LIMIT_EXCEEDED', limit.detail, message);
}

function refuseModel(request: PolicyRequest, scope: ModelScope): PolicyRefusal {
  const message =
    scope === 'all'
      ? `no role grants all models, which ${request.operation} without a model name reaches`
      : `no role grants model "${clip(request.model ?? '')}"`;
  return refusal('ERR_PERMISSION_DENIED', 'role_lacks_model', message);
}

function refuseOperation(
  permission: Permission,
  model: string | undefined,
  scope: ModelScope,
): PolicyRefusal {
  const target =
    scope === 'none' ? '' : scope === 'all' ? ' on all models' : ` on model "${clip(model ?? '')}"`;
  return refusal(
    'ERR_PERMISSION_DENIED',
    'role_lacks_operation',
    `no role grants ${permission}${target}`,
  );
}

function refusal(
  code: PolicyRefusal['code'],
  detail: PolicyRefusalDetail,
  message: string,
): PolicyRefusal {
  return { allowed: false, code, message, detail };
}

function clip(name: string): string {
  return name.length > MAX_NAME_CHARS ? name.slice(0, MAX_NAME_CHARS) : name;
}
