// Matching model names to routes: wildcards, literal metacharacters, order and the default.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RouteConfig } from '../../src/config/gateway-config';
import { compileModelPattern } from '../../src/pipeline/model-pattern';
import { Router } from '../../src/pipeline/router';

/** A route as the config loader produces it. */
function route(name: string, models: string[], isDefault = false): RouteConfig {
  const upstream = `${name}-upstream`;
  return { name, models, default: isDefault, upstream, protocol: 'grpc', masking: 'both' };
}

/** The name of the route a router picks for `model`, or undefined. */
function routeOf(router: Router, model: string): string | undefined {
  return router.match(model)?.name;
}

test('matches an exact pattern only to the same name', () => {
  const router = new Router([route('llama', ['llama-3'])]);

  assert.equal(routeOf(router, 'llama-3'), 'llama');
  assert.equal(routeOf(router, 'llama-30'), undefined);
  assert.equal(routeOf(router, 'llama-'), undefined);
  assert.equal(routeOf(router, 'Llama-3'), undefined);
});

test('lets * match any run of characters, the empty run included', () => {
  const pattern = compileModelPattern('llama-*-instruct');

  assert.equal(pattern.matches('llama--instruct'), true);
  assert.equal(pattern.matches('llama-3-70b-instruct'), true);
  assert.equal(pattern.matches('llama-a/b\nc-instruct'), true);
  assert.equal(pattern.matches('llama-3-instruct-v2'), false);
  assert.equal(pattern.matches('xllama-3-instruct'), false);
});

test('lets ? match exactly one character', () => {
  const pattern = compileModelPattern('gpt-?');

  assert.equal(pattern.matches('gpt-4'), true);
  assert.equal(pattern.matches('gpt-'), false);
  assert.equal(pattern.matches('gpt-40'), false);
});

test('takes regular-expression metacharacters in an exact name literally', () => {
  const router = new Router([route('dotted', ['a.b'])]);

  assert.equal(routeOf(router, 'a.b'), 'dotted');
  assert.equal(routeOf(router, 'axb'), undefined);
});

test('takes regular-expression metacharacters next to wildcards literally', () => {
  const source = 'v1.(beta)+[x]{2}|^$\\-*';
  const pattern = compileModelPattern(source);

  assert.equal(pattern.problem, undefined);
  assert.equal(pattern.matches('v1.(beta)+[x]{2}|^$\\-7b'), true);
  assert.equal(pattern.matches('v1x(beta)+[x]{2}|^$\\-7b'), false);
  assert.equal(pattern.matches('v1.betaa[x]{2}|^$\\-7b'), false);
  assert.equal(pattern.matches('v1.(beta)+xx|^$\\-7b'), false);
  assert.equal(compileModelPattern('a.b*').matches('axb-1'), false);
});

test('reports a problem for an empty or over-long pattern and matches nothing', () => {
  const empty = compileModelPattern('');
  const long = compileModelPattern('m'.repeat(257));

  assert.equal(empty.problem, 'must be 1-256 characters');
  assert.equal(long.problem, 'must be 1-256 characters');
  assert.equal(long.matches('m'.repeat(257)), false);
  assert.equal(compileModelPattern('m'.repeat(256)).problem, undefined);
});

test('picks the first matching route in configuration order', () => {
  const router = new Router([
    route('specific', ['llama-3-70b']),
    route('family', ['llama-*']),
    route('everything', ['*']),
  ]);

  assert.equal(routeOf(router, 'llama-3-70b'), 'specific');
  assert.equal(routeOf(router, 'llama-3-8b'), 'family');
  assert.equal(routeOf(router, 'mistral'), 'everything');
});

test('picks an earlier broad route over a later specific one', () => {
  const router = new Router([route('family', ['llama-*']), route('specific', ['llama-3-70b'])]);

  assert.equal(routeOf(router, 'llama-3-70b'), 'family');
});

test('sends names no pattern matches to the default route', () => {
  const fallback = route('fallback', [], true);
  const router = new Router([route('llama', ['llama-*']), fallback]);

  assert.equal(router.match('mistral'), fallback);
  assert.equal(router.match(''), fallback);
  assert.equal(router.defaultRoute, fallback);
  assert.equal(routeOf(router, 'llama-3'), 'llama');
});

test('matches a default route with patterns in its place in the order', () => {
  const router = new Router([
    route('first', ['a*']),
    route('fallback', ['b*'], true),
    route('late', ['b-late']),
  ]);

  assert.equal(routeOf(router, 'b-late'), 'fallback');
  assert.equal(routeOf(router, 'zzz'), 'fallback');
  assert.equal(routeOf(router, 'a1'), 'first');
});

test('answers undefined for an unmatched name when there is no default, every time', () => {
  const router = new Router([route('llama', ['llama-*'])]);

  assert.equal(router.match('mistral'), undefined);
  assert.equal(router.match('mistral'), undefined);
  assert.equal(router.defaultRoute, undefined);
});

test('keeps matching correctly after many distinct names pass through', () => {
  const router = new Router([route('even', ['even-*']), route('odd', ['odd-*'])]);
  const names = Array.from({ length: 10_000 }, (_, i) => `${i % 2 === 0 ? 'even' : 'odd'}-${i}`);

  const first = names.map((name) => routeOf(router, name));
  const unmatched = Array.from({ length: 5_000 }, (_, i) => routeOf(router, `none-${i}`));
  const again = names.map((name) => routeOf(router, name));

  const expected = names.map((_, i) => (i % 2 === 0 ? 'even' : 'odd'));
  assert.deepEqual(first, expected);
  assert.deepEqual(again, expected);
  assert.deepEqual(new Set(unmatched), new Set([undefined]));
});

test('bounds the cache of model names it has seen', () => {
  const router = new Router([route('all', ['*'])]);

  for (let i = 0; i < 20_000; i++) router.match(`model-${i}`);

  const cache = (router as unknown as { cache: { size: number; max: number } }).cache;
  assert.equal(cache.max, 4096);
  assert.equal(cache.size, 4096);
});
