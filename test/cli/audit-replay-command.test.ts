// `infergate audit replay` through the command line, over a log AuditLog wrote.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { generateSealingKeyPair } from '../../src/audit/sealing-key';
import { createAuditReplayCommand } from '../../src/cli/audit-replay-command';
import {
  CHUNK_AT_MS,
  CHUNK_ENDS,
  MASKED_RESPONSE,
  ORIGINAL_PROMPT,
  ORIGINAL_RESPONSE,
  REPLAY_LOG_ID,
  SECOND_PROMPT,
  flipByteOf,
  writtenReplayLog,
  type ReplayLogFixture,
} from '../audit/audit-replay-fixture';
import { runCli, type CliResult } from '../fixtures/cli-run';

function replay(fixture: ReplayLogFixture, ...args: string[]): Promise<CliResult> {
  return runCli('audit', 'replay', '--dir', fixture.dir, '--keys', fixture.keys, ...args);
}

/** The values of every `label:` line of a transcript. */
function fields(result: CliResult, label: string): string[] {
  return result.stdout
    .split('\n')
    .filter((line) => line.startsWith(`${label}:`))
    .map((line) => line.slice(label.length + 1).trim());
}

/** Runs replay with a sleep that records each wait, in order with what reached stdout. */
async function streamed(fixture: ReplayLogFixture, ...args: string[]) {
  const events: string[] = [];
  const sleeps: number[] = [];
  const sink = (prefix: string) =>
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        events.push(`${prefix}${chunk.toString('utf8')}`);
        callback();
      },
    });
  const command = createAuditReplayCommand({
    sleep: async (ms) => {
      sleeps.push(ms);
      events.push(`sleep ${ms}`);
    },
  });
  const io = { stdout: sink('out '), stderr: sink('err ') };
  const base = ['--dir', fixture.dir, '--keys', fixture.keys];
  const code = await command.run([...base, ...args], io);
  return { code, events, sleeps };
}

function chunkTexts(text: string): string[] {
  return CHUNK_ENDS.map((end, i) => text.slice(i === 0 ? 0 : CHUNK_ENDS[i - 1], end));
}

test('prints the transcript of one exchange by id and exits 0', async (t) => {
  const fixture = await writtenReplayLog(t);

  const result = await replay(fixture, '--exchange', 'ex-1');

  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, '');
  assert.deepEqual(fields(result, 'exchange'), ['ex-1']);
  assert.deepEqual(fields(result, 'log'), [`${REPLAY_LOG_ID}, sequences 2, 3, 4`]);
  assert.match(fields(result, 'who')[0]!, /^alice, roles analyst, certificate CN=alice /);
  assert.deepEqual(fields(result, 'decision'), ['allowed, role analyst']);
  assert.deepEqual(fields(result, 'prompt'), ['pay with **** **** **** 4242']);
  assert.deepEqual(fields(result, 'response'), [`[text_output] ${MASKED_RESPONSE}`]);
  assert.deepEqual(fields(result, 'verification'), ['verified (5 frames)']);
  assert.deepEqual(fields(result, 'original prompt'), []);
});

test('filters by session, identity and time', async (t) => {
  const fixture = await writtenReplayLog(t);
  const cases: [string[], string[]][] = [
    [[], ['ex-1', 'ex-2']],
    [['--session', 's-2'], ['ex-2']],
    [['--identity', 'alice'], ['ex-1']],
    [['--identity', 'CN=bob'], ['ex-2']],
    [['--since', '2023-11-14T23:00:00Z'], ['ex-2']],
    [['--until', '2023-11-14T23:13:20.122+01:00'], []],
    [['--until', '2023-11-14T23:13:20.123+01:00'], ['ex-1']],
    [
      ['--since', '2023-11-14', '--until', '2023-11-15'],
      ['ex-1', 'ex-2'],
    ],
    [['--log', REPLAY_LOG_ID, '--session', 's-1'], ['ex-1']],
  ];

  for (const [args, expected] of cases) {
    const result = await replay(fixture, ...args);
    assert.deepEqual(fields(result, 'exchange'), expected, args.join(' '));
    assert.equal(result.code, expected.length > 0 ? 0 : 1, `${args.join(' ')}: ${result.stderr}`);
  }
});

