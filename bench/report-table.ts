// The terminal table: the engine sections' figures; per scenario what each gateway layer adds
// (plain, masking, audit); every control on (secured) against direct and nginx; and the
// requirement's targets, met or missed.

import os from 'node:os';
import type { ScenarioResult } from './alternating-rounds';
import type { BenchSettings } from './bench-settings';
import { cpuRolesFor, type TargetName } from './bench-targets';
import { errorSum, errorTotals, measuredTargets } from './comparison';
import type {
  AuditSection,
  EngineFigure,
  EngineSections,
  EngineTarget,
  EngineUnit,
} from './engine-figure';
import type { NginxInstall } from './nginx-target';
import {
  addedColumn,
  formatNumber,
  ratioColumn,
  row,
  scenarioBlock,
  valueColumn,
  type Column,
} from './report-columns';
import { requirementSection } from './report-requirements';
import type { RequirementCheck } from './requirement-checks';
import { fileSystemOf } from './temp-dirs';

/** Wide enough for the engines' labels with their unit. */
const ENGINE_LABEL_WIDTH = 48;

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

/**
 * The layer columns for the measured targets: each cleartext gateway's value, then what it adds
 * to the layer below it (infergate to direct, masking to infergate, audit to masked), and the
 * audited gateway's ratio to direct.
 */
function layerColumns(targets: readonly TargetName[]): Column[] {
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

/**
 * The deployed columns: direct, nginx with what it adds and its ratio to direct, the secured
 * gateway with the same, and secured / nginx when both ran.
 */
function deployedColumns(targets: readonly TargetName[]): Column[] {
  const columns: Column[] = [valueColumn('direct', (f) => f.direct)];
  if (targets.includes('nginx')) {
    columns.push(valueColumn('nginx', (f) => f.nginx));
    columns.push(addedColumn('n added', (f) => f.nginxAdded));
    columns.push(ratioColumn('n/direct', (f) => f.nginxRatio));
  }
  if (targets.includes('secured')) {
    columns.push(valueColumn('secured', (f) => f.secured));
    columns.push(addedColumn('s added', (f) => f.securedAdded));
    columns.push(ratioColumn('s/direct', (f) => f.securedDirectRatio));
    if (targets.includes('nginx')) columns.push(ratioColumn('s/nginx', (f) => f.securedNginxRatio));
  }
  return columns;
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

function scenarioHeader(settings: BenchSettings, results: readonly ScenarioResult[]): string {
  const warmup = settings.warmupMs > 0 ? ` after a ${settings.warmupMs} ms warm-up` : '';
  const once = results
    .filter((result) => result.scenario.measuredOnce === true)
    .map((result) => result.scenario.id);
  const onceNote = once.length === 0 ? '' : ` (${once.join(', ')}: one round)`;
  return (
    `scenarios: ${settings.rounds} rounds x ${settings.durationMs} ms per target${warmup}` +
    `${onceNote}; per target ${settings.channels} gRPC channels, one HTTP/1.1 connection per ` +
    'request in flight'
  );
}

/** Column headings, then one block per scenario under `columns`. */
function scenarioBlocks(results: readonly ScenarioResult[], columns: readonly Column[]) {
  const roles = cpuRolesFor(measuredTargets(results));
  const headings = row(
    '',
    columns,
    columns.map((column) => column.heading),
  );
  return [headings, ...results.flatMap((result) => scenarioBlock(result, columns, roles))];
}

/** What the layer table's gateways are, and what its CPU rows stand for. */
function layerFooter(targets: readonly TargetName[]): string[] {
  const masked = targets.includes('masked') ? ', masked --mask both' : '';
  const audited = targets.includes('audited')
    ? `, audited --mask both with its audit trail in ${os.tmpdir()} (${fileSystemOf(os.tmpdir())})`
    : '';
  return [
    `gateways: infergate --mask none${masked}${audited}; all cleartext, no tokens (--insecure)`,
    'cpu % is of one core over the measured rounds, cpu us/call per completed call or stream; ' +
      "gw is the column's own gateway or nginx, idle gateways the others (about 0 when all is well)",
  ];
}

/** Why the deployed table has or lacks its nginx columns, and what secured is. */
function deployedFooter(
  targets: readonly TargetName[],
  settings: BenchSettings,
  nginx?: NginxInstall,
) {
  const lines: string[] = [];
  if (targets.includes('secured')) {
    lines.push(
      'secured: audited plus mTLS (client certificate required) and a bound token with a role on ' +
        'both listeners; direct and nginx are cleartext, so s/direct includes TLS',
    );
  }
  if (targets.includes('nginx')) {
    lines.push(
      `nginx: ${nginx?.version ?? 'unknown'}, one worker, grpc_pass (h2c) and proxy_pass (HTTP/1.1 keep-alive, buffering off)`,
    );
  } else {
    lines.push(
      settings.nginx
        ? 'nginx not installed: no nginx column'
        : 'nginx skipped (--no-nginx): no nginx column',
    );
  }
  return lines;
}

/** The layer table, then, when secured or nginx ran, the deployed table. */
function scenarioSection(
  settings: BenchSettings,
  results: readonly ScenarioResult[],
  nginx: NginxInstall | undefined,
): string[] {
  const targets = measuredTargets(results);
  const totals = errorTotals(results);
  const perTarget = targets.map((name) => `${name} ${totals[name]}`).join(', ');
  const lines = [
    scenarioHeader(settings, results),
    '',
    'what each layer adds: infergate against direct, masking against infergate, audit against masked',
    ...scenarioBlocks(results, layerColumns(targets)),
    ...layerFooter(targets),
  ];
  if (targets.includes('secured') || targets.includes('nginx')) {
    lines.push('', 'every control on (secured) against direct and nginx');
    lines.push(...scenarioBlocks(results, deployedColumns(targets)));
  }
  lines.push(...deployedFooter(targets, settings, nginx));
  lines.push(`errors: ${errorSum(totals)} (${perTarget})`, ...firstErrors(results));
  return lines;
}

/** What the table shows besides the settings and the measured figures. */
export interface TableFacts {
  /** nginx as found on PATH; undefined when it is not installed. */
  readonly nginx: NginxInstall | undefined;
  readonly checks: readonly RequirementCheck[];
}

/**
 * The whole table as printed on stdout: the engine sections measured, then the scenarios when
 * any ran, then the requirement's targets. Ratios are infergate / direct, masked / infergate
 * (`vs plain`), audited / masked (`vs masked`), audited / direct, nginx / direct (`n/direct`),
 * secured / direct (`s/direct`) and secured / nginx: below 1x for throughput is capacity lost,
 * above 1x for a latency or memory is more of it.
 */
export function formatTable(
  settings: BenchSettings,
  engines: EngineSections,
  results: readonly ScenarioResult[],
  facts: TableFacts,
): string {
  const lines = ['infergate benchmark', ''];
  if (engines.masking !== undefined) {
    lines.push(...engineBlock('masking engine alone, best of 5 passes', engines.masking), '');
  }
  if (engines.audit !== undefined) lines.push(...auditEngineBlock(engines.audit));
  if (results.length > 0) {
    lines.push(...scenarioSection(settings, results, facts.nginx));
    lines.push(...requirementSection(facts.checks, measuredTargets(results).includes('nginx')));
  }
  return lines.join('\n').trimEnd();
}
