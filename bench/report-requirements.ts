// The table's last section: each target of the requirement, what this run measured, the limit,
// where the limit comes from, and met, missed or not measured.

import type { RequirementCheck } from './requirement-checks';

const SCENARIO_WIDTH = 16;
const WHAT_WIDTH = 30;
const VALUE_WIDTH = 11;
const LIMIT_WIDTH = 13;
const REFERENCE_WIDTH = 28;

const BOUND_SIGNS: Readonly<Record<RequirementCheck['bound'], string>> = {
  atLeast: '>=',
  atMost: '<=',
  below: '<',
};

/** A ratio as `0.80x`, a time to a microsecond with its sign when it is an added time. */
function formatValue(value: number | undefined, unit: string, signed: boolean): string {
  if (value === undefined || !Number.isFinite(value)) return '-';
  if (unit === 'x') return `${value.toFixed(2)}x`;
  const digits = unit === 'ms' ? 3 : 1;
  const sign = signed && value >= 0 ? '+' : '';
  return `${sign}${value.toFixed(digits)} ${unit}`;
}

function checkLine(check: RequirementCheck): string {
  const signed = check.what.endsWith('adds');
  const value = formatValue(check.value, check.unit, signed);
  const limit = `${BOUND_SIGNS[check.bound]} ${formatValue(check.limit, check.unit, false)}`;
  return (
    `  ${check.scenario.padEnd(SCENARIO_WIDTH)}${check.what.padEnd(WHAT_WIDTH)}` +
    `${value.padStart(VALUE_WIDTH)} ${limit.padEnd(LIMIT_WIDTH)} ` +
    `${check.reference.padEnd(REFERENCE_WIDTH)}${check.verdict}`
  );
}

/**
 * The requirement section: a heading naming the reference the ratios are held to (`nginxRan`:
 * nginx in this run, else the stated ratios), one line per check, and a count of the missed ones.
 * Empty when no scenario measured a target.
 */
export function requirementSection(checks: readonly RequirementCheck[], nginxRan: boolean) {
  if (checks.length === 0) return [];
  const reference = nginxRan
    ? 'secured / direct held to nginx / direct in this run'
    : 'nginx not measured: secured / direct held to the stated nginx ratios';
  const missed = checks.filter((check) => check.verdict === 'missed').length;
  const unmeasured = checks.filter((check) => check.verdict === 'not measured').length;
  return [
    '',
    `requirement targets (ratios within this run; ${reference})`,
    ...checks.map(checkLine),
    `targets: ${checks.length - missed - unmeasured} met, ${missed} missed, ${unmeasured} not measured`,
  ];
}
