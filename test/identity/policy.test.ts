// Unit and property tests for the role policy: deny by default, permissions, model patterns,
// limits, the all-models case, and the most specific reason of every refusal.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import fc from 'fast-check';

import { HEALTH_RPCS, KSERVE_RPCS } from '../../src/codecs/kserve-rpc';
import { listOpenAIOperations } from '../../src/codecs/openai-routes';
import type { RoleConfig, RolesConfig } from '../../src/config/gateway-config';
import { PERMISSIONS, type Permission } from '../../src/config/identity-schema';
import { permissionFor } from '../../src/identity/permissions';
import { compilePolicy, type PolicyDecision, type PolicyRequest } from '../../src/identity/policy';

const RUNS = { seed: 20250612, numRuns: 500 };

/** The operations the Triton HTTP routes classify (src/listeners/http/http-api-routes.ts). */
const TRITON_HTTP_OPERATIONS = [
  'triton.server_metadata',
  'triton.health',
  'triton.model_metadata',
  'triton.model_ready',
  'triton.model_config',
  'triton.statistics',
  'triton.infer',
  'triton.generate',
  'triton.generate_stream',
  'triton.repository_index',
  'triton.repository_load',
  'triton.repository_unload',
  'triton.shared_memory',
  'triton.trace',
  'triton.logging',
];

/** Every operation a listener may hand the policy. */
function allOperations(): string[] {
  return [
    ...KSERVE_RPCS.keys(),
    ...HEALTH_RPCS.keys(),
    ...listOpenAIOperations(),
    ...TRITON_HTTP_OPERATIONS,
  ];
}

function role(
  operations: readonly Permission[],
  models: readonly string[],
  limits: RoleConfig['limits'] = {},
): RoleConfig {
  return { operations, models, limits };
}

function makeRoles(): RolesConfig {
  return {
    analyst: role(['chat', 'completions', 'responses', 'infer', 'embeddings'], ['llama-?b'], {
      maxTokens: 1024,
    }),
    batcher: role(['infer', 'chat'], ['llama-*'], { n: 2, batchSize: 8, requestBytes: 4096 }),
    operator: role(['metadata', 'statistics', 'trace', 'models', 'log'], ['llama-*']),
    admin: role([...PERMISSIONS], ['*']),
    viewer: role(['metadata'], ['gpt-4']),
  };
}

function ask(roles: readonly string[], fields: Partial<PolicyRequest>): PolicyDecision {
  return compilePolicy(makeRoles()).decide({
    roles,
    operation: 'chat.completions',
    model: 'llama-7b',
    limits: { maxTokens: 100 },
    ...fields,
  });
}

function assertRefused(
  decision: PolicyDecision,
  code: string,
  detail: string,
  message: string,
): void {
  assert.deepEqual(decision, { allowed: false, code, detail, message });
}

describe('operations and permissions', () => {
  test('maps every gRPC method and HTTP operation to a known permission', () => {
    for (const operation of allOperations()) {
      const permission = permissionFor(operation);
      assert.ok(permission !== undefined, `${operation} has no permission`);
      assert.ok(PERMISSIONS.includes(permission), `${operation}: ${permission}`);
    }
  });

  test('needs every permission for at least one operation', () => {
    const needed = new Set(allOperations().map(permissionFor));
    for (const permission of PERMISSIONS) assert.ok(needed.has(permission), permission);
  });

  test('allows every operation to a role holding every permission on every model', () => {
    const policy = compilePolicy(makeRoles());
    for (const operation of allOperations()) {
      for (const model of [undefined, '', 'llama-7b']) {
        const decision = policy.decide({ roles: ['admin'], operation, model, limits: {} });
        assert.deepEqual(decision, { allowed: true, role: 'admin' }, `${operation} ${model}`);
      }
    }
  });

  test('refuses an operation no permission covers, even to a role holding them all', () => {
    const decision = ask(['admin'], { operation: 'ModelDelete' });
    const message = 'operation "ModelDelete" is not known to infergate';
    assertRefused(decision, 'ERR_PERMISSION_DENIED', 'unknown_operation', message);
  });

  test('clips an unknown operation name in the message to 128 characters', () => {
    const decision = ask(['admin'], { operation: 'x'.repeat(300) });
    const message = `operation "${'x'.repeat(128)}" is not known to infergate`;
    assertRefused(decision, 'ERR_PERMISSION_DENIED', 'unknown_operation', message);
  });
});

