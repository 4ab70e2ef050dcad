// The requirement's targets as the report checks them: ratios against nginx in the run or the
// stated reference, token gaps against nginx, time added to the first token, memory.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { httpChatScenario } from '../../bench/http-chat-scenario';
import { requirementChecks, type RequirementCheck } from '../../bench/requirement-checks';
import { rssStreamsScenario } from '../../bench/rss-streams-scenario';
import { streamScenario } from '../../bench/stream-scenario';
import { tlsHandshakeScenario } from '../../bench/tls-handshake-scenario';
import { unaryScenario } from '../../bench/unary-scenario';
import { scenarioResult, spread } from './bench-results-fixture';

/** A stream scenario's samples: `completed` streams, first tokens and gaps around the values. */
function streams(completed: number, firstTokenMs: number, gapMs: number) {
  return {
    completed,
    series: {
      firstTokenMs: spread(firstTokenMs, firstTokenMs),
      tokenGapMs: spread(gapMs, gapMs),
      streamMs: spread(10, 20),
    },
  };
}

function only(checks: readonly RequirementCheck[], what: string): RequirementCheck {
  const found = checks.filter((check) => check.what.startsWith(what));
  assert.equal(found.length, 1, `one check starting ${what}`);
  return found[0]!;
}

test('holds secured / direct to nginx / direct when nginx ran', () => {
  const result = scenarioResult(unaryScenario(64), {
    direct: { completed: 1_000 },
    secured: { completed: 700 },
    nginx: { completed: 800 },
  });

  const [check] = requirementChecks([result], true);

  assert.equal(check!.scenario, 'unary-c64');
  assert.equal(check!.value, 0.7);
  assert.equal(check!.limit, 0.8);
  assert.equal(check!.reference, 'nginx / direct in this run');
  assert.equal(check!.verdict, 'missed');
});

test('holds secured / direct to the stated reference of its family without nginx', () => {
  const unary = scenarioResult(unaryScenario(1), {
    direct: { completed: 1_000 },
    secured: { completed: 850 },
  });
  const chat = scenarioResult(httpChatScenario(1), {
    direct: { completed: 1_000 },
    secured: { completed: 600 },
  });

  const [unaryCheck, chatCheck] = requirementChecks([unary, chat], false);

  assert.deepEqual(
    [unaryCheck!.limit, unaryCheck!.verdict, unaryCheck!.reference],
    [0.8, 'met', 'stated nginx reference'],
  );
  assert.deepEqual([chatCheck!.limit, chatCheck!.verdict], [0.64, 'missed']);
});

test('says not measured when the secured target did not run', () => {
  const result = scenarioResult(unaryScenario(1), { direct: { completed: 1_000 } });

  assert.equal(requirementChecks([result], false)[0]!.verdict, 'not measured');
});

test('checks a stream scenario: rate, token gap p99 against nginx, first token added', () => {
  const result = scenarioResult(streamScenario(1), {
    direct: streams(100, 1, 0.01),
    secured: streams(90, 2.5, 0.2),
    nginx: streams(85, 1.2, 0.1),
  });

  const checks = requirementChecks([result], true);

  assert.equal(checks.length, 3);
  assert.equal(only(checks, 'secured / direct').verdict, 'met');
  const gap = only(checks, 'token gap p99');
  assert.deepEqual([gap.value, gap.limit, gap.verdict], [0.2, 0.1, 'missed']);
  const firstToken = only(checks, 'first token p50');
  assert.deepEqual([firstToken.value, firstToken.limit, firstToken.verdict], [1.5, 2, 'met']);
});

test('leaves the token gap not measured without nginx, and misses 2 ms added or more', () => {
  const result = scenarioResult(streamScenario(64), {
    direct: streams(100, 1, 0.01),
    secured: streams(90, 3, 0.01),
  });

  const checks = requirementChecks([result], false);

  assert.equal(only(checks, 'token gap p99').verdict, 'not measured');
  assert.equal(only(checks, 'first token p50').verdict, 'missed');
});

test('checks the plain and the secured gateway against 300 MB with the streams open', () => {
  const memory = (rssOpenMb: number) => ({
    completed: 1_000,
    series: { rssOpenMb: [rssOpenMb], rssBeforeMb: [80], perStreamKb: [50], openAllMs: [900] },
  });
  const result = scenarioResult(rssStreamsScenario(), {
    direct: memory(150),
    infergate: memory(134),
    secured: memory(463),
  });

  const checks = requirementChecks([result], false);

  assert.deepEqual(
    checks.map((check) => [check.what, check.value, check.verdict]),
    [
      ['rss, infergate', 134, 'met'],
      ['rss, secured', 463, 'missed'],
    ],
  );
});

test('checks nothing on TLS handshakes, for which nginx is no reference', () => {
  const result = scenarioResult(tlsHandshakeScenario(), {
    direct: { completed: 1_000 },
    secured: { completed: 100 },
  });

  assert.deepEqual(requirementChecks([result], false), []);
});
