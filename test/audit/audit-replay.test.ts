// collectExchanges, the unseal and chunk helpers, and the transcript, over a log AuditLog wrote.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { ExchangeFinishedEvent } from '../../src/audit/audit-events';
import { decodeFrame, encodeFrame } from '../../src/audit/audit-frame-codec';
import { readVerifyingKeys } from '../../src/audit/audit-key-directory';
import {
  collectExchanges,
  exchangeStatus,
  recordedChunks,
  responseChunks,
  unsealExchange,
  type ReplayFilter,
} from '../../src/audit/audit-replay';
import { printableText, transcriptLines } from '../../src/audit/audit-transcript-text';
import { generateSealingKeyPair, sealingPrivateKeyFromPem } from '../../src/audit/sealing-key';
import { SegmentFileSource } from '../../src/audit/segment-file-source';
import {
  ALICE_THUMBPRINT,
  CHUNK_AT_MS,
  CHUNK_ENDS,
  FIRST_MICROS,
  MASKED_RESPONSE,
  ORIGINAL_PROMPT,
  ORIGINAL_RESPONSE,
  REPLAY_LOG_ID,
  SECOND_MICROS,
  SECOND_PROMPT,
  flipByteOf,
  writtenReplayLog,
  type ReplayLogFixture,
} from './audit-replay-fixture';

async function replay(fixture: ReplayLogFixture, filter: ReplayFilter = {}) {
  const keys = readVerifyingKeys([fixture.keys]);
  return collectExchanges(new SegmentFileSource({ dir: fixture.dir }), { ...filter, keys });
}

/** Drops the closing checkpoint, as a cut tail would: what is left still links. */
async function cutLastRecord(fixture: ReplayLogFixture): Promise<void> {
  let last = '';
  for await (const record of new SegmentFileSource({ dir: fixture.dir }).records()) {
    last = record.where;
  }
  const [file, offset] = last.split(':');
  fs.truncateSync(path.join(fixture.dir, file!), Number(offset));
}

async function idsOf(fixture: ReplayLogFixture, filter: ReplayFilter): Promise<string[]> {
  const { exchanges } = await replay(fixture, filter);
  return exchanges.map((exchange) => exchange.exchangeId);
}

test('rebuilds both exchanges with their session, decision, finish and verdicts', async (t) => {
  const fixture = await writtenReplayLog(t);

  const { exchanges, report } = await replay(fixture);

  assert.equal(report.ok, true);
  assert.deepEqual(
    exchanges.map((x) => [x.logId, x.exchangeId, x.session?.sessionId, exchangeStatus(x)]),
    [
      [REPLAY_LOG_ID, 'ex-1', 's-1', 'verified'],
      [REPLAY_LOG_ID, 'ex-2', 's-2', 'verified'],
    ],
  );
  const [first] = exchanges;
  assert.equal(first!.started.timeUnixMicros, FIRST_MICROS);
  assert.equal(first!.started.event.identity?.tokenSubject, 'alice');
  assert.equal(first!.decision?.event.outcome, 1);
  assert.deepEqual(first!.finished?.event.chunkTexts, [0, 0, 0]);
  assert.deepEqual(
    first!.frames.map((frame) => [frame.sequence, frame.kind, frame.status]),
    [
      [2, 'exchangeStarted', 'verified'],
      [3, 'decision', 'verified'],
      [4, 'exchangeFinished', 'verified'],
    ],
  );
  assert.deepEqual(
    first!.session?.frames.map((frame) => frame.kind),
    ['sessionOpened', 'sessionClosed'],
  );
  assert.equal(first!.session?.closed?.event.exchanges, 1);
});

test('filters by exchange, session, identity, time and log', async (t) => {
  const fixture = await writtenReplayLog(t);
  const second = new Date(SECOND_MICROS / 1000);

  assert.deepEqual(await idsOf(fixture, { exchangeId: 'ex-2' }), ['ex-2']);
  assert.deepEqual(await idsOf(fixture, { exchangeId: 'ex-9' }), []);
  assert.deepEqual(await idsOf(fixture, { sessionId: 's-1' }), ['ex-1']);
  assert.deepEqual(await idsOf(fixture, { identity: 'bob' }), ['ex-2']);
  assert.deepEqual(await idsOf(fixture, { identity: 'CN=alice' }), ['ex-1']);
  assert.deepEqual(await idsOf(fixture, { identity: ALICE_THUMBPRINT.slice(0, 12) }), ['ex-1']);
  assert.deepEqual(await idsOf(fixture, { identity: ALICE_THUMBPRINT.slice(0, 6) }), []);
  assert.deepEqual(await idsOf(fixture, { since: second }), ['ex-2']);
  assert.deepEqual(await idsOf(fixture, { until: new Date(second.getTime() - 1) }), ['ex-1']);
  assert.deepEqual(await idsOf(fixture, { since: second, until: second }), ['ex-2']);
  assert.deepEqual(await idsOf(fixture, { sessionId: 's-1', identity: 'bob' }), []);
  assert.deepEqual(await idsOf(fixture, { logId: REPLAY_LOG_ID }), ['ex-1', 'ex-2']);
  assert.deepEqual(await idsOf(fixture, { logId: 'other-gw' }), []);
});

