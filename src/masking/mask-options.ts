// What a mask keeps of a card number and which byte it writes, validated once into an immutable
// object so the data path never checks configuration.

import { ProxyError } from '../errors/proxy-error';
import { FINDING_KINDS, type FindingKind } from './findings';

/** How card numbers are masked; the other kinds of card data are always masked whole. */
export interface MaskOptions {
  /** Leading digits left readable, 0-6 (PCI DSS v3.2.1 "first six"; v4.0 3.4.1 "BIN"). */
  readonly keepFirst?: number;
  /** Trailing digits left readable, 0-4 (PCI DSS v4.0 3.4.1: at most the last four). */
  readonly keepLast?: number;
  /** The byte written over each byte of a masked digit: printable ASCII, not a digit. */
  readonly maskByte?: number;
}

/** `MaskOptions` with every default filled in. */
export type ResolvedMaskOptions = Required<MaskOptions>;

/**
 * Defaults: keep the last four only. Threat: every digit shown narrows a brute force of the
 * rest, and the first six name the issuer; PCI DSS 3.4.1 asks to show only what a function
 * needs, so keeping the first digits is an explicit choice.
 */
export const DEFAULT_MASK_OPTIONS: ResolvedMaskOptions = Object.freeze({
  keepFirst: 0,
  keepLast: 4,
  maskByte: 0x2a,
});

/** Options objects this module resolved, so passing one again costs no validation. */
const RESOLVED = new WeakSet<object>([DEFAULT_MASK_OPTIONS]);

/** The PCI limits on what a mask may keep. */
export const MAX_KEEP_FIRST_DIGITS = 6;
export const MAX_KEEP_LAST_DIGITS = 4;

/** How many findings of each kind a masking pass masked. */
export type MaskCounts = Record<FindingKind, number>;

/**
 * Fills in the defaults and checks the options; throws ProxyError `ERR_CONFIG_INVALID` naming
 * the first bad option. A mask byte must be one byte so masking keeps byte lengths, and not a
 * digit, so a masked number can never read as another one.
 */
export function resolveMaskOptions(options: MaskOptions = {}): ResolvedMaskOptions {
  if (RESOLVED.has(options)) return options as ResolvedMaskOptions;
  const resolved = { ...DEFAULT_MASK_OPTIONS, ...options };
  checkInteger('keepFirst', resolved.keepFirst, MAX_KEEP_FIRST_DIGITS);
  checkInteger('keepLast', resolved.keepLast, MAX_KEEP_LAST_DIGITS);
  const { maskByte } = resolved;
  if (!Number.isInteger(maskByte) || maskByte < 0x21 || maskByte > 0x7e || isDigit(maskByte)) {
    throw new ProxyError(
      'ERR_CONFIG_INVALID',
      `maskByte ${String(maskByte)} is not a printable ASCII byte other than a digit`,
    );
  }
  RESOLVED.add(Object.freeze(resolved));
  return resolved;
}

/** Whether digit `index` of a card number of `count` digits is masked under `options`. */
export function isMaskedDigit(index: number, count: number, options: ResolvedMaskOptions): boolean {
  return index >= options.keepFirst && index < count - options.keepLast;
}

/** A fresh count of zero for every kind. */
export function emptyMaskCounts(): MaskCounts {
  return { pan: 0, cvv: 0, expiry: 0, track1: 0, track2: 0 };
}

/** Adds `counts` into `into`, kind by kind. */
export function addMaskCounts(into: MaskCounts, counts: Readonly<MaskCounts>): void {
  for (const kind of FINDING_KINDS) into[kind] += counts[kind];
}

function checkInteger(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new ProxyError(
      'ERR_CONFIG_INVALID',
      `${name} ${String(value)} is not an integer from 0 to ${max}`,
    );
  }
}

function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}
