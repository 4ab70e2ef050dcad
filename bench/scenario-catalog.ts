// Every scenario the benchmark knows, in run order, and the --scenarios names that pick them
// (and the masking engine section, which runs before them).

import { BenchUsageError } from './bench-settings';
import { httpChatScenario } from './http-chat-scenario';
import { httpStreamScenario } from './http-stream-scenario';
import type { Scenario } from './scenario';
import { streamScenario } from './stream-scenario';
import { unaryScenario } from './unary-scenario';

/** The --scenarios name that selects every scenario and the engine section. */
export const ALL_SCENARIOS = 'all';

/** The --scenarios name that selects the masking engine section (`masking-engine.ts`). */
export const ENGINE_SECTION = 'engine';

/** What --scenarios picked: the engine section or not, and the scenarios in run order. */
export interface BenchSelection {
  readonly engine: boolean;
  readonly scenarios: Scenario[];
}

/** Every scenario, gRPC first, in the order a run goes through them. */
export function createScenarios(): Scenario[] {
  return [
    unaryScenario(1),
    unaryScenario(32),
    streamScenario(1),
    streamScenario(16),
    httpChatScenario(1),
    httpChatScenario(32),
    httpStreamScenario(1),
    httpStreamScenario(16),
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
  const names = [ALL_SCENARIOS, ENGINE_SECTION];
  for (const scenario of scenarios) names.push(scenario.protocol);
  for (const scenario of scenarios) names.push(scenario.family);
  for (const scenario of scenarios) names.push(scenario.id);
  return [...new Set(names)];
}

/**
 * What `names` picks: the engine section when `all` or `engine` is named, and the scenarios any
 * name picks, in run order and each once. Throws BenchUsageError for a name that picks nothing,
 * naming the accepted ones.
 */
export function selectScenarios(
  scenarios: readonly Scenario[],
  names: readonly string[],
): BenchSelection {
  const unknown = names.filter(
    (name) => name !== ENGINE_SECTION && !scenarios.some((scenario) => selects(name, scenario)),
  );
  if (unknown.length > 0) {
    const accepted = scenarioNames(scenarios).join(', ');
    throw new BenchUsageError(`--scenarios "${unknown.join(',')}" is not one of ${accepted}`);
  }
  return {
    engine: names.includes(ALL_SCENARIOS) || names.includes(ENGINE_SECTION),
    scenarios: scenarios.filter((scenario) => names.some((name) => selects(name, scenario))),
  };
}
