// Reading the claims of a verified token (subject, roles, id) and naming values in messages.

import type { JWTPayload } from 'jose';
import { ProxyError } from '../errors/proxy-error';

/** Longest part of a token-supplied value that a message repeats. */
const MAX_QUOTED_CHARS = 64;

/**
 * A value for an error message: JSON-quoted, so control characters cannot forge log lines, and
 * cut to 64 characters, so a token cannot make its refusal arbitrarily long. Only for claims and
 * header members, never for the token or a key.
 */
export function quoted(value: unknown): string {
  const text = Array.isArray(value)
    ? value.map(String).join(' ')
    : typeof value === 'string'
      ? value
      : String(value);
  const cut = text.length > MAX_QUOTED_CHARS ? `${text.slice(0, MAX_QUOTED_CHARS)}…` : text;
  return JSON.stringify(cut);
}

/** The `sub` claim; a token without a non-empty string subject is ERR_TOKEN_INVALID. */
export function readSubject(payload: JWTPayload): string {
  const subject = payload.sub;
  if (typeof subject !== 'string' || subject.length === 0) {
    throw new ProxyError('ERR_TOKEN_INVALID', 'token has no "sub" claim');
  }
  return subject;
}

/** The `jti` claim when it is a string; anything else is treated as absent. */
export function readTokenId(payload: JWTPayload): string | undefined {
  return typeof payload.jti === 'string' ? payload.jti : undefined;
}

/**
 * Roles from the claim `claim`: an array of strings, or one string of space-separated names (the
 * form of OAuth `scope`, RFC 6749 §3.3). Any other shape grants no roles rather than failing:
 * roles only ever add permissions, so ignoring a claim cannot widen access.
 */
export function readRoles(payload: JWTPayload, claim: string): readonly string[] {
  const value = Object.hasOwn(payload, claim) ? payload[claim] : undefined;
  if (typeof value === 'string') return value.split(/\s+/).filter((role) => role.length > 0);
  if (Array.isArray(value) && value.every((role) => typeof role === 'string')) {
    return Object.freeze([...(value as string[])]);
  }
  return [];
}
