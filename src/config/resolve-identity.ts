// Cross-field rules and file reads of the identity sections: listener TLS, auth and roles.

import type { ConfigIssue } from './config-error';
import { configPath, readConfigFile } from './config-files';
import type { CheckableConfig } from './config-schema';
import type {
  AuthConfig,
  CertificateRoleConfig,
  JsonWebKeySet,
  KeySource,
  ListenerTlsConfig,
  RolesConfig,
} from './gateway-config';
import { compileModelPattern } from '../pipeline/model-pattern';

type AuthSection = NonNullable<CheckableConfig['auth']>;

/** What the identity sections resolve to. */
export interface ResolvedIdentity {
  readonly tls: ListenerTlsConfig | undefined;
  readonly auth: AuthConfig | undefined;
  readonly roles: RolesConfig;
}

/**
 * Resolves file paths against `baseDir`, reads the files that are read once (token keys, key
 * sets) and checks the rules that span sections. TLS files are only checked for readability
 * here: the listeners build their TLS context from them, at start-up and on every change.
 */
export function resolveIdentity(
  file: CheckableConfig,
  baseDir: string,
  issues: ConfigIssue[],
): ResolvedIdentity {
  const tls = file.tls === undefined ? undefined : resolveListenerTls(file.tls, baseDir, issues);
  const auth = file.auth === undefined ? undefined : resolveAuth(file.auth, baseDir, issues);
  checkRoles(file.roles, issues);
  if (auth !== undefined) checkAuthAgainstRoles(file, issues);
  if (file.auth !== undefined && file.tls === undefined) {
    // Tokens are bound to client certificates (RFC 8705): without TLS there is nothing to bind to.
    issues.push({
      path: 'auth',
      reason: 'auth needs a tls section: tokens are bound to certificates',
    });
  }
  return { tls, auth, roles: file.roles };
}

function resolveListenerTls(
  tls: NonNullable<CheckableConfig['tls']>,
  baseDir: string,
  issues: ConfigIssue[],
): ListenerTlsConfig {
  const path = (file: string, at: string) => readablePath(file, at, baseDir, issues);
  return {
    certFile: path(tls.certFile, 'tls.certFile'),
    keyFile: path(tls.keyFile, 'tls.keyFile'),
    clientCaFiles: tls.clientCaFiles.map((file, i) => path(file, `tls.clientCaFiles[${i}]`)),
    crlFiles: tls.crlFiles.map((file, i) => path(file, `tls.crlFiles[${i}]`)),
    minVersion: tls.minVersion,
    watch: tls.watch,
    expiryWarningDays: tls.expiryWarningDays,
  };
}

function resolveAuth(auth: AuthSection, baseDir: string, issues: ConfigIssue[]): AuthConfig {
  if (auth.issuer === undefined && auth.trustedIssuers.length === 0) {
    issues.push({ path: 'auth', reason: 'name an issuer or at least one trusted issuer' });
  }
  checkIssuerNames(auth, issues);
  const issuer = auth.issuer;
  const keyPem =
    issuer === undefined
      ? undefined
      : readText(issuer.keyFile, 'auth.issuer.keyFile', baseDir, issues);
  const exchange = auth.tokenExchange;

  return {
    audience: auth.audience,
    algorithms: auth.algorithms,
    leewaySeconds: auth.leewaySeconds,
    rolesClaim: auth.rolesClaim,
    issuer:
      issuer === undefined
        ? undefined
        : { issuer: issuer.issuer, privateKeyPem: keyPem ?? '', ttlSeconds: issuer.ttlSeconds },
    trustedIssuers: auth.trustedIssuers.map((trusted, index) => ({
      issuer: trusted.issuer,
      ...resolveKeySource(trusted, `auth.trustedIssuers[${index}]`, baseDir, issues),
    })),
    certificateRoles: resolveCertificateRoles(auth, issues),
    tokenExchange:
      exchange === undefined
        ? undefined
        : {
            issuer: exchange.issuer,
            audience: exchange.audience,
            rolesClaim: exchange.rolesClaim,
            required: exchange.required,
            ...resolveKeySource(exchange, 'auth.tokenExchange', baseDir, issues),
          },
  };
}

/**
 * Each `iss` names one key set: a second issuer of the same name would let its keys sign for
 * the first (RFC 8725 §3.8, keys belong to one issuer).
 */
