// The run's latency distributions as one self-contained SVG: per scenario and recorded series, a
// row per target from p50 to max on a log scale, written as plain text with no dependency.

import type { ScenarioResult } from './alternating-rounds';
import type { TargetName } from './bench-targets';
import { distributions, measuredTargets } from './comparison';
import type { LatencySummary } from './stats';

const WIDTH = 1_000;
/** Target names end here; the plot runs between PLOT_LEFT and PLOT_RIGHT; figures follow it. */
const NAME_RIGHT = 100;
const PLOT_LEFT = 110;
const PLOT_RIGHT = 680;
const FIGURES_LEFT = 692;
const HEADER_HEIGHT = 64;
const PANEL_TITLE_HEIGHT = 22;
const ROW_HEIGHT = 16;
const AXIS_HEIGHT = 26;
const PANEL_GAP = 8;
/** Times under this are drawn at it: a log scale has no zero, and a token gap can be 0 ms. */
const FLOOR_MS = 0.001;

/** One colour per target, the same in every chart. */
const TARGET_COLORS: Readonly<Record<TargetName, string>> = {
  direct: '#4d4d4d',
  infergate: '#1f77b4',
  masked: '#2ca02c',
  audited: '#9467bd',
  secured: '#d62728',
  nginx: '#ff7f0e',
};

/** What each recorded series is called in panel titles; others keep their own name. */
const SERIES_LABELS: Readonly<Record<string, string>> = {
  latencyMs: 'latency',
  firstTokenMs: 'time to first token',
  tokenGapMs: 'gap between tokens',
  streamMs: 'whole stream',
};

/** One target's distribution of one series. */
interface ChartRow {
  readonly target: TargetName;
  readonly summary: LatencySummary;
}

/** One scenario's series: a title and a row per target that recorded samples of it. */
interface ChartPanel {
  readonly title: string;
  readonly rows: readonly ChartRow[];
}

/** A log10 scale from `lo` to `hi` ms, whole decades, onto the plot's x range. */
interface LogScale {
  readonly lo: number;
  readonly hi: number;
}

function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** A time as the figures print it: three significant digits, at most three decimals. */
function formatMs(value: number): string {
  if (!Number.isFinite(value)) return '-';
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value >= 1 ? value.toFixed(2) : value.toFixed(3);
}

/** The panels of every scenario that records distributions (not a once-measured workload). */
function panelsOf(results: readonly ScenarioResult[]): ChartPanel[] {
  const panels: ChartPanel[] = [];
  for (const result of results) {
    if (result.scenario.measuredOnce === true) continue;
    const targets = measuredTargets([result]);
    const summaries = targets.map((target) => distributions(result.targets[target]!));
    const names = [...new Set(summaries.flatMap((summary) => Object.keys(summary)))];
    for (const name of names) {
      const rows: ChartRow[] = [];
      targets.forEach((target, index) => {
        const summary = summaries[index]![name];
        if (summary !== undefined && summary.count > 0) rows.push({ target, summary });
      });
      const title = `${result.scenario.id}: ${SERIES_LABELS[name] ?? name} (${result.scenario.title})`;
      if (rows.length > 0) panels.push({ title, rows });
    }
  }
  return panels;
}

/** Whole decades around every row's p50 to max, at least one decade wide. */
function scaleOf(rows: readonly ChartRow[]): LogScale {
  const low = Math.min(...rows.map((row) => Math.max(FLOOR_MS, row.summary.p50)));
  const high = Math.max(...rows.map((row) => Math.max(FLOOR_MS, row.summary.max)));
  const lo = 10 ** Math.floor(Math.log10(low));
  const hi = 10 ** Math.ceil(Math.log10(high));
  return { lo, hi: hi > lo ? hi : lo * 10 };
}

function xOf(scale: LogScale, valueMs: number): number {
  const span = Math.log10(scale.hi) - Math.log10(scale.lo);
  const offset = Math.log10(Math.max(FLOOR_MS, valueMs)) - Math.log10(scale.lo);
  return Number((PLOT_LEFT + ((PLOT_RIGHT - PLOT_LEFT) * offset) / span).toFixed(1));
}

/**
 * One target's row: a thin line from p50 to max, a bar from p50 to p99, a tick at p90 and a dot
 * at p50, then the four figures as text.
 */
