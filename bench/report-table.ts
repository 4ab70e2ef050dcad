// The terminal table: the engine sections' figures, then per scenario and figure each target's
// value, the time each gateway layer adds, and the ratios between the layers.

import os from 'node:os';
import type { ScenarioResult, TargetResult } from './alternating-rounds';
import type { BenchSettings } from './bench-settings';
import { cpuRoleOf, cpuRolesFor, type TargetName } from './bench-targets';
import {
  compareFigures,
  cpuMicrosPerCompleted,
  cpuPercent,
  errorSum,
  errorTotals,
  measuredTargets,
  type FigureComparison,
} from './comparison';
import type {
  AuditSection,
  EngineFigure,
  EngineSections,
  EngineTarget,
  EngineUnit,
} from './engine-figure';
import { fileSystemOf } from './temp-dirs';

/** Wide enough for `cpu us/call client/demo/gw` and every figure label with its unit. */
const LABEL_WIDTH = 27;
/** Wide enough for the engines' labels with their unit. */
const ENGINE_LABEL_WIDTH = 48;
/** A target column is wide enough for a stream's CPU microseconds of three processes. */
const TARGET_WIDTH = 16;

/** A column: its heading, its width, and what a figure row shows in it. */
interface Column {
  readonly heading: string;
  readonly width: number;
  /** The target whose own values (errors, CPU) this column also shows; none for a comparison. */
  readonly target?: TargetName;
  readonly cell: (figure: FigureComparison) => string;
}

/** Columns of the engine sections: value, target, and met or missed. */
const ENGINE_COLUMNS: readonly Column[] = [
  { heading: 'value', width: 10, cell: () => '' },
  { heading: 'target', width: 10, cell: () => '' },
  { heading: '', width: 8, cell: () => '' },
];

/** Decimals of an engine figure that is not a whole number. */
const ENGINE_DIGITS: Record<EngineUnit, number> = {
  'MB/s': 0,
  'ns/chunk': 0,
  bytes: 0,
  frames: 1,
  'frames/s': 0,
  ms: 3,
};

/** How an engine target's bound is printed: `>= 1000` or `< 1000`. */
const BOUND_SIGNS: Record<EngineTarget['bound'], string> = { atLeast: '>=', below: '<' };

function formatNumber(value: number | undefined, digits: number): string {
  return value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);
}

/** A row of `cells` under `columns`; missing cells stay blank; an overlong cell keeps a space. */
function row(
  label: string,
  columns: readonly Column[],
  cells: readonly (string | undefined)[],
  labelWidth = LABEL_WIDTH,
): string {
  const values = columns.map(
    (column, index) => ` ${(cells[index] ?? '').padStart(column.width - 1)}`,
  );
  return `  ${label.padEnd(labelWidth)}${values.join('')}`.trimEnd();
}

function digitsOf(figure: FigureComparison): number {
  return figure.kind === 'throughput' ? 1 : 3;
}

/** A column of one target's value of each figure. */
function valueColumn(target: TargetName, pick: (figure: FigureComparison) => number | undefined) {
  const cell = (figure: FigureComparison) => formatNumber(pick(figure), digitsOf(figure));
  return { heading: target, width: TARGET_WIDTH, target, cell };
}

/** A column of time added, with its sign; blank for a throughput figure. */
function addedColumn(heading: string, pick: (figure: FigureComparison) => number | undefined) {
  const cell = (figure: FigureComparison) => {
    if (figure.kind === 'throughput') return '';
    const added = pick(figure);
    return added === undefined ? '-' : (added >= 0 ? '+' : '') + formatNumber(added, 3);
  };
  return { heading, width: heading.length + 2, cell };
}

/** A column of a ratio between two targets, `1.25x`. */
function ratioColumn(heading: string, pick: (figure: FigureComparison) => number | undefined) {
  const cell = (figure: FigureComparison) => {
    const ratio = pick(figure);
    return ratio === undefined || !Number.isFinite(ratio) ? '-' : `${formatNumber(ratio, 2)}x`;
  };
  return { heading, width: Math.max(heading.length + 2, 8), cell };
}

