// The terminal table: per scenario and figure, direct, through infergate, added time, ratio.

import { TARGET_NAMES, type ScenarioResult } from './alternating-rounds';
import type { BenchSettings } from './bench-settings';
import {
  compareFigures,
  cpuMicrosPerCompleted,
  cpuPercent,
  errorTotals,
  type FigureComparison,
} from './comparison';

const LABEL_WIDTH = 32;
/** Wide enough for a stream's CPU microseconds of three processes (`2960/1560/2950`). */
const VALUE_WIDTH = 15;

/** Process roles in the order the CPU row lists them. */
const CPU_ROLES = ['client', 'demo', 'gateway'];

function formatNumber(value: number | undefined, digits: number): string {
  return value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);
}

function row(label: string, cells: readonly string[]): string {
  const values = cells.map((cell) => cell.padStart(VALUE_WIDTH)).join('');
  return `  ${label.padEnd(LABEL_WIDTH)}${values}`;
}

function figureRow(figure: FigureComparison): string {
  const digits = figure.kind === 'throughput' ? 1 : 3;
  const sign = figure.added !== undefined && figure.added >= 0 ? '+' : '';
  const added = figure.added === undefined ? '' : sign + formatNumber(figure.added, digits);
  return row(`${figure.label} (${figure.unit})`, [
    formatNumber(figure.direct, digits),
    formatNumber(figure.infergate, digits),
    added,
    `${formatNumber(figure.ratio, 2)}x`,
  ]);
}

/** `client/demo/gateway` figures rounded to whole numbers, `-` where unknown. */
function rolesCell(values: Record<string, number | undefined>): string {
  return CPU_ROLES.map((role) => formatNumber(values[role], 0)).join('/');
}

function scenarioBlock(result: ScenarioResult): string[] {
  const { targets } = result;
  return [
    result.scenario.title,
    ...compareFigures(result).map(figureRow),
    row(
      'errors',
      TARGET_NAMES.map((name) => String(targets[name].samples.errors)),
    ),
    row(
      'cpu % client/demo/gateway',
      TARGET_NAMES.map((name) => rolesCell(cpuPercent(targets[name]))),
    ),
    row(
      'cpu us/call client/demo/gateway',
      TARGET_NAMES.map((name) => rolesCell(cpuMicrosPerCompleted(targets[name]))),
    ),
    '',
  ];
}

/** One line per target that had errors, quoting the first, so the count has a cause. */
function firstErrors(results: readonly ScenarioResult[]): string[] {
  return results.flatMap(({ scenario, targets }) =>
    TARGET_NAMES.filter((name) => targets[name].samples.firstError !== undefined).map(
      (name) => `  ${scenario.id} ${name}: first error: ${targets[name].samples.firstError}`,
    ),
  );
}

/**
 * The whole table as printed on stdout. Ratios are infergate / direct: below 1x for
 * throughput is capacity lost, above 1x for a latency is time added.
 */
export function formatTable(settings: BenchSettings, results: readonly ScenarioResult[]): string {
  const totals = errorTotals(results);
  const warmup = settings.warmupMs > 0 ? ` after a ${settings.warmupMs} ms warm-up` : '';
  const header =
    `infergate benchmark: ${settings.rounds} rounds x ${settings.durationMs} ms per ` +
    `target${warmup}; per target ${settings.channels} gRPC channels, ` +
    'one HTTP/1.1 connection per request in flight';
  const footer =
    `errors: ${totals.direct + totals.infergate} ` +
    `(direct ${totals.direct}, infergate ${totals.infergate}); ` +
    'cpu % is of one core over the measured rounds, cpu us/call per completed call or stream';
  const headings = row('', ['direct', 'infergate', 'added', 'ratio']);
  const blocks = results.flatMap(scenarioBlock);
  return [header, '', headings, ...blocks, footer, ...firstErrors(results)].join('\n');
}
