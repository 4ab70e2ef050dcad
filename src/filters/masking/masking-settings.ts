// The masking filter's settings, built once from configuration.

import type { GatewayConfig } from '../../config/gateway-config';
import { CardFingerprinter } from '../../masking/card-fingerprint';
import { resolveMaskOptions } from '../../masking/mask-options';
import { compileMaskPattern } from '../../masking/pattern-masker';
import type { TextMaskPolicy } from '../../masking/text-masker';
import type { MaskingSettings } from './masking-filter';

/** The settings for `config`; undefined when no route masks anything, so no filter is built. */
export function maskingSettings(config: GatewayConfig): MaskingSettings | undefined {
  const { masking, routes } = config;
  if (routes.every((route) => route.masking === 'none')) return undefined;
  const { keepFirst, keepLast, maskByte, fingerprintKey } = masking;
  return {
    options: resolveMaskOptions({ keepFirst, keepLast, maskByte }),
    routes: new Map(routes.map((route) => [route.name, route.masking])),
    unmaskedRoles: new Set(masking.unmaskedRoles),
    fingerprinter: fingerprintKey === undefined ? undefined : new CardFingerprinter(fingerprintKey),
    maxHeldBytes: masking.maxHeldBytes,
    // Compiled here, not in the configuration: a frozen RegExp cannot keep its search position.
    patterns: masking.patterns.map((pattern) =>
      compileMaskPattern(pattern.name, pattern.regex, pattern.ignoreCase),
    ),
  };
}

/**
 * The policy that masks copies of texts kept elsewhere (audit frames, reviews): the masking
 * section's options and patterns, whatever routes and roles let through unmasked.
 */
export function textMaskPolicy(config: GatewayConfig): TextMaskPolicy {
  const { keepFirst, keepLast, maskByte, patterns } = config.masking;
  return {
    options: resolveMaskOptions({ keepFirst, keepLast, maskByte }),
    // Compiled here, not in the configuration: a frozen RegExp cannot keep its search position.
    patterns: patterns.map((p) => compileMaskPattern(p.name, p.regex, p.ignoreCase)),
    observe: undefined,
  };
}
