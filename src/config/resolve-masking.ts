// Resolves the `masking` section: reads the fingerprint key and checks the roles it names.

import type { CheckableConfig } from './config-schema';
import type { ConfigIssue } from './config-error';
import { readConfigFile } from './config-files';
import type { MaskingConfig, MaskPatternConfig } from './gateway-config';
import { ProxyError } from '../errors/proxy-error';
import { compileMaskPattern } from '../masking/pattern-masker';
import { MIN_FINGERPRINT_KEY_BYTES } from '../masking/card-fingerprint';

/**
 * Builds the masking configuration. The fingerprint key file's bytes are the key (for example
 * `openssl rand 32 > fingerprint.key`); a shorter file, and an unmasked role no role section
 * defines, are issues.
 */
export function resolveMasking(
  file: CheckableConfig,
  baseDir: string,
  issues: ConfigIssue[],
): MaskingConfig {
  const section = file.masking;
  const keyPath = 'masking.fingerprintKeyFile';
  const fingerprintKey = readConfigFile(section.fingerprintKeyFile, keyPath, baseDir, issues);
  if (fingerprintKey !== undefined && fingerprintKey.length < MIN_FINGERPRINT_KEY_BYTES) {
    const reason = `the key has ${fingerprintKey.length} bytes; at least ${MIN_FINGERPRINT_KEY_BYTES} are needed`;
    issues.push({ path: keyPath, reason });
  }
  section.unmaskedRoles.forEach((role, index) => {
    if (!Object.hasOwn(file.roles, role)) {
      issues.push({
        path: `masking.unmaskedRoles[${index}]`,
        reason: `no role "${role}" is defined`,
      });
    }
  });
  checkPatterns(section.patterns, issues);
  return {
    mask: section.mask,
    keepFirst: section.keepFirst,
    keepLast: section.keepLast,
    maskByte: section.maskCharacter.charCodeAt(0),
    unmaskedRoles: section.unmaskedRoles,
    fingerprintKey,
    maxHeldBytes: section.maxHeldBytes,
    patterns: section.patterns,
  };
}

/** Each pattern must compile with a bounded length, under a name of its own. */
function checkPatterns(patterns: readonly MaskPatternConfig[], issues: ConfigIssue[]): void {
  const names = new Set<string>();
  patterns.forEach(({ name, regex, ignoreCase }, index) => {
    const path = `masking.patterns[${index}]`;
    if (names.has(name)) issues.push({ path, reason: `the name "${name}" is used twice` });
    names.add(name);
    try {
      compileMaskPattern(name, regex, ignoreCase);
    } catch (err) {
      if (!(err instanceof ProxyError)) throw err;
      issues.push({ path: `${path}.regex`, reason: err.message });
    }
  });
}
