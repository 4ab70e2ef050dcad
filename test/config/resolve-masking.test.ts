// The `masking` section: what it accepts, what it refuses, and how routes inherit it.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { buildConfig } from '../../src/config/load-config';
import { configErrorOf, env } from './config-fixtures';

function documentWith(masking: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    upstreams: [{ name: 'models', address: 'http://127.0.0.1:8000' }],
    masking,
    ...extra,
  };
}

function keyFile(t: TestContext, bytes: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'infergate-masking-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'fingerprint.key');
  fs.writeFileSync(file, Buffer.alloc(bytes, 7));
  return file;
}

test('routes take the section mask unless they name their own', () => {
  const config = buildConfig(
    documentWith(
      { mask: 'responses' },
      {
        routes: [
          { name: 'chat', models: ['chat-*'], upstream: 'models', masking: 'none' },
          { name: 'rest', default: true, upstream: 'models' },
        ],
      },
    ),
    env(),
  );

  assert.deepEqual(
    config.routes.map((route) => [route.name, route.masking]),
    [
      ['chat', 'none'],
      ['rest', 'responses'],
    ],
  );
});

test('reads the fingerprint key and the mask character', (t) => {
  const file = keyFile(t, 32);

  const config = buildConfig(
    documentWith({ fingerprintKeyFile: file, maskCharacter: '#', keepFirst: 6 }),
    env(),
  );

  assert.equal(config.masking.fingerprintKey?.length, 32);
  assert.equal(config.masking.maskByte, 0x23);
  assert.equal(config.masking.keepFirst, 6);
});

test('refuses keeping more digits than PCI DSS allows and a digit as mask character', () => {
  const document = documentWith({ keepFirst: 7, keepLast: 5, maskCharacter: '7' });

  const error = configErrorOf(() => buildConfig(document, env()));

  assert.deepEqual(
    error.issues.map((issue) => issue.path),
    ['masking.keepFirst', 'masking.keepLast', 'masking.maskCharacter'],
  );
});

test('refuses a short fingerprint key and an unmasked role no role section defines', (t) => {
  const file = keyFile(t, 16);
  const document = documentWith({ fingerprintKeyFile: file, unmaskedRoles: ['auditor'] });

  const error = configErrorOf(() => buildConfig(document, env()));

  assert.deepEqual(error.issues, [
    { path: 'masking.fingerprintKeyFile', reason: 'the key has 16 bytes; at least 32 are needed' },
    { path: 'masking.unmaskedRoles[0]', reason: 'no role "auditor" is defined' },
  ]);
});

test('checks every operator pattern at start-up: it compiles, is bounded and named once', () => {
  const document = documentWith({
    patterns: [
      { name: 'employee-id', regex: 'EMP-\\d{6}' },
      { name: 'ticket', regex: 'T-\\d+' },
      { name: 'broken', regex: '(' },
      { name: 'employee-id', regex: 'E\\d{4}', ignoreCase: true },
    ],
  });

  const error = configErrorOf(() => buildConfig(document, env()));

  assert.deepEqual(
    error.issues.map(({ path, reason }) => `${path}: ${reason}`),
    [
      'masking.patterns[1].regex: pattern "ticket": "+" has no bound; write {0,N}',
      'masking.patterns[2].regex: pattern "broken" does not compile',
      'masking.patterns[3]: the name "employee-id" is used twice',
    ],
  );
});

test('keeps valid patterns as written, for the masking filter to compile', () => {
  const config = buildConfig(
    documentWith({ patterns: [{ name: 'employee-id', regex: 'EMP-\\d{6}' }] }),
    env(),
  );

  assert.deepEqual(config.masking.patterns, [
    { name: 'employee-id', regex: 'EMP-\\d{6}', ignoreCase: false },
  ]);
});