/**
 * The scenario columns for the measured targets: each target's value, then what it adds to the
 * layer below it (infergate to direct, masking to infergate, audit to masked), and the audited
 * gateway's ratio to direct.
 */
function scenarioColumns(targets: readonly TargetName[]): Column[] {
  const masked = targets.includes('masked');
  const columns: Column[] = [
    valueColumn('direct', (f) => f.direct),
    valueColumn('infergate', (f) => f.infergate),
    addedColumn('added', (f) => f.added),
    ratioColumn('ratio', (f) => f.ratio),
  ];
  if (masked) {
    columns.push(valueColumn('masked', (f) => f.masked));
    columns.push(ratioColumn('vs plain', (f) => f.maskedRatio));
  }
  if (targets.includes('audited')) {
    columns.push(valueColumn('audited', (f) => f.audited));
    if (masked) {
      columns.push(addedColumn('audit adds', (f) => f.auditedAdded));
      columns.push(ratioColumn('vs masked', (f) => f.auditedRatio));
    }
    columns.push(ratioColumn('vs direct', (f) => f.auditedDirectRatio));
  }
  return columns;
}

function figureRow(figure: FigureComparison, columns: readonly Column[]): string {
  const cells = columns.map((column) => column.cell(figure));
  return row(`${figure.label} (${figure.unit})`, columns, cells);
}

/** One row with a value per measured target, each under that target's column. */
function targetRow(
  label: string,
  columns: readonly Column[],
  result: ScenarioResult,
  cell: (target: TargetResult, name: TargetName) => string,
): string {
  const cells = columns.map((column) => {
    const target = column.target === undefined ? undefined : result.targets[column.target];
    return target === undefined ? undefined : cell(target, column.target!);
  });
  return row(label, columns, cells);
}

/** `client/demo/gw` of a target: the bench client, the demo server, the target's own gateway. */
function ownRolesCell(values: Record<string, number | undefined>, name: TargetName): string {
  const own = name === 'direct' ? '-' : formatNumber(values[cpuRoleOf(name)], 0);
  return `${formatNumber(values.client, 0)}/${formatNumber(values.demo, 0)}/${own}`;
}

/** The CPU % of every gateway but the target's own: about 0 when only the measured one works. */
function idleGatewaysCell(
  values: Record<string, number | undefined>,
  name: TargetName,
  roles: readonly string[],
): string {
  const idle = roles.filter((role) => role !== 'client' && role !== 'demo');
  const others = idle.filter((role) => name === 'direct' || role !== cpuRoleOf(name));
  if (others.some((role) => values[role] === undefined)) return '-';
  return formatNumber(
    others.reduce((sum, role) => sum + values[role]!, 0),
    0,
  );
}

/** The rows of one scenario: its figures, errors, and CPU of the measured processes. */
function scenarioBlock(
  result: ScenarioResult,
  columns: readonly Column[],
  roles: readonly string[],
): string[] {
  return [
    result.scenario.title,
    ...compareFigures(result).map((figure) => figureRow(figure, columns)),
    targetRow('errors', columns, result, (target) => String(target.samples.errors)),
    targetRow('cpu % client/demo/gw', columns, result, (target, name) =>
      ownRolesCell(cpuPercent(target), name),
    ),
    targetRow('cpu % idle gateways', columns, result, (target, name) =>
      idleGatewaysCell(cpuPercent(target), name, roles),
    ),
    targetRow('cpu us/call client/demo/gw', columns, result, (target, name) =>
      ownRolesCell(cpuMicrosPerCompleted(target), name),
    ),
    '',
  ];
}

/** One line per target that had errors, quoting the first, so the count has a cause. */
function firstErrors(results: readonly ScenarioResult[]): string[] {
  return results.flatMap(({ scenario, targets }) =>
    measuredTargets([{ scenario, targets }]).flatMap((name) => {
      const firstError = targets[name]?.samples.firstError;
      return firstError === undefined
        ? []
        : [`  ${scenario.id} ${name}: first error: ${firstError}`];
    }),
  );
}

