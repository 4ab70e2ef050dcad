// The certificate authority that signs leaf certificates and CRLs: created here or loaded.

import type { X509Certificate } from 'node:crypto';
import path from 'node:path';
import forge from 'node-forge';
import { resolveValidity, type ValidityOptions } from './certificate-validity';
import {
  forgeCertificate,
  isIssuedBy,
  parseCertificatePem,
  readCertificateFile,
  type ParsedCertificate,
} from './certificate-pem';
import { randomSerialNumber } from './certificate-serial-number';
import {
  PRIVATE_KEY_MODE,
  PUBLIC_MATERIAL_MODE,
  ensureMaterialDirectory,
  invalidMaterial,
  readMaterialFile,
  writeMaterialFile,
} from './pki-material-files';
import { generateRsaKeyPair, loadRsaPrivateKey, type RsaKeyPair } from './rsa-key-pair';
import { certificateKeyUsages } from './x509-asn1';

/** File name of a CA's certificate inside a certificate folder. */
export const CA_CERT_FILE = 'ca.pem';

/** File name of a CA's private key beside {@link CA_CERT_FILE}. */
export const CA_KEY_FILE = 'ca-key.pem';

/** Common name of a CA made without one. */
export const DEFAULT_CA_COMMON_NAME = 'infergate development CA';

/** Lifetime of a new CA, in days, when none is asked for. */
export const DEFAULT_CA_LIFETIME_DAYS = 3_650;

/** A CA ready to sign: its certificate in both parsers' forms and its key. */
export interface CertificateAuthority {
  readonly certificate: ParsedCertificate;
  readonly forgeCertificate: forge.pki.Certificate;
  readonly key: RsaKeyPair;
  /**
   * The CA's key identifier as forge bytes: its subjectKeyIdentifier, or when it has none the
   * RFC 5280 §4.2.1.2 method 1 digest of its key, so issued certificates and CRLs can name it.
   */
  readonly keyIdentifier: string;
  /** Where the CA was loaded from, for messages; `undefined` for a CA made in memory. */
  readonly certFile: string | undefined;
}

/** What to make a new CA with. */
export interface CertificateAuthorityOptions extends ValidityOptions {
  readonly commonName?: string;
}

/**
 * Makes a self-signed CA (RFC 5280 §4.2.1.9 basicConstraints cA, critical; keyUsage keyCertSign
 * and cRLSign, critical; subjectKeyIdentifier) with a new RSA key.
 */
export function createCertificateAuthority(
  options: CertificateAuthorityOptions = {},
): CertificateAuthority {
  const validity = resolveValidity(options, DEFAULT_CA_LIFETIME_DAYS);
  const key = generateRsaKeyPair();
  const subject = [{ name: 'commonName', value: options.commonName ?? DEFAULT_CA_COMMON_NAME }];
  const cert = forge.pki.createCertificate();
  cert.publicKey = key.forgePublicKey;
  cert.serialNumber = randomSerialNumber();
  cert.validity.notBefore = validity.notBefore;
  cert.validity.notAfter = validity.notAfter;
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    // No pathLenConstraint: only the holder of this key can add an intermediate below it, and
    // a limit of 0 would break the chains of one an operator adds later.
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(key.forgePrivateKey, forge.md.sha256.create());

  const pem = forge.pki.certificateToPem(cert);
  return authority(parseCertificatePem(pem, 'the new CA'), key, undefined);
}

/**
 * Loads a CA from its certificate and key files. Rejects, naming the file, a certificate that is
 * not a CA or may not sign certificates, a key that is not RSA, and a key that is not the
 * certificate's.
 */
export function loadCertificateAuthority(certFile: string, keyFile: string): CertificateAuthority {
  const certificate = readCertificateFile(certFile);
  if (!certificate.x509.ca) {
    throw invalidMaterial(`${certFile} is not a CA certificate (basicConstraints cA is not set)`);
  }
  const usages = certificateKeyUsages(certificate.x509.raw);
  if (usages !== undefined && !usages.includes('keyCertSign')) {
    throw invalidMaterial(`${certFile} is a CA whose keyUsage does not allow keyCertSign`);
  }
  const key = loadRsaPrivateKey(readMaterialFile(keyFile), keyFile);
  if (!certificate.x509.checkPrivateKey(key.keyObject)) {
    throw invalidMaterial(`${keyFile} is not the private key of ${certFile}`);
  }
  return authority(certificate, key, certFile);
}

/** Loads the CA kept in `dir` as {@link CA_CERT_FILE} and {@link CA_KEY_FILE}. */
export function loadCertificateAuthorityFromDir(dir: string): CertificateAuthority {
  return loadCertificateAuthority(path.join(dir, CA_CERT_FILE), path.join(dir, CA_KEY_FILE));
}

/**
 * Writes the CA into `dir` (created when missing) and returns the files written, key
 * first, so a watcher that reacts to the certificate finds its key already in place.
 */
export function writeCertificateAuthority(ca: CertificateAuthority, dir: string): string[] {
  const certFile = path.join(dir, CA_CERT_FILE);
  const keyFile = path.join(dir, CA_KEY_FILE);
  ensureMaterialDirectory(dir);
  writeMaterialFile(keyFile, ca.key.pem, PRIVATE_KEY_MODE);
  writeMaterialFile(certFile, ca.certificate.pem, PUBLIC_MATERIAL_MODE);
  return [keyFile, certFile];
}

/** Rejects `certificate` (read from `file`) unless `ca` issued it. */
export function assertIssuedBy(
  ca: CertificateAuthority,
  certificate: X509Certificate,
  file: string,
): void {
  if (!isIssuedBy(certificate, ca.certificate.x509)) {
    throw invalidMaterial(`${file} was not issued by ${ca.certFile ?? 'this CA'}`);
  }
}

function authority(
  certificate: ParsedCertificate,
  key: RsaKeyPair,
  certFile: string | undefined,
): CertificateAuthority {
  const parsed = forgeCertificate(certificate, certFile ?? 'the new CA');
  const extension = parsed.getExtension('subjectKeyIdentifier') as {
    subjectKeyIdentifier?: string;
  } | null;
  const keyIdentifier =
    extension?.subjectKeyIdentifier !== undefined
      ? forge.util.hexToBytes(extension.subjectKeyIdentifier)
      : parsed.generateSubjectKeyIdentifier().getBytes();
  return { certificate, forgeCertificate: parsed, key, keyIdentifier, certFile };
}
