// The only module that reads environment variables: one snapshot, taken once at start-up.

/** The environment as infergate sees it: a frozen snapshot, so later changes have no effect. */
export interface Environment {
  /** `INFERGATE_CONFIG`: the configuration file used when `--config` is not given. */
  readonly configFile: string | undefined;
  /** `INFERGATE_LOG_LEVEL`: overrides `log.level` of the configuration file. */
  readonly logLevel: string | undefined;
  /** Looks up a variable for `${env:NAME}` references in the configuration file. */
  lookup(name: string): string | undefined;
}

/** Takes the snapshot; `source` is injectable so tests never touch `process.env`. */
export function readEnvironment(source: NodeJS.ProcessEnv = process.env): Environment {
  const variables = new Map<string, string>();
  for (const [key, value] of Object.entries(source)) {
    if (value !== undefined) variables.set(key, value);
  }

  return Object.freeze({
    configFile: nonEmpty(variables.get('INFERGATE_CONFIG')),
    logLevel: nonEmpty(variables.get('INFERGATE_LOG_LEVEL')),
    lookup: (name: string) => variables.get(name),
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
