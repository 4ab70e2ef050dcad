// Formatting JSON paths and matching them against pattern sets.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { formatJsonPath, JsonPathSet } from '../../src/codecs/json-path';

test('formats a path with dots, and the root as the empty string', () => {
  assert.equal(formatJsonPath(['messages', 3, 'content', 0, 'text']), 'messages.3.content.0.text');
  assert.equal(formatJsonPath([]), '');
});

test('matches named steps exactly and * against any one key or index', () => {
  const set = new JsonPathSet(['messages.*.content', 'documents.*.*', 'prompt']);

  assert.equal(set.has(['messages', 0, 'content']), true);
  assert.equal(set.has(['messages', 'x', 'content']), true);
  assert.equal(set.has(['documents', 2, 'title']), true);
  assert.equal(set.has(['prompt']), true);
  assert.equal(set.has(['messages', 0, 'role']), false);
  assert.equal(set.has(['messages', 0, 'content', 0]), false);
  assert.equal(set.has(['messages']), false);
  assert.equal(set.has([]), false);
});

test('never matches an array index against a named step that spells the same digits', () => {
  const set = new JsonPathSet(['input.0']);

  assert.equal(set.has(['input', 0]), false);
  assert.equal(set.has(['input', '0']), true);
});

test('an empty set matches nothing', () => {
  assert.equal(new JsonPathSet([]).has(['a']), false);
});