test('--json prints one object per exchange', async (t) => {
  const fixture = await writtenReplayLog(t);

  const result = await replay(fixture, '--json');

  assert.equal(result.code, 0, result.stderr);
  const records = result.stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line));
  assert.deepEqual(
    records.map((record) => [record.exchangeId, record.sessionId, record.verification]),
    [
      ['ex-1', 's-1', 'verified'],
      ['ex-2', 's-2', 'verified'],
    ],
  );
  assert.equal(records[0].time, '2023-11-14T22:13:20.123456Z');
  assert.equal(records[0].started.event.identity.tokenSubject, 'alice');
  assert.deepEqual(records[0].finished.event.chunkTexts, [0, 0, 0]);
  assert.match(records[0].started.event.sealedPrompt.nonce, /^[0-9a-f]{24}$/);
  assert.equal(records[1].decision.event.detail, 'model_not_permitted');
  assert.equal(records[1].session.opened.event.clientAddress, '10.0.0.9:4000');
  assert.equal('originals' in records[0], false);
});

test('--stream emits the chunks in order, each after its recorded delay', async (t) => {
  const fixture = await writtenReplayLog(t);

  const { code, events } = await streamed(fixture, '--stream', 'ex-1');

  assert.equal(code, 0, events.join('\n'));
  const texts = chunkTexts(MASKED_RESPONSE);
  assert.deepEqual(events.slice(0, 6), [
    `sleep ${CHUNK_AT_MS[0]}`,
    `out ${texts[0]}`,
    `sleep ${CHUNK_AT_MS[1]! - CHUNK_AT_MS[0]!}`,
    `out ${texts[1]}`,
    `sleep ${CHUNK_AT_MS[2]! - CHUNK_AT_MS[1]!}`,
    `out ${texts[2]}`,
  ]);
  const out = events.filter((event) => event.startsWith('out ')).map((event) => event.slice(4));
  assert.equal(out.join(''), `${MASKED_RESPONSE}\n`);
  assert.match(events.at(-1)!, /^err exchange ex-1 of log replay-gw: 3 chunks .*; verified\n$/);
});

test('--speed divides the delays, and --speed 0 does not wait', async (t) => {
  const fixture = await writtenReplayLog(t);

  const fast = await streamed(fixture, '--stream', 'ex-1', '--speed', '2.5');
  const instant = await streamed(fixture, '--stream', 'ex-1', '--speed', '0');

  assert.equal(fast.code, 0);
  assert.deepEqual(fast.sleeps, [2, 3, 7]);
  assert.equal(instant.code, 0);
  assert.deepEqual(instant.sleeps, []);
});

test('--stream with --unseal streams the original response', async (t) => {
  const fixture = await writtenReplayLog(t);

  const { code, events } = await streamed(
    fixture,
    '--stream',
    'ex-1',
    '--speed',
    '0',
    '--unseal',
    fixture.sealingKeyFile,
  );

  assert.equal(code, 0);
  const out = events.filter((event) => event.startsWith('out ')).map((event) => event.slice(4));
  assert.equal(out.join(''), `${ORIGINAL_RESPONSE}\n`);
  assert.deepEqual(out.slice(0, 3), chunkTexts(ORIGINAL_RESPONSE));
});

test('--stream of an exchange without a response or not in the store exits 1', async (t) => {
  const fixture = await writtenReplayLog(t);

  const missing = await streamed(fixture, '--stream', 'ex-9');
  const denied = await streamed(fixture, '--stream', 'ex-2', '--speed', '0');

  assert.equal(missing.code, 1);
  assert.match(missing.events.join(''), /exchange "ex-9" is not in the store/);
  assert.equal(denied.code, 0);
  assert.deepEqual(
    denied.events.filter((event) => event.startsWith('out ')),
    ['out \n'],
  );
});

test('--unseal shows the originals next to the masked texts', async (t) => {
  const fixture = await writtenReplayLog(t);

  const result = await replay(fixture, '--unseal', fixture.sealingKeyFile);

  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(fields(result, 'original prompt'), [ORIGINAL_PROMPT, 'not sealed']);
  assert.deepEqual(fields(result, 'original response'), [
    `[text_output] ${ORIGINAL_RESPONSE}`,
    'not sealed',
  ]);
});