test('a flipped byte breaks the exchange holding it and leaves the other verified', async (t) => {
  const fixture = await writtenReplayLog(t);
  flipByteOf(fixture.dir, SECOND_PROMPT);

  const { exchanges, report } = await replay(fixture);

  assert.equal(report.ok, false);
  assert.deepEqual(
    exchanges.map((exchange) => [exchange.exchangeId, exchangeStatus(exchange)]),
    [
      ['ex-1', 'verified'],
      ['ex-2', 'broken'],
    ],
  );
});

test('frames after the last checkpoint leave their exchange unsigned, not broken', async (t) => {
  const fixture = await writtenReplayLog(t);
  await cutLastRecord(fixture);

  const { exchanges, report } = await replay(fixture);

  assert.equal(report.ok, true);
  assert.deepEqual(
    exchanges.map((exchange) => [exchange.exchangeId, exchangeStatus(exchange)]),
    [
      ['ex-1', 'verified'],
      ['ex-2', 'unsigned'],
    ],
  );
  assert.match(
    transcriptLines(exchanges[1]!).at(-1)!,
    /^verification: +unsigned: 5 of 5 frames come after the last checkpoint$/,
  );
});

test('cuts the chunks from the response in order; a response without chunks is one', async (t) => {
  const fixture = await writtenReplayLog(t);
  const [first, second] = (await replay(fixture)).exchanges;

  const chunks = responseChunks(first!.finished!.event);

  const texts = CHUNK_ENDS.map((end, i) =>
    MASKED_RESPONSE.slice(i === 0 ? 0 : CHUNK_ENDS[i - 1], end),
  );
  assert.deepEqual(
    chunks.map((chunk) => [chunk.stream, chunk.atMs, chunk.bytes.toString('utf8'), chunk.whole]),
    texts.map((text, i) => ['text_output', CHUNK_AT_MS[i], text, true]),
  );
  const original = [{ stream: 'text_output', text: ORIGINAL_RESPONSE }];
  const unmasked = responseChunks(first!.finished!.event, original);
  assert.equal(Buffer.concat(unmasked.map((chunk) => chunk.bytes)).toString(), ORIGINAL_RESPONSE);
  const cut = responseChunks(first!.finished!.event, [{ stream: 'text_output', text: 'short' }]);
  assert.deepEqual(
    cut.map((chunk) => chunk.whole),
    [false, false, false],
  );
  const whole = { ...first!.finished!.event, chunkTexts: [], durationMs: 9 };
  assert.deepEqual(
    responseChunks(whole).map((chunk) => [chunk.atMs, chunk.bytes.toString()]),
    [[9, MASKED_RESPONSE]],
  );
  assert.deepEqual(responseChunks(second!.finished!.event), []);
});

test('reads the chunk messages of frames written before the packed chunk lists', async (t) => {
  const fixture = await writtenReplayLog(t);
  const [first] = (await replay(fixture)).exchanges;
  const current = first!.finished!.event;
  const chunks = CHUNK_ENDS.map((end, i) => {
    const offset = CHUNK_ENDS[i - 1] ?? 0;
    return { stream: 'text_output', offset, length: end - offset, atMs: CHUNK_AT_MS[i]! };
  });
  const { chunkTexts, chunkLengths, chunkAtMs, ...rest } = current;
  const older = encodeFrame({
    logId: REPLAY_LOG_ID,
    sequence: 1,
    timeUnixMicros: FIRST_MICROS,
    previousHash: Buffer.alloc(32),
    exchangeFinished: { ...rest, chunks },
  });
  const decoded = decodeFrame(older);
  assert.equal(decoded.kind, 'exchangeFinished');
  const read = decoded.body as ExchangeFinishedEvent;
  assert.deepEqual(read.chunkTexts ?? [], []);
  assert.deepEqual(
    recordedChunks(read),
    recordedChunks(current).map((c) => ({ ...c, text: undefined })),
  );
  assert.deepEqual(
    responseChunks(read).map((chunk) => [chunk.stream, chunk.atMs, chunk.bytes.toString()]),
    responseChunks(current).map((chunk) => [chunk.stream, chunk.atMs, chunk.bytes.toString()]),
  );
  assert.equal(chunkTexts?.length, chunkLengths?.length);
  assert.equal(chunkAtMs?.length, 3);
});