function rowSvg(row: ChartRow, y: number, scale: LogScale, panel: string): string {
  const { p50, p90, p99, max } = row.summary;
  const color = TARGET_COLORS[row.target];
  const [x50, x90, x99, xMax] = [p50, p90, p99, max].map((value) => xOf(scale, value));
  const figures =
    `p50 ${formatMs(p50)}  p90 ${formatMs(p90)}  ` +
    `p99 ${formatMs(p99)}  max ${formatMs(max)} ms`;
  return [
    `<g class="series" data-target="${row.target}" data-panel="${escapeXml(panel)}">`,
    `<text x="${NAME_RIGHT}" y="${y + 4}" text-anchor="end">${row.target}</text>`,
    `<line x1="${x50}" y1="${y}" x2="${xMax}" y2="${y}" stroke="${color}" stroke-width="1"/>`,
    `<rect x="${x50}" y="${y - 4}" width="${(x99 - x50).toFixed(1)}" height="8" ` +
      `fill="${color}" fill-opacity="0.45"/>`,
    `<line x1="${x90}" y1="${y - 6}" x2="${x90}" y2="${y + 6}" stroke="${color}" stroke-width="2"/>`,
    `<circle cx="${x50}" cy="${y}" r="3" fill="${color}"/>`,
    `<text x="${FIGURES_LEFT}" y="${y + 4}">${figures}</text>`,
    '</g>',
  ].join('');
}

/** The x axis under a panel: a tick and a label at every decade. */
function axisSvg(y: number, scale: LogScale): string {
  const parts = [`<line x1="${PLOT_LEFT}" y1="${y}" x2="${PLOT_RIGHT}" y2="${y}" stroke="#999"/>`];
  for (let decade = scale.lo; decade <= scale.hi * 1.000001; decade *= 10) {
    const x = xOf(scale, decade);
    const label = `${Number(decade.toPrecision(1))} ms`;
    parts.push(`<line x1="${x}" y1="${y}" x2="${x}" y2="${y + 4}" stroke="#999"/>`);
    parts.push(`<text x="${x}" y="${y + 16}" text-anchor="middle" class="axis">${label}</text>`);
  }
  return parts.join('');
}

function panelSvg(panel: ChartPanel, top: number): { svg: string; height: number } {
  const scale = scaleOf(panel.rows);
  const parts = [`<text x="8" y="${top + 15}" class="panel">${escapeXml(panel.title)}</text>`];
  panel.rows.forEach((row, index) => {
    const y = top + PANEL_TITLE_HEIGHT + index * ROW_HEIGHT + ROW_HEIGHT / 2;
    parts.push(rowSvg(row, y, scale, panel.title));
  });
  const axisTop = top + PANEL_TITLE_HEIGHT + panel.rows.length * ROW_HEIGHT + 4;
  parts.push(axisSvg(axisTop, scale));
  return { svg: parts.join('\n'), height: axisTop + AXIS_HEIGHT + PANEL_GAP - top };
}

/** The heading: what the chart is, how a row reads, and each target's colour. */
function headerSvg(subtitle: string, targets: readonly TargetName[]): string {
  const legend = targets.map((target, index) => {
    const x = 8 + index * 110;
    const color = TARGET_COLORS[target];
    const swatch = `<rect x="${x}" y="44" width="10" height="10" fill="${color}"/>`;
    return `${swatch}<text x="${x + 14}" y="53">${target}</text>`;
  });
  return [
    `<text x="8" y="18" class="title">infergate benchmark: latency distributions</text>`,
    `<text x="8" y="34">${escapeXml(subtitle)}. Per row: dot p50, bar to p99, tick p90, line to ` +
      `max; log scale, times under ${FLOOR_MS} ms drawn at ${FLOOR_MS} ms.</text>`,
    ...legend,
  ].join('\n');
}

/**
 * The SVG document of `results`' latency distributions: one panel per scenario and recorded
 * series, one `<g class="series" data-target="...">` per target in it, in round order. A
 * scenario measured once (rss-streams) has no distribution and no panel. `subtitle` says which
 * run it is.
 */
export function latencyChart(results: readonly ScenarioResult[], subtitle: string): string {
  const panels = panelsOf(results);
  const parts: string[] = [headerSvg(subtitle, measuredTargets(results))];
  let top = HEADER_HEIGHT;
  for (const panel of panels) {
    const drawn = panelSvg(panel, top);
    parts.push(drawn.svg);
    top += drawn.height;
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${top}" viewBox="0 0 ${WIDTH} ${top}">`,
    '<style>text{font:11px sans-serif;fill:#222}.title{font-size:14px;font-weight:bold}' +
      '.panel{font-size:12px;font-weight:bold}.axis{font-size:10px;fill:#666}</style>',
    `<rect width="${WIDTH}" height="${top}" fill="#fff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
