// The error that stops start-up: every configuration problem, each with its path and reason.

import { ProxyError } from '../errors/proxy-error';

/** One problem in the configuration: where it is (`upstreams[0].address`) and what is wrong. */
export interface ConfigIssue {
  readonly path: string;
  readonly reason: string;
}

/** Raised once with all issues found, so an operator fixes the file in one pass. */
export class ConfigError extends ProxyError {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], source: string) {
    super('ERR_CONFIG_INVALID', `configuration ${source} has ${issues.length} problem(s)`);
    this.issues = issues;
  }

  /** The issues as lines for a terminal: `path: reason`. */
  describe(): string {
    return this.issues.map((issue) => `  ${issue.path || '(root)'}: ${issue.reason}`).join('\n');
  }
}

/** Formats a path of keys and indexes as `a.b[0].c`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else text += text === '' ? String(key) : `.${String(key)}`;
  }
  return text;
}
