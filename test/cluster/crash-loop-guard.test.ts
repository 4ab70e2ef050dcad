// The crash-loop guard: quick deaths in a row per slot, reset by a worker that ran.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CrashLoopGuard } from '../../src/cluster/crash-loop-guard';

const LIMITS = { quickDeathMs: 1_000, deaths: 3 };

test('reports a loop at the limit of quick deaths in a row of one slot', () => {
  const guard = new CrashLoopGuard(LIMITS);

  const verdicts = [guard.recordDeath(1, 10), guard.recordDeath(1, 999), guard.recordDeath(1, 0)];

  assert.deepEqual(verdicts, [undefined, undefined, 3]);
});

test('a worker that lived past the quick-death time resets its slot', () => {
  const guard = new CrashLoopGuard(LIMITS);

  guard.recordDeath(1, 10);
  guard.recordDeath(1, 10);
  const afterRun = guard.recordDeath(1, 1_000);
  const next = [guard.recordDeath(1, 10), guard.recordDeath(1, 10)];

  assert.equal(afterRun, undefined);
  assert.deepEqual(next, [undefined, undefined]);
});

test('counts each slot apart', () => {
  const guard = new CrashLoopGuard(LIMITS);

  guard.recordDeath(1, 10);
  guard.recordDeath(1, 10);
  const otherSlot = guard.recordDeath(2, 10);

  assert.equal(otherSlot, undefined);
  assert.equal(guard.recordDeath(1, 10), 3);
});