describe('roles', () => {
  test('allows through a role with the permission, the model and its limits', () => {
    assert.deepEqual(ask(['analyst'], {}), { allowed: true, role: 'analyst' });
  });

  test('refuses a caller with no roles', () => {
    const message = 'no role of the caller is known to infergate';
    assertRefused(ask([], {}), 'ERR_PERMISSION_DENIED', 'no_known_role', message);
  });

  test('ignores roles configuration does not define, inherited names among them', () => {
    const message = 'no role of the caller is known to infergate';
    for (const roles of [['ghost'], ['__proto__', 'constructor', 'toString', 'hasOwnProperty']]) {
      assertRefused(ask(roles, {}), 'ERR_PERMISSION_DENIED', 'no_known_role', message);
    }
    assert.deepEqual(ask(['ghost', 'analyst'], {}), { allowed: true, role: 'analyst' });
  });

  test('refuses an operation no role grants, naming the permission and the model', () => {
    const decision = ask(['viewer', 'operator'], {});
    const message = 'no role grants chat on model "llama-7b"';
    assertRefused(decision, 'ERR_PERMISSION_DENIED', 'role_lacks_operation', message);
  });

  test('refuses a model no role with the permission reaches', () => {
    const decision = ask(['viewer', 'analyst'], { model: 'llama-70b' });
    const message = 'no role grants model "llama-70b"';
    assertRefused(decision, 'ERR_PERMISSION_DENIED', 'role_lacks_model', message);
  });

  test('clips the model name in the message to 128 characters', () => {
    const decision = ask(['analyst'], { model: `llama-${'9'.repeat(300)}` });
    const message = `no role grants model "${`llama-${'9'.repeat(300)}`.slice(0, 128)}"`;
    assertRefused(decision, 'ERR_PERMISSION_DENIED', 'role_lacks_model', message);
  });

  test('allows through a second role when the first lacks the operation', () => {
    assert.deepEqual(ask(['viewer', 'analyst'], {}), { allowed: true, role: 'analyst' });
  });

  test('allows through a second role when the first lacks the model', () => {
    const decision = ask(['analyst', 'batcher'], { model: 'llama-70b' });
    assert.deepEqual(decision, { allowed: true, role: 'batcher' });
  });

  test('allows through a second role when the first breaks a limit', () => {
    const decision = ask(['analyst', 'admin'], { limits: { maxTokens: 4096 } });
    assert.deepEqual(decision, { allowed: true, role: 'admin' });
  });

  test('names the first allowing role in the caller order', () => {
    assert.deepEqual(ask(['batcher', 'analyst'], {}), { allowed: true, role: 'batcher' });
  });

  test('prefers a broken limit over a missing model and a missing operation', () => {
    const request = { model: 'llama-70b', limits: { maxTokens: 1, n: 3 } };
    const decision = ask(['viewer', 'analyst', 'batcher'], request);
    const message = 'n 3 is above 2, the limit of role "batcher"';
    assertRefused(decision, 'ERR_LIMIT_EXCEEDED', 'n_exceeded', message);
  });

  test('prefers a missing model over a missing operation', () => {
    const decision = ask(['viewer', 'analyst'], { operation: 'completions', model: 'gpt-4' });
    const message = 'no role grants model "gpt-4"';
    assertRefused(decision, 'ERR_PERMISSION_DENIED', 'role_lacks_model', message);
  });
});

describe('model patterns', () => {
  const cases: readonly (readonly [string, string, boolean])[] = [
    ['analyst', 'llama-7b', true],
    ['analyst', 'llama-xb', true],
    ['analyst', 'llama-70b', false],
    ['analyst', 'llama-b', false],
    ['analyst', 'LLAMA-7b', false],
    ['batcher', 'llama-70b', true],
    ['batcher', 'llama-', true],
    ['batcher', 'xllama-7b', false],
    ['admin', 'any/model:v2', true],
    ['viewer', 'gpt-4', true],
    ['viewer', 'gpt-4o', false],
  ];
  for (const [name, model, allowed] of cases) {
    test(`${allowed ? 'allows' : 'refuses'} role ${name} on model ${model}`, () => {
      const operation = name === 'viewer' ? 'ModelMetadata' : 'ModelInfer';
      const decision = ask([name], { operation, model, limits: {} });
      assert.equal(decision.allowed, allowed);
    });
  }

  test('treats pattern characters in a model name as the name, not as a pattern', () => {
    assert.equal(ask(['viewer'], { operation: 'ModelMetadata', model: 'gpt-?' }).allowed, false);
    assert.equal(ask(['viewer'], { operation: 'ModelMetadata', model: 'gpt*' }).allowed, false);
  });
});

