// The columns of the terminal table and the rows of one scenario under them: each target's value,
// the time a layer adds, ratios between targets, errors and CPU.

import type { ScenarioResult, TargetResult } from './alternating-rounds';
import { cpuRoleOf, type TargetName } from './bench-targets';
import {
  compareFigures,
  cpuMicrosPerCompleted,
  cpuPercent,
  type FigureComparison,
} from './comparison';

/** Wide enough for `cpu us/call client/demo/gw` and every figure label with its unit. */
export const LABEL_WIDTH = 27;
/** A target column is wide enough for a stream's CPU microseconds of three processes. */
const TARGET_WIDTH = 16;

/** A column: its heading, its width, and what a figure row shows in it. */
export interface Column {
  readonly heading: string;
  readonly width: number;
  /** The target whose own values (errors, CPU) this column also shows; none for a comparison. */
  readonly target?: TargetName;
  readonly cell: (figure: FigureComparison) => string;
}

export function formatNumber(value: number | undefined, digits: number): string {
  return value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);
}

/** A row of `cells` under `columns`; missing cells stay blank; an overlong cell keeps a space. */
export function row(
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

/** Decimals of a figure: rates and memory to a tenth, times to a microsecond. */
function digitsOf(figure: FigureComparison): number {
  return figure.kind === 'latency' ? 3 : 1;
}

/** A column of one target's value of each figure. */
export function valueColumn(
  target: TargetName,
  pick: (figure: FigureComparison) => number | undefined,
): Column {
  const cell = (figure: FigureComparison) => formatNumber(pick(figure), digitsOf(figure));
  return { heading: target, width: TARGET_WIDTH, target, cell };
}

/** A column of time added, with its sign; blank for a figure that is not a latency. */
export function addedColumn(
  heading: string,
  pick: (figure: FigureComparison) => number | undefined,
): Column {
  const cell = (figure: FigureComparison) => {
    if (figure.kind !== 'latency') return '';
    const added = pick(figure);
    return added === undefined ? '-' : (added >= 0 ? '+' : '') + formatNumber(added, 3);
  };
  return { heading, width: heading.length + 2, cell };
}

/** A column of a ratio between two targets, `1.25x`. */
export function ratioColumn(
  heading: string,
  pick: (figure: FigureComparison) => number | undefined,
): Column {
  const cell = (figure: FigureComparison) => {
    const ratio = pick(figure);
    return ratio === undefined || !Number.isFinite(ratio) ? '-' : `${formatNumber(ratio, 2)}x`;
  };
  return { heading, width: Math.max(heading.length + 2, 8), cell };
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

/** `client/demo/gw` of a target: the bench client, the demo server, the target's own proxy. */
function ownRolesCell(values: Record<string, number | undefined>, name: TargetName): string {
  const own = name === 'direct' ? '-' : formatNumber(values[cpuRoleOf(name)], 0);
  return `${formatNumber(values.client, 0)}/${formatNumber(values.demo, 0)}/${own}`;
}

/** The CPU % of every proxy but the target's own: about 0 when only the measured one works. */
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

/** The rows of one scenario under `columns`: its figures, errors, and CPU of the processes. */
export function scenarioBlock(
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
