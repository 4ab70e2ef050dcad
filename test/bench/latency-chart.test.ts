// The run's SVG chart: a well-formed document with one series per target in each panel.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { latencyChart } from '../../bench/latency-chart';
import { rssStreamsScenario } from '../../bench/rss-streams-scenario';
import { streamScenario } from '../../bench/stream-scenario';
import { unaryScenario } from '../../bench/unary-scenario';
import { scenarioResult, spread } from './bench-results-fixture';

/** One tag: its name, whether it closes or is self-closing, its attributes quoted. */
const TAG = /^<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>$/;

/**
 * Throws unless `svg` is well formed as far as an SVG file of this bench goes: one XML
 * declaration, tags that parse with quoted attributes, each closed in order, and text without a
 * raw `<` or an `&` that starts no entity. Returns the root element's name.
 */
function checkWellFormed(svg: string): string {
  assert.ok(svg.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n'));
  const body = svg.slice(svg.indexOf('\n') + 1);
  const open: string[] = [];
  let root: string | undefined;
  for (const piece of body.split(/(<[^>]*>)/)) {
    if (!piece.startsWith('<')) {
      assert.doesNotMatch(piece, /<|&(?!amp;|lt;|gt;|quot;)/, `raw text: ${piece}`);
      continue;
    }
    const match = TAG.exec(piece);
    assert.ok(match !== null, `tag does not parse: ${piece}`);
    const [, closing, name, , selfClosing] = match;
    if (closing === '/') assert.equal(open.pop(), name, `misnested ${piece}`);
    else if (selfClosing !== '/') open.push(name!);
    root ??= name;
  }
  assert.deepEqual(open, [], 'elements left open');
  return root!;
}

function streamSamples(firstTokenMs: number) {
  return {
    completed: 50,
    series: {
      firstTokenMs: spread(firstTokenMs, firstTokenMs * 4),
      // Events read in one chunk are 0 ms apart, which a log scale cannot place.
      tokenGapMs: [0, 0, ...spread(0.002, 0.3)],
      streamMs: spread(5, 40),
    },
  };
}

function runResults() {
  const unary = { ...unaryScenario(1), title: 'ModelInfer <echo> & more, c=1' };
  return [
    scenarioResult(unary, {
      direct: { completed: 100, series: { latencyMs: spread(0.5, 3) } },
      infergate: { completed: 90, series: { latencyMs: spread(0.8, 4) } },
      secured: { completed: 60, series: { latencyMs: spread(1.5, 12) } },
    }),
    scenarioResult(streamScenario(64), {
      direct: streamSamples(1),
      secured: streamSamples(2),
    }),
    scenarioResult(rssStreamsScenario(), {
      direct: { completed: 1_000, series: { rssOpenMb: [150] } },
      secured: { completed: 1_000, series: { rssOpenMb: [180] } },
    }),
  ];
}

test('is a well-formed SVG document with escaped text and no NaN', () => {
  const svg = latencyChart(runResults(), 'run of today');

  assert.equal(checkWellFormed(svg), 'svg');
  assert.match(svg, /<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" /);
  assert.match(svg, /ModelInfer &lt;echo&gt; &amp; more/);
  assert.doesNotMatch(svg, /NaN|Infinity/);
});

test('draws one series per target in each panel, one panel per recorded series', () => {
  const svg = latencyChart(runResults(), 'run of today');

  const series = [...svg.matchAll(/<g class="series" data-target="(\w+)" data-panel="([^"]*)"/g)];
  const byPanel = new Map<string, string[]>();
  for (const [, target, panel] of series) {
    byPanel.set(panel!, [...(byPanel.get(panel!) ?? []), target!]);
  }
  assert.deepEqual(
    [...byPanel.entries()].map(([panel, targets]) => [panel.split(' (')[0], targets]),
    [
      ['unary-c1: latency', ['direct', 'infergate', 'secured']],
      ['stream-c64: time to first token', ['direct', 'secured']],
      ['stream-c64: gap between tokens', ['direct', 'secured']],
      ['stream-c64: whole stream', ['direct', 'secured']],
    ],
  );
});

test('gives a scenario measured once, which has no distribution, no panel', () => {
  const svg = latencyChart(runResults(), 'run of today');

  assert.doesNotMatch(svg, /rss-streams/);
});