describe('operations without a model', () => {
  for (const operation of ['ServerLive', 'ServerMetadata', 'Check', 'models', 'LogSettings']) {
    test(`allows ${operation} with the permission alone`, () => {
      const decision = ask(['operator'], { operation, model: undefined });
      assert.deepEqual(decision, { allowed: true, role: 'operator' });
    });
  }

  test('refuses a model-less operation no role grants, naming only the permission', () => {
    const decision = ask(['analyst'], { operation: 'ServerLive', model: undefined });
    assertRefused(
      decision,
      'ERR_PERMISSION_DENIED',
      'role_lacks_operation',
      'no role grants metadata',
    );
  });

  test('matches a generation request naming no model as every model', () => {
    const decision = ask(['analyst'], { model: undefined });
    const message =
      'no role grants all models, which chat.completions without a model name reaches';
    assertRefused(decision, 'ERR_PERMISSION_DENIED', 'role_lacks_model', message);
    assert.deepEqual(ask(['admin'], { model: undefined }), { allowed: true, role: 'admin' });
  });
});

describe('the empty model name on statistics and trace', () => {
  for (const operation of ['ModelStatistics', 'TraceSetting']) {
    test(`matches ${operation} on '' only through a role with *`, () => {
      const decision = ask(['operator'], { operation, model: '' });
      const message = `no role grants all models, which ${operation} without a model name reaches`;
      assertRefused(decision, 'ERR_PERMISSION_DENIED', 'role_lacks_model', message);
      assert.deepEqual(ask(['operator', 'admin'], { operation, model: '' }), {
        allowed: true,
        role: 'admin',
      });
    });

    test(`allows ${operation} on a model the role reaches`, () => {
      const decision = ask(['operator'], { operation, model: 'llama-70b' });
      assert.deepEqual(decision, { allowed: true, role: 'operator' });
    });
  }

  test('matches Triton statistics and trace without a model as every model', () => {
    for (const operation of ['triton.statistics', 'triton.trace']) {
      assert.equal(ask(['operator'], { operation, model: undefined }).allowed, false);
      assert.equal(ask(['admin'], { operation, model: undefined }).allowed, true);
    }
  });

  test('names all models when no role grants the permission', () => {
    const decision = ask(['viewer'], { operation: 'ModelStatistics', model: '' });
    const message = 'no role grants statistics on all models';
    assertRefused(decision, 'ERR_PERMISSION_DENIED', 'role_lacks_operation', message);
  });

  test('treats an empty name on other operations as a model named ""', () => {
    const decision = ask(['batcher'], { operation: 'ModelInfer', model: '', limits: {} });
    assertRefused(decision, 'ERR_PERMISSION_DENIED', 'role_lacks_model', 'no role grants model ""');
    const admin = ask(['admin'], { operation: 'ModelInfer', model: '', limits: {} });
    assert.deepEqual(admin, { allowed: true, role: 'admin' });
  });
});