function checkIssuerNames(auth: AuthSection, issues: ConfigIssue[]): void {
  const seen = new Set(auth.issuer === undefined ? [] : [auth.issuer.issuer]);
  auth.trustedIssuers.forEach((trusted, index) => {
    if (seen.has(trusted.issuer)) {
      const reason = `issuer "${trusted.issuer}" is named twice`;
      issues.push({ path: `auth.trustedIssuers[${index}].issuer`, reason });
    }
    seen.add(trusted.issuer);
  });
}

/** Exactly one of `jwksFile` and `jwksUrl`; a URL over https, or http to this machine only. */
function resolveKeySource(
  source: { jwksFile?: string | undefined; jwksUrl?: string | undefined },
  path: string,
  baseDir: string,
  issues: ConfigIssue[],
): KeySource {
  if ((source.jwksFile === undefined) === (source.jwksUrl === undefined)) {
    issues.push({ path, reason: 'give exactly one of jwksFile and jwksUrl' });
  }
  if (source.jwksUrl !== undefined && !isTrustedKeyUrl(source.jwksUrl)) {
    // Keys fetched in cleartext could be swapped by anyone on the path (RFC 8725 §3.4).
    issues.push({ path: `${path}.jwksUrl`, reason: 'must be https:// (http:// only to loopback)' });
  }
  const text =
    source.jwksFile === undefined
      ? undefined
      : readText(source.jwksFile, `${path}.jwksFile`, baseDir, issues);
  return {
    jwks: text === undefined ? undefined : parseKeySet(text, `${path}.jwksFile`, issues),
    jwksUrl: source.jwksUrl,
  };
}

function isTrustedKeyUrl(text: string): boolean {
  const url = new URL(text);
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

function parseKeySet(text: string, path: string, issues: ConfigIssue[]): JsonWebKeySet | undefined {
  try {
    const parsed = JSON.parse(text) as unknown;
    const keys = (parsed as { keys?: unknown }).keys;
    if (Array.isArray(keys) && keys.every((key) => key !== null && typeof key === 'object')) {
      return { keys: keys as JsonWebKeySet['keys'] };
    }
  } catch {
    // Reported below with the same reason as a set without a keys array.
  }
  issues.push({ path, reason: 'is not a JSON Web Key Set ({"keys": [...]})' });
  return undefined;
}

function resolveCertificateRoles(
  auth: AuthSection,
  issues: ConfigIssue[],
): CertificateRoleConfig[] {
  const mappings: CertificateRoleConfig[] = [];
  auth.certificateRoles.forEach((mapping, index) => {
    const path = `auth.certificateRoles[${index}]`;
    const given = (['uri', 'email', 'commonName'] as const).filter(
      (key) => mapping[key] !== undefined,
    );
    if (given.length !== 1) {
      issues.push({ path, reason: 'give exactly one of uri, email and commonName' });
      return;
    }
    const attribute = given[0]!;
    const pattern = mapping[attribute]!;
    const problem = compileModelPattern(pattern).problem;
    if (problem !== undefined) issues.push({ path: `${path}.${attribute}`, reason: problem });
    mappings.push({ attribute, pattern, roles: mapping.roles });
  });
  return mappings;
}

function checkRoles(roles: RolesConfig, issues: ConfigIssue[]): void {
  for (const [role, spec] of Object.entries(roles)) {
    spec.models.forEach((pattern, index) => {
      const problem = compileModelPattern(pattern).problem;
      if (problem !== undefined)
        issues.push({ path: `roles.${role}.models[${index}]`, reason: problem });
    });
  }
}

function checkAuthAgainstRoles(file: CheckableConfig, issues: ConfigIssue[]): void {
  file.auth!.certificateRoles.forEach((mapping, index) => {
    mapping.roles.forEach((role, roleIndex) => {
      if (Object.hasOwn(file.roles, role)) return;
      const path = `auth.certificateRoles[${index}].roles[${roleIndex}]`;
      issues.push({ path, reason: `no role is named "${role}"` });
    });
  });
}

function readablePath(file: string, path: string, baseDir: string, issues: ConfigIssue[]): string {
  readConfigFile(file, path, baseDir, issues);
  return configPath(file, baseDir);
}

function readText(
  file: string,
  path: string,
  baseDir: string,
  issues: ConfigIssue[],
): string | undefined {
  return readConfigFile(file, path, baseDir, issues)?.toString('utf8');
}
