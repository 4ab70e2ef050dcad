// The roles a client certificate earns through `auth.certificateRoles`: SPIFFE IDs and other URI
// SANs, e-mail SANs and the subject common name, matched against configured patterns.

import type { CertificateRoleConfig } from '../config/gateway-config';
import { compileModelPattern, type ModelPattern } from '../pipeline/model-pattern';
import type { PeerCertificate } from './peer-certificate';

/** The roles configuration grants a verified peer certificate. */
export type CertificateRoles = (certificate: PeerCertificate) => string[];

interface CompiledMapping {
  readonly attribute: CertificateRoleConfig['attribute'];
  readonly pattern: ModelPattern;
  readonly roles: readonly string[];
}

/**
 * Compiles the mappings once, at start-up. The returned function gives the union of the roles
 * of every mapping that matches, without duplicates, in configuration order (a role keeps the
 * place of its first mapping): `uri` matches when any URI SAN does, `email` any e-mail SAN,
 * `commonName` the subject CN (never, when the subject has none).
 *
 * Matching is exact and case-sensitive, so a differently cased name earns nothing (fails
 * closed). Threat: `*` also spans `/` and `.`, so `spiffe://prod.example*` matches the trust
 * domain `prod.example.attacker.net` too; end a trust domain with `/` before a wildcard. The
 * facts are believed because the TLS handshake verified the certificate against the trusted CAs,
 * which are trusted not to issue a SAN its subject does not own.
 */
export function compileCertificateRoles(
  mappings: readonly CertificateRoleConfig[],
): CertificateRoles {
  const compiled: CompiledMapping[] = mappings.map((mapping) => ({
    attribute: mapping.attribute,
    pattern: compileModelPattern(mapping.pattern),
    roles: mapping.roles,
  }));
  return (certificate) => rolesOf(compiled, certificate);
}

function rolesOf(mappings: readonly CompiledMapping[], certificate: PeerCertificate): string[] {
  const roles = new Set<string>();
  for (const mapping of mappings) {
    if (!mappingMatches(mapping, certificate)) continue;
    for (const role of mapping.roles) roles.add(role);
  }
  return [...roles];
}

function mappingMatches(mapping: CompiledMapping, certificate: PeerCertificate): boolean {
  const { pattern } = mapping;
  switch (mapping.attribute) {
    case 'uri':
      return certificate.uris.some((uri) => pattern.matches(uri));
    case 'email':
      return certificate.emails.some((email) => pattern.matches(email));
    case 'commonName':
      return certificate.commonName !== undefined && pattern.matches(certificate.commonName);
  }
}
