// The audit log id of a cluster worker.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateLogId } from '../../src/audit/segment-names';
import { buildConfig } from '../../src/config/load-config';
import { readEnvironment } from '../../src/config/environment';
import { withWorkerLogId, workerLogId } from '../../src/cluster/worker-log-id';

const ENV = readEnvironment({});

function configWith(audit: Record<string, unknown> | undefined) {
  const upstreams = [{ name: 'up', address: 'http://127.0.0.1:1' }];
  return buildConfig(audit === undefined ? { upstreams } : { upstreams, audit }, ENV);
}

test('suffixes the log id with the worker slot', () => {
  assert.equal(workerLogId('gw-eu', 1), 'gw-eu-w1');
  assert.equal(workerLogId('gw-eu', 12), 'gw-eu-w12');
});

test('the longest configurable log id still names segment files once suffixed', () => {
  assert.doesNotThrow(() => validateLogId(workerLogId('a'.repeat(128), 1024)));
});

test('gives the worker its own chain and changes nothing else', () => {
  const config = configWith({ logId: 'gw', files: { dir: 'audit' }, signingKeyDir: 'keys' });

  const worker = withWorkerLogId(config, 2);

  assert.equal(worker.audit?.logId, 'gw-w2');
  assert.deepEqual({ ...worker, audit: undefined }, { ...config, audit: undefined });
  assert.equal(config.audit?.logId, 'gw');
  assert.ok(Object.isFrozen(worker.audit));
});

test('leaves a configuration without audit as it is', () => {
  const config = configWith(undefined);

  assert.equal(withWorkerLogId(config, 1), config);
});
