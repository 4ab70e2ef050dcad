// Which rule holds a request: each condition alone, all together, first match, and the rate.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReviewConditionsConfig } from '../../src/config/gateway-config';
import {
  compilePromptPattern,
  compileReviewRules,
  matchReviewRule,
  type ReviewRuleInput,
} from '../../src/reviews/review-rules';

function rulesWith(...conditions: ReviewConditionsConfig[]) {
  return compileReviewRules(
    conditions.map((when, index) => ({
      name: `rule-${index}`,
      when,
      reviewers: ['security'],
      approvals: 1,
    })),
  );
}

function input(overrides: Partial<ReviewRuleInput> = {}): ReviewRuleInput {
  return {
    subject: 'alice',
    roles: ['analyst'],
    route: 'llama',
    model: 'llama-3',
    operation: 'chat.completions',
    facts: { maxTokens: 100 },
    prompts: ['hello'],
    ...overrides,
  };
}

/** Whether the single rule of `conditions` holds for each input. */
function holds(conditions: ReviewConditionsConfig, ...inputs: ReviewRuleInput[]): boolean[] {
  const rules = rulesWith(conditions);
  return inputs.map((each) => matchReviewRule(rules, each, 0).rule !== undefined);
}

test('roles: the caller holds one of them', () => {
  const result = holds(
    { roles: ['analyst', 'intern'] },
    input(),
    input({ roles: ['reader', 'intern'] }),
    input({ roles: ['reader'] }),
  );

  assert.deepEqual(result, [true, true, false]);
});

test('routes: the request took one of them', () => {
  const result = holds(
    { routes: ['llama'] },
    input(),
    input({ route: 'gpt' }),
    input({ route: undefined }),
  );

  assert.deepEqual(result, [true, false, false]);
});

test('models: a pattern matches, and a request naming no model may reach any', () => {
  const result = holds(
    { models: ['llama-*'] },
    input(),
    input({ model: 'mistral' }),
    input({ model: undefined }),
  );

  assert.deepEqual(result, [true, false, true]);
});

test('operations: the permission the operation needs is listed', () => {
  const result = holds(
    { operations: ['chat', 'infer'] },
    input(),
    input({ operation: 'ModelInfer' }),
    input({ operation: 'embeddings' }),
    input({ operation: 'no.such.operation' }),
  );

  assert.deepEqual(result, [true, true, false, false]);
});

test('loadsModels: a load or unload on either protocol, never a listing', () => {
  const result = holds(
    { loadsModels: true },
    input({ operation: 'RepositoryModelLoad' }),
    input({ operation: 'RepositoryModelUnload' }),
    input({ operation: 'triton.repository_load' }),
    input({ operation: 'triton.repository_unload' }),
    input({ operation: 'RepositoryIndex' }),
    input({ operation: 'triton.repository_index' }),
    input(),
  );

  assert.deepEqual(result, [true, true, true, true, false, false, false]);
});

test('maxTokensAbove: above the bound, or unstated where the server default is unbounded', () => {
  const result = holds(
    { maxTokensAbove: 4096 },
    input({ facts: { maxTokens: 4097 } }),
    input({ facts: { maxTokens: 4096 } }),
    input({ facts: {} }),
    input({ facts: {}, operation: 'ModelInfer' }),
  );

  assert.deepEqual(result, [true, false, true, false]);
});

test('nAbove, inputsAbove and batchAbove: strictly above, unstated never', () => {
  assert.deepEqual(
    holds(
      { nAbove: 4 },
      input({ facts: { n: 5 } }),
      input({ facts: { n: 4 } }),
      input({ facts: {} }),
    ),
    [true, false, false],
  );
  assert.deepEqual(
    holds(
      { inputsAbove: 100 },
      input({ facts: { inputs: 101 } }),
      input({ facts: { inputs: 100 } }),
      input({ facts: {} }),
    ),
    [true, false, false],
  );
  assert.deepEqual(
    holds(
      { batchAbove: 64 },
      input({ facts: { batch: 65 } }),
      input({ facts: { batch: 64 } }),
      input({ facts: {} }),
    ),
    [true, false, false],
  );
});

