// Every scenario the benchmark knows, in run order, and the --scenarios names that pick them
// (and the engine sections, masking and audit, which run before them).

import { BenchUsageError } from './bench-settings';
import { httpChatScenario } from './http-chat-scenario';
import { httpStreamScenario } from './http-stream-scenario';
import { rssStreamsScenario } from './rss-streams-scenario';
import type { Scenario } from './scenario';
import { streamScenario } from './stream-scenario';
import { tlsHandshakeScenario } from './tls-handshake-scenario';
import { unaryScenario } from './unary-scenario';

/** The --scenarios name that selects every scenario and both engine sections. */
export const ALL_SCENARIOS = 'all';

/** The --scenarios name that selects the masking engine section (`masking-engine.ts`). */
export const ENGINE_SECTION = 'engine';

/** The --scenarios name that selects the audit engine section (`audit-engine.ts`). */
export const AUDIT_SECTION = 'audit';

/** The names of sections, which no scenario answers to. */
const SECTIONS: readonly string[] = [ENGINE_SECTION, AUDIT_SECTION];

/** What --scenarios picked: each engine section or not, and the scenarios in run order. */
export interface BenchSelection {
  readonly engine: boolean;
  readonly audit: boolean;
  readonly scenarios: Scenario[];
}

/**
 * Many exchanges in flight: 64, as many as the gateway's pool of HTTP/1.1 upstream connections
 * holds, so through it no request waits for an upstream connection.
 */
const HIGH_CONCURRENCY = 64;

/**
 * Every scenario in the order a run goes through them: gRPC, then HTTP, then new connections,
 * then memory with many streams open, which leaves the processes' heaps grown for whatever
 * would follow it.
 */
export function createScenarios(): Scenario[] {
  return [
    unaryScenario(1),
    unaryScenario(HIGH_CONCURRENCY),
    streamScenario(1),
    streamScenario(HIGH_CONCURRENCY),
    httpChatScenario(1),
    httpChatScenario(HIGH_CONCURRENCY),
    httpStreamScenario(1),
    httpStreamScenario(HIGH_CONCURRENCY),
    tlsHandshakeScenario(),
    rssStreamsScenario(),
  ];
}

/** Whether `name` picks `scenario`: `all`, its protocol, its family or its id. */
function selects(name: string, scenario: Scenario): boolean {
  return (
    name === ALL_SCENARIOS ||
    name === scenario.protocol ||
    name === scenario.family ||
    name === scenario.id
  );
}

/** Every name --scenarios accepts for `scenarios`, broadest first. */
export function scenarioNames(scenarios: readonly Scenario[]): string[] {
  const names = [ALL_SCENARIOS, ...SECTIONS];
  for (const scenario of scenarios) names.push(scenario.protocol);
  for (const scenario of scenarios) names.push(scenario.family);
  for (const scenario of scenarios) names.push(scenario.id);
  return [...new Set(names)];
}

/**
 * What `names` picks: the masking engine section when `all` or `engine` is named, the audit
 * engine section when `all` or `audit` is, and the scenarios any name picks, in run order and
 * each once. Throws BenchUsageError for a name that picks nothing, naming the accepted ones.
 */
export function selectScenarios(
  scenarios: readonly Scenario[],
  names: readonly string[],
): BenchSelection {
  const unknown = names.filter(
    (name) => !SECTIONS.includes(name) && !scenarios.some((scenario) => selects(name, scenario)),
  );
  if (unknown.length > 0) {
    const accepted = scenarioNames(scenarios).join(', ');
    throw new BenchUsageError(`--scenarios "${unknown.join(',')}" is not one of ${accepted}`);
  }
  const all = names.includes(ALL_SCENARIOS);
  return {
    engine: all || names.includes(ENGINE_SECTION),
    audit: all || names.includes(AUDIT_SECTION),
    scenarios: scenarios.filter((scenario) => names.some((name) => selects(name, scenario))),
  };
}
