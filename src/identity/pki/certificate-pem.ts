// Certificates read from PEM, in Node's form (to check) and node-forge's (to build from).

import { X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { invalidMaterial, readMaterialFile } from './pki-material-files';

/** A certificate as text and as Node parsed it. */
export interface ParsedCertificate {
  readonly pem: string;
  readonly x509: X509Certificate;
}

/** Parses the first certificate of `pem`; rejects anything else, naming `file`. */
export function parseCertificatePem(pem: string, file: string): ParsedCertificate {
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw invalidMaterial(`${file} holds no PEM certificate`);
  }
  try {
    const x509 = new X509Certificate(pem);
    return { pem: x509.toString(), x509 };
  } catch (err) {
    throw invalidMaterial(`${file} holds a malformed certificate`, err);
  }
}

/** Reads and parses the certificate in `file`. */
export function readCertificateFile(file: string): ParsedCertificate {
  return parseCertificatePem(readMaterialFile(file), file);
}

/** node-forge's view of `certificate`, which it can build only for RSA keys. */
export function forgeCertificate(
  certificate: ParsedCertificate,
  file: string,
): forge.pki.Certificate {
  if (certificate.x509.publicKey.asymmetricKeyType !== 'rsa') {
    throw invalidMaterial(`${file} certifies a non-RSA key, which the engine cannot reissue`);
  }
  try {
    return forge.pki.certificateFromPem(certificate.pem);
  } catch (err) {
    throw invalidMaterial(`${file} holds a certificate node-forge cannot read`, err);
  }
}

/** Whether `certificate` was signed by the holder of `issuer`'s key, with matching names. */
export function isIssuedBy(certificate: X509Certificate, issuer: X509Certificate): boolean {
  return certificate.checkIssued(issuer) && certificate.verify(issuer.publicKey);
}