test('promptMatches: any pattern in any prompt text, (?i) ignoring case', () => {
  const result = holds(
    { promptMatches: ['(?i)dump all', 'every customer'] },
    input({ prompts: ['please DUMP ALL rows'] }),
    input({ prompts: ['hi', 'list every customer'] }),
    input({ prompts: ['list EVERY CUSTOMER'] }),
    input({ prompts: [] }),
  );

  assert.deepEqual(result, [true, true, false, false]);
});

test('every given condition must hold', () => {
  const result = holds(
    { roles: ['analyst'], models: ['llama-*'], maxTokensAbove: 1000 },
    input({ facts: { maxTokens: 2000 } }),
    input({ facts: { maxTokens: 2000 }, roles: ['reader'] }),
    input({ facts: { maxTokens: 2000 }, model: 'mistral' }),
    input({ facts: { maxTokens: 10 } }),
  );

  assert.deepEqual(result, [true, false, false, false]);
});

test('the first rule that holds is returned, in configuration order', () => {
  const rules = rulesWith({ roles: ['intern'] }, { routes: ['llama'] }, { models: ['llama-*'] });

  assert.equal(matchReviewRule(rules, input(), 0).rule?.name, 'rule-1');
  assert.equal(matchReviewRule(rules, input({ route: 'x', model: 'x' }), 0).rule, undefined);
});

test('rate: requests past the bound per identity in the window are held', () => {
  const rules = rulesWith({ roles: ['analyst'], rate: { requests: 2, windowMs: 60_000 } });

  const alice = [0, 1, 2].map((at) => matchReviewRule(rules, input(), at).rule !== undefined);
  const bob = matchReviewRule(rules, input({ subject: 'bob' }), 3).rule;
  const reader = matchReviewRule(rules, input({ roles: ['reader'] }), 4).rule;
  const later = matchReviewRule(rules, input(), 60_000).rule;

  assert.deepEqual(alice, [false, false, true]);
  assert.equal(bob, undefined);
  assert.equal(reader, undefined);
  assert.equal(later, undefined);
});

test('rate: tokens count stated caps; rules after a match count too, and hand back their rate', () => {
  const rules = rulesWith(
    { promptMatches: ['dump'] },
    { rate: { tokens: 1_000, windowMs: 60_000 } },
    { rate: { requests: 10, windowMs: 60_000 } },
  );

  const dumped = matchReviewRule(rules, input({ prompts: ['dump'], facts: { maxTokens: 500 } }), 0);
  for (const rate of dumped.tokenRates) rate.settle('alice', 500, 900, 0, 1);
  const within = matchReviewRule(rules, input({ facts: { maxTokens: 100 } }), 2);
  const over = matchReviewRule(rules, input({ facts: { maxTokens: 1 } }), 3);

  assert.equal(dumped.rule?.name, 'rule-0');
  assert.deepEqual(dumped.tokenRates, [rules.rules[1]?.rate]);
  assert.equal(within.rule, undefined);
  assert.equal(over.rule?.name, 'rule-1');
});

test('rate: a request its rule does not cover is not counted and hands back no rate', () => {
  const rules = rulesWith({ models: ['gpt-*'], rate: { tokens: 100, windowMs: 60_000 } });

  const other = matchReviewRule(rules, input({ facts: { maxTokens: 1_000 } }), 0);
  const covered = matchReviewRule(rules, input({ model: 'gpt-4', facts: { maxTokens: 50 } }), 1);

  assert.deepEqual([other.rule, other.tokenRates], [undefined, []]);
  assert.deepEqual([covered.rule, covered.tokenRates.length], [undefined, 1]);
});

test('refuses prompt patterns without a bound or that do not compile', () => {
  assert.throws(() => compilePromptPattern('bulk', 'dump.*'), { code: 'ERR_CONFIG_INVALID' });
  assert.throws(() => compilePromptPattern('bulk', '(?i)(dump'), { code: 'ERR_CONFIG_INVALID' });
  assert.equal(compilePromptPattern('bulk', '(?i)dump').flags, 'i');
});
