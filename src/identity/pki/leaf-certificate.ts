// Leaf certificates: server (serverAuth, DNS and IP names) and client (clientAuth, URI and e-mail).

import path from 'node:path';
import forge from 'node-forge';
import { certificateThumbprint } from '../peer-certificate';
import type { CertificateAuthority } from './certificate-authority';
import { parseCertificatePem, type ParsedCertificate } from './certificate-pem';
import { randomSerialNumber } from './certificate-serial-number';
import { resolveValidity, type ValidityOptions } from './certificate-validity';
import {
  PRIVATE_KEY_MODE,
  PUBLIC_MATERIAL_MODE,
  ensureMaterialDirectory,
  invalidMaterial,
  writeMaterialFile,
} from './pki-material-files';
import { generateRsaKeyPair, type RsaKeyPair } from './rsa-key-pair';
import {
  findSubjectAltNameProblem,
  hasNoAltNames,
  toForgeAltNames,
  type SubjectAltNames,
} from './subject-alt-names';

/** What a leaf certificate is for: a TLS server, or a TLS client (mTLS). */
export type LeafCertificateKind = 'server' | 'client';

/** Lifetime of a leaf certificate, in days, when none is asked for. */
export const DEFAULT_LEAF_LIFETIME_DAYS = 90;

/** What to issue. `notBefore` / `notAfter` can make an expired or not-yet-valid certificate. */
export interface LeafCertificateOptions extends ValidityOptions {
  readonly kind: LeafCertificateKind;
  readonly commonName: string;
  readonly altNames?: SubjectAltNames;
  /** The key to certify; a new RSA key when absent. */
  readonly key?: RsaKeyPair;
}

/** What a leaf certificate says about its holder, kept as is when it is renewed. */
export interface LeafProfile {
  /** The subject's attributes, in forge's form, copied exactly on renewal. */
  readonly subject: forge.pki.CertificateField[];
  /** Extended key usages (RFC 5280 §4.2.1.12) by forge name (`serverAuth`) or dotted OID. */
  readonly extendedKeyUsages: readonly string[];
  readonly altNames: SubjectAltNames;
}

/** A signed leaf certificate with its key and RFC 8705 thumbprint. */
export interface IssuedCertificate {
  readonly certificate: ParsedCertificate;
  readonly key: RsaKeyPair;
  /** `x5t#S256` of the certificate, what a token bound to it carries in `cnf`. */
  readonly thumbprint: string;
}

/** Where a certificate named `name` lives in `dir`: `NAME.pem` and `NAME-key.pem`. */
export function leafFiles(dir: string, name: string): { certFile: string; keyFile: string } {
  return { certFile: path.join(dir, `${name}.pem`), keyFile: path.join(dir, `${name}-key.pem`) };
}

/**
 * Issues a leaf certificate signed by `ca`. Rejects a common name that is empty or longer than
 * 64 characters (RFC 5280 ub-common-name), a name that cannot be written (see
 * {@link findSubjectAltNameProblem}), and a server certificate without a DNS name or IP address.
 */
export function issueLeafCertificate(
  ca: CertificateAuthority,
  options: LeafCertificateOptions,
): IssuedCertificate {
  const altNames = options.altNames ?? {};
  checkLeafNames(options.kind, options.commonName, altNames);

  const profile: LeafProfile = {
    subject: [{ name: 'commonName', value: options.commonName }],
    extendedKeyUsages: [options.kind === 'server' ? 'serverAuth' : 'clientAuth'],
    altNames,
  };
  return signLeafCertificate(ca, profile, options, options.key);
}

/**
 * Signs a certificate for `profile` with a new serial number and the validity `options` ask
 * for, certifying `key` or a new RSA key.
 */
export function signLeafCertificate(
  ca: CertificateAuthority,
  profile: LeafProfile,
  options: ValidityOptions,
  givenKey?: RsaKeyPair,
): IssuedCertificate {
  const validity = resolveValidity(options, DEFAULT_LEAF_LIFETIME_DAYS);
  const key = givenKey ?? generateRsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = key.forgePublicKey;
  cert.serialNumber = randomSerialNumber();
  cert.validity.notBefore = validity.notBefore;
  cert.validity.notAfter = validity.notAfter;
  cert.setSubject(profile.subject);
  cert.setIssuer(ca.forgeCertificate.subject.attributes);
  cert.setExtensions(leafExtensions(ca, profile));
  cert.sign(ca.key.forgePrivateKey, forge.md.sha256.create());

  const certificate = parseCertificatePem(forge.pki.certificateToPem(cert), 'the new certificate');
  return { certificate, key, thumbprint: certificateThumbprint(certificate.x509.raw) };
}

/**
 * Writes an issued certificate and its key (created or replaced atomically, key first, so a
 * watcher that reacts to the certificate finds the matching key in place); returns the files.
 */
export function writeIssuedCertificate(
  issued: IssuedCertificate,
  certFile: string,
  keyFile: string,
): string[] {
  ensureMaterialDirectory(path.dirname(certFile));
  writeMaterialFile(keyFile, issued.key.pem, PRIVATE_KEY_MODE);
  writeMaterialFile(certFile, issued.certificate.pem, PUBLIC_MATERIAL_MODE);
  return [keyFile, certFile];
}

function checkLeafNames(kind: LeafCertificateKind, commonName: string, names: SubjectAltNames) {
  if (commonName.length === 0 || commonName.length > 64) {
    throw invalidMaterial(`common name "${commonName}" is not 1 to 64 characters long`);
  }
  const problem = findSubjectAltNameProblem(names);
  if (problem !== undefined) throw invalidMaterial(problem);
  // Browsers, Go and RFC 9525 match a server by its subjectAltName only, never by common name;
  // a server certificate without one would be refused by most clients.
  const serverNames = [...(names.dnsNames ?? []), ...(names.ipAddresses ?? [])];
  if (kind === 'server' && serverNames.length === 0) {
    throw invalidMaterial(`server certificate "${commonName}" names no DNS name or IP address`);
  }
}

function leafExtensions(ca: CertificateAuthority, profile: LeafProfile): object[] {
  const usages = Object.fromEntries(profile.extendedKeyUsages.map((usage) => [usage, true]));
  const extensions: object[] = [
    // cA false, critical: a leaf key that leaked must not be able to sign certificates.
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.keyIdentifier },
  ];
  if (profile.extendedKeyUsages.length > 0) extensions.push({ name: 'extKeyUsage', ...usages });
  if (!hasNoAltNames(profile.altNames)) {
    extensions.push({ name: 'subjectAltName', altNames: toForgeAltNames(profile.altNames) });
  }
  return extensions;
}
