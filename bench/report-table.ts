// The terminal table: the masking engine's figures, then per scenario and figure each target's
// value, the time infergate adds, and the ratios infergate / direct and masked / infergate.

import type { ScenarioResult, TargetResult } from './alternating-rounds';
import type { BenchSettings } from './bench-settings';
import { cpuRolesFor, TARGET_NAMES, type TargetName } from './bench-targets';
import {
  compareFigures,
  cpuMicrosPerCompleted,
  cpuPercent,
  errorSum,
  errorTotals,
  measuredTargets,
  type FigureComparison,
} from './comparison';
import type { EngineFigure, EngineTarget } from './masking-engine';

/** Wide enough for `cpu us/call client/demo/gw/masked`. */
const LABEL_WIDTH = 34;
/** Wide enough for the engine's labels with their unit. */
const ENGINE_LABEL_WIDTH = 48;

/** A column of the scenario table: its heading and width. */
interface Column {
  readonly heading: string;
  readonly width: number;
}

/** A target column is wide enough for a stream's CPU microseconds of four processes. */
const TARGET_WIDTH = 18;
const DIRECT_COLUMNS: readonly Column[] = [
  { heading: 'direct', width: TARGET_WIDTH },
  { heading: 'infergate', width: TARGET_WIDTH },
  { heading: 'added', width: 10 },
  { heading: 'ratio', width: 8 },
];
const MASKED_COLUMNS: readonly Column[] = [
  { heading: 'masked', width: TARGET_WIDTH },
  { heading: 'vs plain', width: 10 },
];

/** Where each target's own value (errors, CPU) goes among the columns. */
const TARGET_COLUMN: Record<TargetName, number> = { direct: 0, infergate: 1, masked: 4 };

/** Short names of the CPU roles in row labels; the footer says what `gw` and `masked` are. */
const ROLE_LABELS: Record<string, string> = { gateway: 'gw', maskedGateway: 'masked' };

/** Columns of the engine section: value, target, and met or missed. */
const ENGINE_COLUMNS: readonly Column[] = [
  { heading: 'value', width: 10 },
  { heading: 'target', width: 10 },
  { heading: '', width: 8 },
];

/** How an engine target's bound is printed: `>= 1000` or `< 1000`. */
const BOUND_SIGNS: Record<EngineTarget['bound'], string> = { atLeast: '>=', below: '<' };

function formatNumber(value: number | undefined, digits: number): string {
  return value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);
}

/** A row of `cells` under `columns`; missing cells stay blank; an overlong cell keeps a space. */
function row(
  label: string,
  columns: readonly Column[],
  cells: readonly string[],
  labelWidth = LABEL_WIDTH,
): string {
  const values = columns.map(
    (column, index) => ` ${(cells[index] ?? '').padStart(column.width - 1)}`,
  );
  return `  ${label.padEnd(labelWidth)}${values.join('')}`.trimEnd();
}

/** The time added as printed, with its sign; empty for a throughput figure. */
function addedCell(added: number | undefined, digits: number): string {
  if (added === undefined) return '';
  return (added >= 0 ? '+' : '') + formatNumber(added, digits);
}

function figureRow(figure: FigureComparison, columns: readonly Column[]): string {
  const digits = figure.kind === 'throughput' ? 1 : 3;
  const cells = [
    formatNumber(figure.direct, digits),
    formatNumber(figure.infergate, digits),
    addedCell(figure.added, digits),
    `${formatNumber(figure.ratio, 2)}x`,
  ];
  if (figure.masked !== undefined) {
    cells.push(formatNumber(figure.masked, digits), `${formatNumber(figure.maskedRatio, 2)}x`);
  }
  return row(`${figure.label} (${figure.unit})`, columns, cells);
}

/** One row with a value per measured target, each under that target's column. */
function targetRow(
  label: string,
  columns: readonly Column[],
  result: ScenarioResult,
  cell: (target: TargetResult) => string,
): string {
  const cells: string[] = [];
  for (const name of TARGET_NAMES) {
    const target = result.targets[name];
    if (target !== undefined) cells[TARGET_COLUMN[name]] = cell(target);
  }
  return row(label, columns, cells);
}