/** An engine section: its title, each figure with its target and whether this run met it. */
function engineBlock(title: string, figures: readonly EngineFigure[]): string[] {
  const rows = figures.map((figure) => {
    const { target, met } = figure;
    const bound = target === undefined ? '-' : `${BOUND_SIGNS[target.bound]} ${target.value}`;
    const verdict = met === undefined ? '' : met ? 'met' : 'missed';
    const digits = Number.isInteger(figure.value) ? 0 : ENGINE_DIGITS[figure.unit];
    const cells = [formatNumber(figure.value, digits), bound, verdict];
    return row(`${figure.label} (${figure.unit})`, ENGINE_COLUMNS, cells, ENGINE_LABEL_WIDTH);
  });
  const headings = row(title, ENGINE_COLUMNS, ['value', 'target'], ENGINE_LABEL_WIDTH);
  return [headings, ...rows];
}

function auditEngineBlock(audit: AuditSection): string[] {
  return [
    ...engineBlock('audit log alone (AuditLog, segment files)', audit.figures),
    `  segment files in a temporary directory on ${audit.storage}; durable: after fdatasync`,
    '',
  ];
}

function scenarioHeader(settings: BenchSettings): string {
  const warmup = settings.warmupMs > 0 ? ` after a ${settings.warmupMs} ms warm-up` : '';
  return (
    `scenarios: ${settings.rounds} rounds x ${settings.durationMs} ms per target${warmup}; ` +
    `per target ${settings.channels} gRPC channels, one HTTP/1.1 connection per request in flight`
  );
}

/** Error totals per target, and what the targets and the CPU rows stand for. */
function scenarioFooter(targets: readonly TargetName[], results: readonly ScenarioResult[]) {
  const totals = errorTotals(results);
  const perTarget = targets.map((name) => `${name} ${totals[name]}`).join(', ');
  const masked = targets.includes('masked') ? ', masked --mask both' : '';
  const audited = targets.includes('audited')
    ? `, audited --mask both with its audit trail in ${os.tmpdir()} (${fileSystemOf(os.tmpdir())})`
    : '';
  return [
    `errors: ${errorSum(totals)} (${perTarget})`,
    `gateways: infergate --mask none${masked}${audited}`,
    'cpu % is of one core over the measured rounds, cpu us/call per completed call or stream; ' +
      "gw is the column's own gateway, idle gateways the others (about 0 when all is well)",
  ];
}

/** The scenarios' header, column headings, one block per scenario, and the footer. */
function scenarioSection(settings: BenchSettings, results: readonly ScenarioResult[]): string[] {
  const targets = measuredTargets(results);
  const columns = scenarioColumns(targets);
  const roles = cpuRolesFor(targets);

  const headings = row(
    '',
    columns,
    columns.map((column) => column.heading),
  );
  const blocks = results.flatMap((result) => scenarioBlock(result, columns, roles));
  const footer = scenarioFooter(targets, results);
  return [scenarioHeader(settings), '', headings, ...blocks, ...footer, ...firstErrors(results)];
}

/**
 * The whole table as printed on stdout: the engine sections measured, then the scenarios when
 * any ran. Ratios are infergate / direct, masked / infergate (`vs plain`), audited / masked
 * (`vs masked`) and audited / direct: below 1x for throughput is capacity lost, above 1x for a
 * latency is time added.
 */
export function formatTable(
  settings: BenchSettings,
  engines: EngineSections,
  results: readonly ScenarioResult[],
): string {
  const lines = ['infergate benchmark', ''];
  if (engines.masking !== undefined) {
    lines.push(...engineBlock('masking engine alone, best of 5 passes', engines.masking), '');
  }
  if (engines.audit !== undefined) lines.push(...auditEngineBlock(engines.audit));
  if (results.length > 0) lines.push(...scenarioSection(settings, results));
  return lines.join('\n').trimEnd();
}
