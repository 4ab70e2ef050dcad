// The terminal table's scenario part: the layer table, the table of every control on against
// direct and nginx with or without nginx, and the requirement section.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBenchArgs, type BenchSettings } from '../../bench/bench-settings';
import { formatTable } from '../../bench/report-table';
import { requirementChecks } from '../../bench/requirement-checks';
import { unaryScenario } from '../../bench/unary-scenario';
import { scenarioResult, spread } from './bench-results-fixture';

function settingsOf(args: string[]): BenchSettings {
  return (parseBenchArgs(['--quick', ...args]) as { settings: BenchSettings }).settings;
}

function unary(withNginx: boolean) {
  const latency = (lowMs: number) => ({ completed: 0, series: { latencyMs: spread(lowMs, 4) } });
  return scenarioResult(unaryScenario(64), {
    direct: { ...latency(1), completed: 1_000 },
    infergate: { ...latency(1.5), completed: 800 },
    secured: { ...latency(2), completed: 500 },
    ...(withNginx ? { nginx: { ...latency(1.2), completed: 900 } } : {}),
  });
}

/** The headings of the table of every control on (the line after its title), spaces collapsed. */
function deployedHeadings(table: string): string {
  const lines = table.split('\n');
  const title = lines.indexOf('every control on (secured) against direct and nginx');
  assert.notEqual(title, -1, 'the table of every control on is there');
  return lines[title + 1]!.trim().replace(/\s+/g, ' ');
}

test('compares secured with direct and nginx, and holds it to nginx, when nginx ran', () => {
  const results = [unary(true)];
  const nginx = { file: '/usr/sbin/nginx', version: 'nginx version: nginx/1.24.0' };
  const checks = requirementChecks(results, true);

  const table = formatTable(settingsOf([]), {}, results, { nginx, checks });

  assert.equal(
    deployedHeadings(table),
    'direct nginx n added n/direct secured s added s/direct s/nginx',
  );
  assert.match(
    table,
    /throughput \(req\/s\)\s+1000\.0\s+900\.0\s+0\.90x\s+500\.0\s+0\.50x\s+0\.56x/,
  );
  assert.match(table, /nginx: nginx version: nginx\/1\.24\.0, one worker/);
  assert.match(table, /secured \/ direct held to nginx \/ direct in this run/);
  assert.match(
    table,
    /unary-c64\s+secured \/ direct, req\/s\s+0\.50x >= 0\.90x\s+nginx \/ direct in this run\s+missed/,
  );
});

test('says nginx is not installed and leaves out its columns when it did not run', () => {
  const results = [unary(false)];
  const checks = requirementChecks(results, false);

  const table = formatTable(settingsOf([]), {}, results, { nginx: undefined, checks });

  assert.equal(deployedHeadings(table), 'direct secured s added s/direct');
  assert.match(table, /^nginx not installed: no nginx column$/m);
  assert.match(table, /nginx not measured: secured \/ direct held to the stated nginx ratios/);
});

test('says nginx was skipped with --no-nginx', () => {
  const results = [unary(false)];

  const table = formatTable(settingsOf(['--no-nginx']), {}, results, {
    nginx: undefined,
    checks: [],
  });

  assert.match(table, /^nginx skipped \(--no-nginx\): no nginx column$/m);
});