test('--unseal with another key prints a line saying the record does not open', async (t) => {
  const fixture = await writtenReplayLog(t);
  const wrongKey = path.join(fixture.root, 'wrong.key.pem');
  fs.writeFileSync(wrongKey, generateSealingKeyPair().privateKeyPem);

  const result = await replay(fixture, '--exchange', 'ex-1', '--unseal', wrongKey);

  assert.equal(result.code, 0, result.stderr);
  const [prompt] = fields(result, 'original prompt');
  assert.match(prompt!, /^does not open with the key given: sealed text is for key \w{16}, not/);
  assert.equal(fields(result, 'original response').length, 1);
  assert.ok(!result.stdout.includes('4111'));
});

test('a flipped byte marks the exchange broken and exits 1', async (t) => {
  const fixture = await writtenReplayLog(t);
  flipByteOf(fixture.dir, SECOND_PROMPT);

  const both = await replay(fixture);
  const first = await replay(fixture, '--exchange', 'ex-1');

  assert.equal(both.code, 1);
  assert.deepEqual(fields(both, 'verification'), [
    'verified (5 frames)',
    'broken: 3 of 5 frames broken; infergate audit verify lists the breaks',
  ]);
  assert.match(both.stderr, /exchange ex-2 of log replay-gw rests on broken frames/);
  assert.equal(first.code, 0, first.stderr);
});

test('an exchange not found, an unreadable store or key exit 1', async (t) => {
  const fixture = await writtenReplayLog(t);

  const missing = await replay(fixture, '--exchange', 'ex-9');
  const store = await runCli(
    'audit',
    'replay',
    '--dir',
    path.join(fixture.root, 'no'),
    '-k',
    fixture.keys,
  );
  const key = await replay(fixture, '--unseal', path.join(fixture.root, 'no.key.pem'));

  assert.equal(missing.code, 1);
  assert.equal(missing.stdout, '');
  assert.match(missing.stderr, /^infergate audit replay: exchange "ex-9" is not in the store/);
  assert.equal(store.code, 1);
  assert.match(store.stderr, /cannot be read: ENOENT \(ERR_AUDIT_STORE_INVALID\)\n$/);
  assert.equal(key.code, 1);
  assert.match(key.stderr, /cannot read .*no\.key\.pem \(ENOENT\) \(ERR_AUDIT_KEY_INVALID\)/);
});

test('usage errors exit 2', async (t) => {
  const fixture = await writtenReplayLog(t);
  const cases: [string[], RegExp][] = [
    [['--since', 'yesterday'], /--since "yesterday" is not an ISO 8601 date/],
    [['--until', '2024-02-30'], /--until "2024-02-30" is not an ISO 8601 date/],
    [['--since', '2024-05-01T09:30:00'], /is not an ISO 8601 date or a date and time with an/],
    [['--since', '2024-05-02', '--until', '2024-05-01'], /--since "2024-05-02" is after --until/],
    [['--stream', 'ex-1', '--speed=-1'], /--speed "-1" is not a non-negative number/],
    [['--stream', 'ex-1', '--speed', 'fast'], /--speed "fast" is not a non-negative number/],
    [['--speed', '2'], /--speed needs --stream/],
    [['--stream', 'ex-1', '--json'], /--stream and --json cannot be given together/],
    [['--stream', 'ex-1', '--exchange', 'ex-2'], /name two exchanges/],
    [['--exchange', ''], /--exchange needs a value/],
    [['--bogus'], /Unknown option '--bogus'/],
  ];

  for (const [args, stderr] of cases) {
    const result = await replay(fixture, ...args);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, stderr);
    assert.equal(result.stdout, '');
  }
  const noKeys = await runCli('audit', 'replay', '--dir', fixture.dir);
  assert.equal(noKeys.code, 2);
  assert.match(noKeys.stderr, /--keys is required/);
});

test('help says an unseal here is offline and not recorded', async () => {
  const result = await runCli('audit', 'replay', '--help');
  const top = await runCli('audit', '--help');

  assert.equal(result.code, 0);
  assert.match(result.stdout, /An unseal done this way is offline: no gateway\nrecords it/);
  assert.match(top.stdout, /\n {2}replay +show recorded exchanges/);
});
