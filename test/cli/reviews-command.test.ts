// `infergate reviews` through main() against a real admin listener over mTLS: what it prints,
// what it sends, and its exit codes.

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { REVIEW_EVENT_KIND } from '../../src/audit/audit-events';
import { runCli } from '../fixtures/cli-run';
import type { TestClientName } from '../fixtures/identity-fixture';
import { REVIEW_EPOCH_MS, startReviewAdmin } from '../fixtures/review-admin-fixture';

/** The listener, and `infergate reviews` run as `client` holding `roles`. */
async function reviewsCli(t: TestContext) {
  const admin = await startReviewAdmin(t);
  const run = async (client: TestClientName, roles: readonly string[], ...args: string[]) => {
    const { caFile, clients } = admin.identity;
    const token = await admin.identity.token(client, roles);
    return runCli(
      'reviews',
      ...args,
      ...['--admin', `127.0.0.1:${admin.port}`, '--ca', caFile],
      ...['--cert', clients[client].certFile, '--key', clients[client].keyFile, '--token', token],
    );
  };
  return { admin, run };
}

test('list prints a table of the pending reviews', async (t) => {
  const { admin, run } = await reviewsCli(t);
  await admin.open();
  await admin.open({ rule: { name: 'night', reviewers: ['security'], approvals: 2 } });

  const result = await run('bob', [], 'list');

  assert.equal(result.code, 0, result.stderr);
  const expires = new Date(REVIEW_EPOCH_MS + 60_000).toISOString();
  assert.deepEqual(result.stdout.trimEnd().split('\n'), [
    `ID        STATE    RULE         REQUESTER  OPERATION         MODEL    APPROVALS  EXPIRES`,
    `review-1  pending  bulk-tokens  carol      chat.completions  llama-3  0/1        ${expires}`,
    `review-2  pending  night        carol      chat.completions  llama-3  0/2        ${expires}`,
  ]);
});

test('list says so when nothing is pending', async (t) => {
  const { run } = await reviewsCli(t);

  const result = await run('bob', [], 'list');

  assert.equal(result.code, 0);
  assert.equal(result.stdout, 'no pending reviews\n');
});

test('show prints the review with its masked prompt', async (t) => {
  const { admin, run } = await reviewsCli(t);
  const opened = await admin.open();

  const result = await run('bob', [], 'show', opened.id);

  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.split('\n');
  assert.ok(lines.includes(`${'review:'.padEnd(20)}review-1`));
  assert.ok(lines.includes(`${'state:'.padEnd(20)}pending`));
  assert.ok(lines.includes(`${'requester:'.padEnd(20)}carol (chat)`));
  assert.ok(lines.includes(`${'fact maxTokens:'.padEnd(20)}8192`));
  assert.ok(lines.includes(`${'masked prompt:'.padEnd(20)}dump all customers`));
  assert.ok(lines.includes(`${'approvals:'.padEnd(20)}0/1`));
});

test('approve prints the new state, and the decision is recorded', async (t) => {
  const { admin, run } = await reviewsCli(t);
  const opened = await admin.open();

  const result = await run('bob', ['security'], 'approve', opened.id, '--reason', 'SEC-12');

  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.split('\n');
  assert.ok(lines.includes(`${'state:'.padEnd(20)}approved`));
  assert.ok(lines.some((line) => line.startsWith('approve:') && line.endsWith(': SEC-12')));
  assert.ok(lines.some((line) => line.startsWith('grant:') && line.includes('unused')));
  assert.deepEqual(
    admin.events.map((event) => [event.kind, event.reviewId, event.reason]),
    [[REVIEW_EVENT_KIND.APPROVED, opened.id, 'SEC-12']],
  );
});

test('deny prints the denied review', async (t) => {
  const { admin, run } = await reviewsCli(t);
  const opened = await admin.open();

  const result = await run('bob', ['security'], 'deny', opened.id, '--reason', 'not on ticket');

  assert.equal(result.code, 0, result.stderr);
  assert.ok(result.stdout.split('\n').includes(`${'state:'.padEnd(20)}denied`));
  assert.equal(admin.events[0]?.kind, REVIEW_EVENT_KIND.DENIED);
});

test('exits 1 with the reason when the gateway refuses', async (t) => {
  const { admin, run } = await reviewsCli(t);
  const own = await admin.open({}, admin.requesterOf('alice'));

  const self = await run('alice', ['security'], 'approve', own.id, '--reason', 'mine');
  const noRole = await run('bob', ['reader'], 'approve', own.id, '--reason', 'x');
  const missing = await run('bob', ['security'], 'show', 'review-9');

  assert.equal(self.code, 1);
  assert.equal(
    self.stderr,
    'infergate reviews: the gateway refused (403 self_review): the requester cannot decide' +
      ` on their own request: ${own.id}\n`,
  );
  assert.equal(noRole.code, 1);
  assert.match(noRole.stderr, /\(403 not_a_reviewer\)/);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /\(404 not_found\)/);
  assert.equal(self.stdout + noRole.stdout, '');
  assert.deepEqual(admin.events, []);
});

test('exits 1 when the token is not accepted', async (t) => {
  const { admin } = await reviewsCli(t);
  const bob = admin.identity.clients.bob;

  const result = await runCli(
    'reviews',
    'list',
    ...['--admin', `127.0.0.1:${admin.port}`, '--ca', admin.identity.caFile],
    ...['--cert', bob.certFile, '--key', bob.keyFile, '--token', 'not-a-token'],
  );

  assert.equal(result.code, 1);
  assert.match(result.stderr, /\(401 unauthorized\)/);
});

test('exits 2 on bad usage before sending anything', async (t) => {
  const { admin, run } = await reviewsCli(t);
  const opened = await admin.open();

  const results = [
    await run('bob', ['security'], 'approve', opened.id),
    await run('bob', ['security'], 'show'),
    await run('bob', ['security'], 'show', '../token'),
    await run('bob', ['security'], 'list', '--reason', 'x'),
    await run('bob', ['security'], 'deny', opened.id, '--reason', 'x'.repeat(501)),
    await runCli('reviews', 'list', '--admin', 'nowhere'),
    await runCli('reviews', 'vote'),
  ];

  assert.deepEqual(
    results.map((result) => result.code),
    [2, 2, 2, 2, 2, 2, 2],
  );
  assert.match(results[0]!.stderr, /--reason is required/);
  assert.deepEqual(admin.events, []);
  assert.equal((await admin.book.waitForDecision(opened.id, 0))?.state, 'pending');
});

test('prints help for the command and each subcommand', async () => {
  const top = await runCli('reviews', '--help');
  const approve = await runCli('reviews', 'approve', '--help');

  assert.equal(top.code, 0);
  assert.match(top.stdout, /list +list the pending reviews/);
  assert.equal(approve.code, 0);
  assert.match(approve.stdout, /^Usage: infergate reviews approve ID --reason TEXT/);
});