describe('limits', () => {
  const fields = [
    ['maxTokens', 'max_tokens', 'analyst', 1024],
    ['n', 'n', 'batcher', 2],
    ['batchSize', 'batch_size', 'batcher', 8],
    ['requestBytes', 'request_bytes', 'batcher', 4096],
  ] as const;
  for (const [field, label, name, limit] of fields) {
    test(`allows ${label} equal to the limit of the role`, () => {
      const decision = ask([name], { limits: { maxTokens: 1, [field]: limit } });
      assert.deepEqual(decision, { allowed: true, role: name });
    });

    test(`refuses ${label} one above the limit of the role`, () => {
      const decision = ask([name], { limits: { maxTokens: 1, [field]: limit + 1 } });
      const message = `${label} ${limit + 1} is above ${limit}, the limit of role "${name}"`;
      assertRefused(decision, 'ERR_LIMIT_EXCEEDED', `${label}_exceeded`, message);
    });

    test(`refuses ${label} that is not a number`, () => {
      const decision = ask([name], { limits: { maxTokens: 1, [field]: Number.NaN } });
      assert.equal(decision.allowed === false && decision.detail, `${label}_exceeded`);
    });
  }

  test('gives the example message of a broken max_tokens limit', () => {
    const decision = ask(['analyst'], { limits: { maxTokens: 4096 } });
    const message = 'max_tokens 4096 is above 1024, the limit of role "analyst"';
    assertRefused(decision, 'ERR_LIMIT_EXCEEDED', 'max_tokens_exceeded', message);
  });

  test('refuses an unstated token cap on generation under a max_tokens limit', () => {
    for (const operation of ['chat.completions', 'completions', 'responses']) {
      const decision = ask(['analyst', 'viewer'], { operation, limits: {} });
      const message = 'max_tokens must be stated, as role "analyst" limits it to 1024';
      assertRefused(decision, 'ERR_LIMIT_EXCEEDED', 'max_tokens_exceeded', message);
    }
  });

  test('allows an unstated token cap where requests cannot state one', () => {
    for (const operation of ['embeddings', 'ModelInfer', 'triton.infer']) {
      const decision = ask(['analyst'], { operation, limits: {} });
      assert.deepEqual(decision, { allowed: true, role: 'analyst' }, operation);
    }
  });

  test('counts unstated n, batch size and request bytes as within the limits', () => {
    const decision = ask(['batcher'], { operation: 'ModelInfer', limits: {} });
    assert.deepEqual(decision, { allowed: true, role: 'batcher' });
  });

  test('reports the first broken limit of the first role that reached the model', () => {
    const limits = { maxTokens: 2000, n: 5, batchSize: 9 };
    const decision = ask(['batcher', 'analyst'], { limits });
    const message = 'n 5 is above 2, the limit of role "batcher"';
    assertRefused(decision, 'ERR_LIMIT_EXCEEDED', 'n_exceeded', message);
  });
});

describe('properties', () => {
  const roleNames = ['a', 'b', 'c', 'd'];
  const callerRoleArb = fc.constantFrom(...roleNames, 'ghost', '__proto__');
  const limitArb = fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined });
  const roleArb = fc.record({
    models: fc.array(fc.constantFrom('*', 'm?', 'm*', 'm1', 'x*y', 'llama-?b'), {
      minLength: 1,
      maxLength: 3,
    }),
    operations: fc.subarray([...PERMISSIONS], { minLength: 1 }),
    limits: fc.record({
      maxTokens: limitArb,
      n: limitArb,
      batchSize: limitArb,
      requestBytes: limitArb,
    }),
  });
  const rolesArb = fc.dictionary(fc.constantFrom(...roleNames), roleArb);
  const requestArb = fc.record({
    operation: fc.constantFrom(...allOperations(), 'unknown', ''),
    model: fc.constantFrom(undefined, '', 'm1', 'm22', 'xy', 'llama-7b', 'other'),
    limits: fc.record(
      { maxTokens: limitArb, n: limitArb, batchSize: limitArb, requestBytes: limitArb },
      { requiredKeys: [] },
    ),
  });

  test('never allows a caller with no roles', () => {
    const property = fc.property(rolesArb, requestArb, (roles, request) => {
      const decision = compilePolicy(roles).decide({ ...request, roles: [] });
      assert.equal(decision.allowed, false);
    });
    fc.assert(property, RUNS);
  });

  test('never turns an allow into a refusal when a role is added', () => {
    const callerArb = fc.array(callerRoleArb, { maxLength: 3 });
    const property = fc.property(
      rolesArb,
      requestArb,
      callerArb,
      callerRoleArb,
      fc.nat(),
      (roles, request, caller, added, at) => {
        const policy = compilePolicy(roles);
        const before = policy.decide({ ...request, roles: caller });
        const position = at % (caller.length + 1);
        const more = [...caller.slice(0, position), added, ...caller.slice(position)];
        const after = policy.decide({ ...request, roles: more });
        if (before.allowed) assert.equal(after.allowed, true);
      },
    );
    fc.assert(property, RUNS);
  });
});