test("chunk pieces of two texts each start where that text's earlier pieces end", () => {
  const finished = {
    exchangeId: 'ex-9',
    status: 0,
    response: [
      { stream: 'choice 0', text: 'abcdef' },
      { stream: 'choice 1', text: 'uvwxyz' },
    ],
    chunkTexts: [0, 1, 0, 1],
    chunkLengths: [2, 3, 4, 3],
    chunkAtMs: [1, 2, 3, 4],
    durationMs: 5,
    requestBytes: 0,
    responseBytes: 0,
    requestMessages: 1,
    responseMessages: 4,
  };
  assert.deepEqual(
    responseChunks(finished).map((chunk) => [chunk.stream, chunk.atMs, chunk.bytes.toString()]),
    [
      ['choice 0', 1, 'ab'],
      ['choice 1', 2, 'uvw'],
      ['choice 0', 3, 'cdef'],
      ['choice 1', 4, 'xyz'],
    ],
  );
});

test('unseals the originals with the right key and names why another key fails', async (t) => {
  const fixture = await writtenReplayLog(t);
  const [first, second] = (await replay(fixture)).exchanges;
  const key = sealingPrivateKeyFromPem(fixture.sealing.privateKeyPem, 'test');
  const wrong = sealingPrivateKeyFromPem(generateSealingKeyPair().privateKeyPem, 'wrong');

  const opened = unsealExchange(first!, key);
  const refused = unsealExchange(first!, wrong);
  const moved = unsealExchange({ ...first!, exchangeId: 'ex-2' }, key);

  assert.deepEqual(opened.prompt, { opened: true, texts: [{ stream: '', text: ORIGINAL_PROMPT }] });
  assert.deepEqual(opened.response, {
    opened: true,
    texts: [{ stream: 'text_output', text: ORIGINAL_RESPONSE }],
  });
  assert.equal(refused.prompt?.opened, false);
  assert.match((refused.prompt as { reason: string }).reason, /is for key [0-9a-f]{16}, not key /);
  assert.equal(moved.response?.opened, false);
  assert.deepEqual(unsealExchange(second!, key), {
    prompt: undefined,
    laterPrompt: undefined,
    response: undefined,
  });
});

test('the transcript names who, what, the decision, the texts and the verification', async (t) => {
  const fixture = await writtenReplayLog(t);
  const [first, second] = (await replay(fixture)).exchanges;
  const key = sealingPrivateKeyFromPem(fixture.sealing.privateKeyPem, 'test');

  const lines = transcriptLines(first!, unsealExchange(first!, key));
  const denied = transcriptLines(second!);

  const value = (from: string[], label: string) =>
    from
      .find((line) => line.startsWith(`${label}:`))
      ?.slice(label.length + 1)
      .trim();
  assert.equal(value(lines, 'exchange'), 'ex-1');
  assert.equal(value(lines, 'time'), '2023-11-14T22:13:20.123456Z, finished after 31 ms');
  assert.equal(value(lines, 'log'), `${REPLAY_LOG_ID}, sequences 2, 3, 4`);
  assert.match(
    value(lines, 'session')!,
    /^s-1 on grpc from -, TLSv1\.3, opened .*, closed after 1/,
  );
  assert.equal(
    value(lines, 'who'),
    `alice, roles analyst, certificate CN=alice x5t#S256 ${ALICE_THUMBPRINT.slice(0, 12)}…`,
  );
  assert.equal(
    value(lines, 'what'),
    'kserve.ModelInfer on grpc (grpc), model llama-3b, route llama',
  );
  assert.equal(value(lines, 'decision'), 'allowed, role analyst');
  assert.equal(value(lines, 'prompt'), 'pay with **** **** **** 4242');
  assert.equal(value(lines, 'original prompt'), ORIGINAL_PROMPT);
  assert.equal(value(lines, 'response'), `[text_output] ${MASKED_RESPONSE}`);
  assert.equal(value(lines, 'original response'), `[text_output] ${ORIGINAL_RESPONSE}`);
  assert.equal(value(lines, 'status'), '0');
  assert.equal(value(lines, 'masked'), 'prompt pan 1, response pan 1');
  assert.equal(value(lines, 'verification'), 'verified (5 frames)');
  assert.equal(value(denied, 'decision'), 'denied, model_not_permitted');
  assert.equal(value(denied, 'status'), '403, model_not_permitted');
  assert.equal(value(lines, 'chunks'), '3, the last at 30 ms');
  assert.equal(value(denied, 'chunks'), 'none recorded');
  assert.equal(value(denied, 'original prompt'), undefined);
});

test('the transcript escapes terminal controls and indents the lines of a text', async (t) => {
  const fixture = await writtenReplayLog(t);
  const [first] = (await replay(fixture)).exchanges;
  const started = first!.started;
  const prompt = [{ stream: '', text: 'line one\n\u001b[2Jline two\u202e' }];
  const hostile = { ...first!, started: { ...started, event: { ...started.event, prompt } } };

  const lines = transcriptLines(hostile);

  const at = lines.findIndex((line) => line.startsWith('prompt:'));
  assert.match(lines[at]!, /^prompt: +line one$/);
  assert.equal(lines[at + 1], `${' '.repeat(20)}\\u{1b}[2Jline two\\u{202e}`);
  assert.ok(lines.every((line) => !/[\u001b\u202e]/.test(line)));
  assert.equal(printableText('a\tb\r'), 'a\tb\\u{d}');
});
