// The length bound of an operator's pattern, read from its source.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { maxPatternLength } from '../../src/masking/pattern-length';

test('adds up atoms, takes the longest alternative and the upper bound of each quantifier', () => {
  const cases: [string, number][] = [
    ['EMP-\\d{6}', 10],
    ['acct[ -]?\\d{4,8}', 13],
    ['(?:ab|cde){2}x?', 7],
    ['(?<id>[A-Z]{2})\\d{1,3}?', 5],
    ['\\bkey_[a-f0-9]{32}\\b', 36],
    ['^ID\\x41\\u0042.$', 5],
    ['a{3}|b{0,9}', 9],
  ];
  for (const [source, length] of cases) assert.equal(maxPatternLength(source), length, source);
});

test('refuses patterns without a bound, and those that read outside their match', () => {
  const cases: [string, RegExp][] = [
    ['\\d+', /no bound/],
    ['a*', /no bound/],
    ['x{2,}', /no bound/],
    ['(?=abc)a', /lookahead/],
    ['(?<!x)a', /lookbehind/],
    ['(a)\\1', /backreference/],
    ['(?<n>a)\\k<n>', /backreference/],
    ['caf\u00e9', /ASCII/],
  ];
  for (const [source, reason] of cases) {
    const result = maxPatternLength(source);
    assert.equal(typeof result, 'string', source);
    assert.match(String(result), reason, source);
  }
});
