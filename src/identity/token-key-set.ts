// The keys one issuer signs tokens with: a set read from a file, or fetched from its URL.

import { createLocalJWKSet, createRemoteJWKSet, errors, type JSONWebKeySet } from 'jose';
import type { JWTVerifyGetKey } from 'jose';
import type { JsonWebKeySet, KeySource } from '../config/gateway-config';
import { ProxyError } from '../errors/proxy-error';
import { quoted } from './token-claims';

/**
 * Finds the key a token's protected header names. Rejects with a jose error when no key (or
 * more than one) matches, and with ERR_IDENTITY_UNAVAILABLE when the keys cannot be had.
 */
export type TokenKeySet = JWTVerifyGetKey;

/** How a key set fetched from a URL behaves. */
export interface KeySetFetchOptions {
  /**
   * Shortest time between two fetches: a token naming an unknown `kid` refetches the set (the
   * issuer may have rotated its keys) only when the last fetch is older than this.
   */
  readonly cooldownMs: number;
  /** How long one fetch may take before the set counts as unavailable. */
  readonly timeoutMs: number;
}

/** The defaults of jose, written down here so that configuration and tests can name them. */
export const KEY_SET_FETCH_DEFAULTS: KeySetFetchOptions = { cooldownMs: 30_000, timeoutMs: 5_000 };

/**
 * Builds the key set of `issuer` from where configuration says its keys are. A URL is fetched on
 * first use and refetched as jose's remote set decides, so build one set per issuer and keep it:
 * its cooldown is what rate-limits refetches.
 */
export function createTokenKeySet(
  issuer: string,
  source: KeySource,
  options: KeySetFetchOptions = KEY_SET_FETCH_DEFAULTS,
): TokenKeySet {
  if (source.jwks !== undefined) return createFileKeySet(issuer, source.jwks);
  if (source.jwksUrl === undefined) {
    throw new ProxyError('ERR_CONFIG_INVALID', `issuer ${quoted(issuer)} has no key set`);
  }
  const remote = createRemoteJWKSet(new URL(source.jwksUrl), {
    cooldownDuration: options.cooldownMs,
    timeoutDuration: options.timeoutMs,
  });
  return failClosed(issuer, remote);
}

/** A key set from keys known at start-up: a file, or infergate's own public key. */
export function createFileKeySet(issuer: string, jwks: JsonWebKeySet): TokenKeySet {
  try {
    // jose copies the set (structuredClone), so later changes to `jwks` cannot swap keys.
    return failClosed(issuer, createLocalJWKSet(jwks as unknown as JSONWebKeySet));
  } catch (err) {
    throw new ProxyError('ERR_CONFIG_INVALID', `key set of issuer ${quoted(issuer)} is malformed`, {
      cause: err,
    });
  }
}

/**
 * Turns every failure to get at the keys into ERR_IDENTITY_UNAVAILABLE, so a network error, a
 * timeout or a set that does not parse refuses the request instead of letting it through (fail
 * closed). The message names the issuer only: the fetch error may carry addresses and internals.
 * Lookup misses stay jose errors, for the verifier to report as a bad token.
 */
function failClosed(issuer: string, lookup: TokenKeySet): TokenKeySet {
  return async (header, token) => {
    try {
      return await lookup(header, token);
    } catch (err) {
      if (isLookupMiss(err)) throw err;
      throw new ProxyError(
        'ERR_IDENTITY_UNAVAILABLE',
        `keys of token issuer ${quoted(issuer)} cannot be fetched`,
        { cause: err },
      );
    }
  };
}

function isLookupMiss(err: unknown): boolean {
  return (
    err instanceof errors.JWKSNoMatchingKey ||
    err instanceof errors.JWKSMultipleMatchingKeys ||
    err instanceof errors.JOSENotSupported
  );
}
