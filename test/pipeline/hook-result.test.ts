// afterHook: what a listener does with each kind of hook result.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { afterHook } from '../../src/pipeline/hook-result';
import { LocalReply } from '../../src/pipeline/local-reply';

const REPLY = LocalReply.of('ERR_ROUTE_NOT_FOUND', 'no route for model "m"', 'route_not_found');

function outcome(result: Parameters<typeof afterHook>[0]): Promise<string> {
  return new Promise((resolve) =>
    afterHook(
      result,
      () => resolve('next'),
      (reply) => resolve(`reply:${reply.detail}`),
      (err) => resolve(`fail:${(err as Error).message}`),
    ),
  );
}

test('goes on at once when the hooks returned nothing', async () => {
  let ran = false;
  afterHook(
    undefined,
    () => (ran = true),
    () => assert.fail('no reply expected'),
    () => assert.fail('no failure expected'),
  );

  assert.equal(ran, true);
  assert.equal(await outcome(undefined), 'next');
});

test('answers a local reply, now or once a promise settles', async () => {
  assert.equal(await outcome(REPLY), 'reply:route_not_found');
  assert.equal(await outcome(Promise.resolve(REPLY)), 'reply:route_not_found');
});

test('goes on once a promise settles with nothing', async () => {
  assert.equal(await outcome(Promise.resolve()), 'next');
});

test('hands a rejected promise to fail', async () => {
  assert.equal(await outcome(Promise.reject(new Error('filter bug'))), 'fail:filter bug');
});

test('maps errors to replies: a ProxyError keeps its code, anything else is internal', () => {
  assert.equal(LocalReply.fromError(REPLY.error).detail, 'route_not_found');
  const internal = LocalReply.fromError(new TypeError('x is undefined'));
  assert.equal(internal.error.code, 'ERR_FILTER_EXCEPTION');
  assert.equal(internal.error.message, 'internal error in infergate');
});