/** The scenario rows of one scenario, with the CPU of `roles` in each target's column. */
function scenarioBlock(
  result: ScenarioResult,
  columns: readonly Column[],
  roles: readonly string[],
): string[] {
  const rolesCell = (values: Record<string, number | undefined>) =>
    roles.map((role) => formatNumber(values[role], 0)).join('/');
  const roleNames = roles.map((role) => ROLE_LABELS[role] ?? role).join('/');
  return [
    result.scenario.title,
    ...compareFigures(result).map((figure) => figureRow(figure, columns)),
    targetRow('errors', columns, result, (target) => String(target.samples.errors)),
    targetRow(`cpu % ${roleNames}`, columns, result, (target) => rolesCell(cpuPercent(target))),
    targetRow(`cpu us/call ${roleNames}`, columns, result, (target) =>
      rolesCell(cpuMicrosPerCompleted(target)),
    ),
    '',
  ];
}

/** One line per target that had errors, quoting the first, so the count has a cause. */
function firstErrors(results: readonly ScenarioResult[]): string[] {
  return results.flatMap(({ scenario, targets }) =>
    TARGET_NAMES.flatMap((name) => {
      const firstError = targets[name]?.samples.firstError;
      return firstError === undefined
        ? []
        : [`  ${scenario.id} ${name}: first error: ${firstError}`];
    }),
  );
}

/** The engine section: each figure with its target and whether this run met it. */
function engineBlock(figures: readonly EngineFigure[]): string[] {
  const rows = figures.map((figure) => {
    const { target, met } = figure;
    const bound = target === undefined ? '-' : `${BOUND_SIGNS[target.bound]} ${target.value}`;
    const verdict = met === undefined ? '' : met ? 'met' : 'missed';
    const cells = [formatNumber(figure.value, 0), bound, verdict];
    return row(`${figure.label} (${figure.unit})`, ENGINE_COLUMNS, cells, ENGINE_LABEL_WIDTH);
  });
  const title = 'masking engine alone, best of 5 passes';
  const headings = row(title, ENGINE_COLUMNS, ['value', 'target'], ENGINE_LABEL_WIDTH);
  return [headings, ...rows, ''];
}

function scenarioHeader(settings: BenchSettings): string {
  const warmup = settings.warmupMs > 0 ? ` after a ${settings.warmupMs} ms warm-up` : '';
  return (
    `scenarios: ${settings.rounds} rounds x ${settings.durationMs} ms per target${warmup}; ` +
    `per target ${settings.channels} gRPC channels, one HTTP/1.1 connection per request in flight`
  );
}

/** Error totals per target, and what the CPU rows' short role names stand for. */
function scenarioFooter(targets: readonly TargetName[], results: readonly ScenarioResult[]) {
  const totals = errorTotals(results);
  const perTarget = targets.map((name) => `${name} ${totals[name]}`).join(', ');
  const masked = targets.includes('masked') ? ', masked the masking one (--mask both)' : '';
  return [
    `errors: ${errorSum(totals)} (${perTarget}); cpu % is of one core over the measured rounds, ` +
      'cpu us/call per completed call or stream',
    `gw is the plain gateway (infergate, --mask none)${masked}`,
  ];
}

/** The scenarios' header, column headings, one block per scenario, and the footer. */
function scenarioSection(settings: BenchSettings, results: readonly ScenarioResult[]): string[] {
  const targets = measuredTargets(results);
  const masked = targets.includes('masked');
  const columns = masked ? [...DIRECT_COLUMNS, ...MASKED_COLUMNS] : DIRECT_COLUMNS;
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
 * The whole table as printed on stdout: the engine section when measured, then the scenarios
 * when any ran. Ratios are infergate / direct and masked / infergate (`vs plain`): below 1x for
 * throughput is capacity lost, above 1x for a latency is time added.
 */
export function formatTable(
  settings: BenchSettings,
  engine: readonly EngineFigure[] | undefined,
  results: readonly ScenarioResult[],
): string {
  const lines = ['infergate benchmark', ''];
  if (engine !== undefined) lines.push(...engineBlock(engine));
  if (results.length > 0) lines.push(...scenarioSection(settings, results));
  return lines.join('\n').trimEnd();
}
