// Builds what the configuration tests share: an injected environment and the error a load raises.

import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/config-error';
import { readEnvironment, type Environment } from '../../src/config/environment';

/** An environment with only the given variables, never the real one. */
export function env(variables: Record<string, string> = {}): Environment {
  return readEnvironment(variables);
}

/** Runs `load`, which must throw a ConfigError, and returns it. */
export function configErrorOf(load: () => unknown): ConfigError {
  try {
    load();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.code, 'ERR_CONFIG_INVALID');
    return err;
  }
  assert.fail('expected a ConfigError');
}
