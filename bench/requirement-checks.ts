// The requirement's targets, checked on ratios within one run: every control on (secured) keeps
// at least what nginx keeps of direct, streams' token gaps no worse than nginx's, under 2 ms added
// to the first token, and 1,000 open streams in under 300 MB.

import type { ScenarioResult } from './alternating-rounds';
import type { TargetName } from './bench-targets';
import { compareFigures, type FigureComparison } from './comparison';

/**
 * What nginx keeps of direct throughput on a machine like the ones the requirement was written
 * on, by scenario family: the reference for secured / direct when nginx did not run here.
 */
export const REFERENCE_RATIOS: Readonly<Record<string, number>> = {
  unary: 0.8,
  stream: 0.72,
  'http-chat': 0.64,
  'http-stream': 0.9,
};

/** Most time the secured gateway may add to the first token (p50), in ms. */
export const FIRST_TOKEN_ADDED_LIMIT_MS = 2;

/** Most resident memory a gateway may take with the rss-streams scenario's streams open, in MB. */
export const OPEN_STREAMS_RSS_LIMIT_MB = 300;

/** The gateways the memory target is about. */
const RSS_CHECKED: readonly TargetName[] = ['infergate', 'secured'];

/** Whether a check passed; `not measured` when its subject or its reference did not run. */
export type CheckVerdict = 'met' | 'missed' | 'not measured';

/** One target of the requirement as this run measured it. */
export interface RequirementCheck {
  readonly scenario: string;
  /** What is compared (`secured / direct, req/s`). */
  readonly what: string;
  readonly value: number | undefined;
  /** `atLeast` (>=), `atMost` (<=) or `below` (<) `limit`. */
  readonly bound: 'atLeast' | 'atMost' | 'below';
  readonly limit: number | undefined;
  /** `x` for a ratio, else the figure's unit. */
  readonly unit: string;
  /** Where the limit comes from: `nginx in this run`, `stated reference`, `requirement`. */
  readonly reference: string;
  readonly verdict: CheckVerdict;
}

function verdictOf(check: Omit<RequirementCheck, 'verdict'>): CheckVerdict {
  const { value, limit, bound } = check;
  if (value === undefined || limit === undefined) return 'not measured';
  if (!Number.isFinite(value) || !Number.isFinite(limit)) return 'not measured';
  const met =
    bound === 'atLeast' ? value >= limit : bound === 'atMost' ? value <= limit : value < limit;
  return met ? 'met' : 'missed';
}

function check(fields: Omit<RequirementCheck, 'verdict'>): RequirementCheck {
  return { ...fields, verdict: verdictOf(fields) };
}

function figureOf(figures: readonly FigureComparison[], key: string): FigureComparison {
  const figure = figures.find((candidate) => candidate.key === key);
  if (figure === undefined) throw new Error(`no figure ${key}`);
  return figure;
}

/** secured / direct throughput against nginx / direct in this run, or the stated reference. */
function throughputCheck(result: ScenarioResult, nginxRan: boolean): RequirementCheck {
  const { id, family } = result.scenario;
  const figure = compareFigures(result).find((candidate) => candidate.kind === 'throughput')!;
  return check({
    scenario: id,
    what: `secured / direct, ${figure.unit}`,
    value: figure.securedDirectRatio,
    bound: 'atLeast',
    limit: nginxRan ? figure.nginxRatio : REFERENCE_RATIOS[family],
    unit: 'x',
    reference: nginxRan ? 'nginx / direct in this run' : 'stated nginx reference',
  });
}

/** A stream scenario's token gap p99 against nginx's, and the time added to the first token. */
function streamChecks(result: ScenarioResult, nginxRan: boolean): RequirementCheck[] {
  const figures = compareFigures(result);
  const gap = figureOf(figures, 'tokenGapP99');
  const firstToken = figureOf(figures, 'firstTokenP50');
  return [
    check({
      scenario: result.scenario.id,
      what: 'token gap p99, secured',
      value: gap.secured,
      bound: 'atMost',
      limit: gap.nginx,
      unit: gap.unit,
      reference: nginxRan ? 'nginx in this run' : 'needs nginx',
    }),
    check({
      scenario: result.scenario.id,
      what: 'first token p50, secured adds',
      value: firstToken.securedAdded,
      bound: 'below',
      limit: FIRST_TOKEN_ADDED_LIMIT_MS,
      unit: firstToken.unit,
      reference: 'requirement',
    }),
  ];
}

/** RSS with the streams open, for each gateway the requirement names. */
function memoryChecks(result: ScenarioResult): RequirementCheck[] {
  const figure = figureOf(compareFigures(result), 'rssOpen');
  return RSS_CHECKED.map((target) =>
    check({
      scenario: result.scenario.id,
      what: `rss, ${target}`,
      value: target === 'secured' ? figure.secured : figure.infergate,
      bound: 'below',
      limit: OPEN_STREAMS_RSS_LIMIT_MB,
      unit: figure.unit,
      reference: 'requirement',
    }),
  );
}

/**
 * Every requirement target the scenarios of `results` measure, in scenario order. A check whose
 * subject (secured, for --no-secured) or reference (nginx's gap, without nginx) did not run says
 * `not measured`. tls-handshakes has none: nginx is cleartext here, so it is no reference for a
 * TLS handshake, and the requirement states no figure for it.
 */
export function requirementChecks(
  results: readonly ScenarioResult[],
  nginxRan: boolean,
): RequirementCheck[] {
  return results.flatMap((result) => {
    const { family } = result.scenario;
    if (family === 'rss-streams') return memoryChecks(result);
    if (REFERENCE_RATIOS[family] === undefined) return [];
    const ratio = throughputCheck(result, nginxRan);
    const streamed = family === 'stream' || family === 'http-stream';
    return streamed ? [ratio, ...streamChecks(result, nginxRan)] : [ratio];
  });
}
