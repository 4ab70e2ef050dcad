// The validity window of a certificate or CRL: lifetime in days, clock skew, explicit bounds.

import { invalidMaterial } from './pki-material-files';

/** One day in milliseconds, the unit lifetimes are given in. */
export const DAY_MS = 86_400_000;

/**
 * How far before "now" a new certificate or CRL starts being valid. Peers whose clocks run a
 * little behind the issuer would otherwise refuse material that is seconds old as not yet valid.
 */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** The longest lifetime the engine issues, so a typo in `days` cannot mint a century-long key. */
export const MAX_LIFETIME_DAYS = 3_650;

/**
 * When a certificate is valid. By default from `now` less the clock skew until `now` plus
 * `days`; `notBefore` and `notAfter` replace either bound, so a test can make a certificate that
 * is already expired or not yet valid.
 */
export interface ValidityOptions {
  /** Lifetime from now, 1 to {@link MAX_LIFETIME_DAYS}. */
  readonly days?: number;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** The clock; tests inject it. */
  readonly now?: Date;
}

/** A resolved validity window. */
export interface Validity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/**
 * Resolves `options` with `defaultDays` when `days` is absent. Rejects a lifetime outside
 * 1..{@link MAX_LIFETIME_DAYS} and a window that ends before it starts.
 */
export function resolveValidity(options: ValidityOptions, defaultDays: number): Validity {
  const days = options.days ?? defaultDays;
  if (!Number.isInteger(days) || days < 1 || days > MAX_LIFETIME_DAYS) {
    throw invalidMaterial(`lifetime ${days} is not a whole number of days from 1 to 3650`);
  }

  const now = options.now ?? new Date();
  const notBefore = options.notBefore ?? new Date(now.getTime() - CLOCK_SKEW_MS);
  const notAfter = options.notAfter ?? new Date(now.getTime() + days * DAY_MS);
  if (notAfter.getTime() <= notBefore.getTime()) {
    throw invalidMaterial(
      `validity ends at ${notAfter.toISOString()}, before it starts at ${notBefore.toISOString()}`,
    );
  }
  return { notBefore, notAfter };
}

/** Whole days from `now` until `notAfter`: 0 on the last day, negative once expired. */
export function daysLeft(notAfter: Date, now: Date): number {
  return Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
}

/** The lifetime of a window in whole days, rounded, the clock skew not counted. */
export function lifetimeDays(validity: Validity): number {
  const span = validity.notAfter.getTime() - validity.notBefore.getTime() - CLOCK_SKEW_MS;
  return Math.min(MAX_LIFETIME_DAYS, Math.max(1, Math.round(span / DAY_MS)));
}
