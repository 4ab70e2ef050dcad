// What the client-side commands (`infer`, `token`) share: reading PEM material the user names,
// and an issuer that signs as a gateway on the configuration defaults would.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULTS } from '../config/defaults';
import { ProxyError } from '../errors/proxy-error';
import { TokenIssuer } from '../identity/token-issuer';

/** What a command may set differently from the `auth` defaults when it signs a token. */
export interface TokenIssuerOverrides {
  readonly issuer?: string | undefined;
  readonly audience?: string | undefined;
  readonly ttlSeconds?: number | undefined;
}

/**
 * Reads `file`, resolved against the working directory. Rejects a file it cannot read with
 * ERR_PKI_MATERIAL_INVALID, `cannot read <what> <absolute path> (<errno code>)<hint>`, where an
 * empty `what` is left out; the message never holds the file's content.
 */
export function readMaterialFile(file: string, what: string, hint = ''): Buffer {
  const absolute = resolve(file);
  try {
    return readFileSync(absolute);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    const named = what === '' ? absolute : `${what} ${absolute}`;
    const message = `cannot read ${named} (${reason})${hint}`;
    throw new ProxyError('ERR_PKI_MATERIAL_INVALID', message, { cause: err });
  }
}

/**
 * An issuer signing with `privateKeyPem` under the `auth` defaults (issuer, audience, lifetime,
 * roles claim) but for `overrides`, so its tokens pass a gateway left on those defaults. Rejects
 * a key that is neither Ed25519 nor P-256 with ERR_PKI_MATERIAL_INVALID.
 */
export function defaultTokenIssuer(
  privateKeyPem: string,
  overrides: TokenIssuerOverrides = {},
): TokenIssuer {
  return new TokenIssuer({
    issuer: {
      issuer: overrides.issuer ?? DEFAULTS.auth.issuer,
      privateKeyPem,
      ttlSeconds: overrides.ttlSeconds ?? DEFAULTS.auth.ttlSeconds,
    },
    audience: overrides.audience ?? DEFAULTS.auth.audience,
    rolesClaim: DEFAULTS.auth.rolesClaim,
  });
}
