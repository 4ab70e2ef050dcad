// The `reviews` section: defaults, what it accepts, and every problem reported with its path.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildConfig } from '../../src/config/load-config';
import { ProxyError } from '../../src/errors/proxy-error';
import { startGateway } from '../../src/gateway';
import { captureLogs } from '../fixtures/log-sink';
import { configErrorOf, env } from './config-fixtures';

const ROLE = { models: ['*'], operations: ['chat'] };

function documentWith(reviews: Record<string, unknown>) {
  return {
    upstreams: [{ name: 'models', address: 'http://127.0.0.1:8000' }],
    routes: [{ name: 'llama', models: ['llama-*'], default: true, upstream: 'models' }],
    roles: { analyst: ROLE, security: ROLE },
    reviews,
  };
}

const BULK_RULE = {
  name: 'bulk-tokens',
  when: {
    roles: ['analyst'],
    routes: ['llama'],
    models: ['llama-*'],
    operations: ['chat', 'completions'],
    maxTokensAbove: 4096,
    nAbove: 4,
    inputsAbove: 100,
    batchAbove: 64,
    promptMatches: ['(?i)dump all', 'every customer'],
    rate: { requests: 100, tokens: 200_000, windowMs: 60_000 },
  },
  reviewers: ['security'],
};

test('leaves reviews undefined without the section', () => {
  const { reviews: _none, ...document } = documentWith({});

  assert.equal(buildConfig(document, env()).reviews, undefined);
});

test('applies the defaults and keeps every condition of a rule', () => {
  const config = buildConfig(documentWith({ rules: [BULK_RULE] }), env());

  assert.deepEqual(config.reviews, {
    waitMs: 30_000,
    reviewTtlMs: 900_000,
    grantTtlMs: 600_000,
    rules: [{ ...BULK_RULE, approvals: 1 }],
  });
  assert.ok(Object.isFrozen(config.reviews?.rules[0]?.when));
});

test('reports unknown roles and routes, bad patterns, empty rules, reused names, approvals', () => {
  const document = documentWith({
    waitMs: 0,
    rules: [
      {
        name: 'bulk',
        when: {
          roles: ['intern'],
          routes: ['gpt'],
          models: ['x'.repeat(300)],
          promptMatches: ['dump.*', '(x'],
        },
        reviewers: ['secops'],
        approvals: 0,
      },
      { name: 'bulk', when: {}, reviewers: ['security'] },
      { name: 'rated', when: { rate: { windowMs: 1000 } }, reviewers: ['constructor'] },
    ],
  });

  const error = configErrorOf(() => buildConfig(document, env()));

  assert.deepEqual(
    error.issues.map((issue) => issue.path),
    [
      'reviews.rules[0].approvals',
      'reviews.rules[0].when.roles[0]',
      'reviews.rules[0].reviewers[0]',
      'reviews.rules[0].when.routes[0]',
      'reviews.rules[0].when.models[0]',
      'reviews.rules[0].when.promptMatches[0]',
      'reviews.rules[0].when.promptMatches[1]',
      'reviews.rules[1].name',
      'reviews.rules[1].when',
      'reviews.rules[2].when.rate',
      'reviews.rules[2].reviewers[0]',
    ],
  );
  assert.match(error.issues[1]!.reason, /no role "intern"/);
  assert.match(error.issues[3]!.reason, /no route is named "gpt"/);
  assert.match(error.issues[8]!.reason, /at least one condition/);
});

test('refuses waiting longer than a review lives', () => {
  const document = documentWith({ waitMs: 60_000, reviewTtlMs: 30_000, rules: [BULK_RULE] });

  const error = configErrorOf(() => buildConfig(document, env()));

  assert.deepEqual(
    error.issues.map((issue) => issue.path),
    ['reviews.waitMs'],
  );
});

test('the schema refuses unknown permissions, keys and negative bounds, with their paths', () => {
  const document = documentWith({
    rules: [
      {
        name: 'bulk',
        when: { operations: ['dump'], nAbove: -1, sometimes: true },
        reviewers: ['security'],
      },
    ],
  });

  const error = configErrorOf(() => buildConfig(document, env()));

  assert.deepEqual(error.issues.map((issue) => issue.path).sort(), [
    'reviews.rules[0].when',
    'reviews.rules[0].when.nAbove',
    'reviews.rules[0].when.operations[0]',
  ]);
});

test('a gateway refuses to start on review rules without auth to tell reviewers apart', async () => {
  const config = buildConfig(documentWith({ rules: [BULK_RULE] }), env());

  await assert.rejects(
    startGateway(config, captureLogs().logger),
    (err: unknown) =>
      err instanceof ProxyError && err.code === 'ERR_CONFIG_INVALID' && /auth/.test(err.message),
  );
});

test('keeps a postgres store only when the section names one', () => {
  const postgres = { connectionString: 'postgres://reviews@db/infergate', table: 'reviews_a' };
  const config = buildConfig(documentWith({ rules: [BULK_RULE], postgres }), env());

  assert.deepEqual(config.reviews?.postgres, postgres);
});

test('reports a webhook scheme, header names and values at once, never a value', () => {
  const webhook = {
    url: 'ftp://hooks.example/review',
    headers: {
      'bad name': 'x',
      'content-type': 'text/plain',
      authorization: 'Bearer sec\nret',
      'x-token': '${env:HOOK_TOKEN}',
    },
  };

  const error = configErrorOf(() =>
    buildConfig(documentWith({ rules: [BULK_RULE], webhook }), env({ HOOK_TOKEN: 'abc' })),
  );
  const good = buildConfig(
    documentWith({ rules: [BULK_RULE], webhook: { url: 'https://hooks.example/r' } }),
    env(),
  );

  assert.deepEqual(
    error.issues.map((issue) => `${issue.path}: ${issue.reason}`),
    [
      'reviews.webhook.url: must be http:// or https://, not ftp://',
      'reviews.webhook.headers.bad name: is not a header name',
      'reviews.webhook.headers.content-type: is set by the gateway for every delivery',
      'reviews.webhook.headers.authorization: holds a line break or NUL',
    ],
  );
  assert.ok(!error.issues.some((issue) => issue.reason.includes('sec')));
  assert.deepEqual(good.reviews?.webhook, {
    url: 'https://hooks.example/r',
    timeoutMs: 5000,
    attempts: 5,
    headers: {},
  });
});
