// Renewal: a new certificate for the same holder, names and usages, with a new serial and validity.

import forge from 'node-forge';
import { assertIssuedBy, type CertificateAuthority } from './certificate-authority';
import { forgeCertificate, type ParsedCertificate } from './certificate-pem';
import { lifetimeDays, type ValidityOptions } from './certificate-validity';
import { signLeafCertificate, type IssuedCertificate, type LeafProfile } from './leaf-certificate';
import { invalidMaterial } from './pki-material-files';
import type { RsaKeyPair } from './rsa-key-pair';
import { fromForgeAltNames } from './subject-alt-names';

/** How to renew. Without `days` or `notAfter`, the new certificate lives as long as the old. */
export interface RenewalOptions extends ValidityOptions {
  /** Keep this key (it must be the old certificate's); a new RSA key when absent. */
  readonly key?: RsaKeyPair;
}

// GeneralName tags the engine can write back: rfc822Name, dNSName, URI, iPAddress.
const WRITABLE_NAME_TYPES = new Set([1, 2, 6, 7]);

// Fields forge puts on a parsed extension next to the usages themselves.
const EXTENSION_FIELDS = new Set(['id', 'name', 'critical', 'value']);

/**
 * Renews `certificate` (read from `file`) with `ca`, which must have issued it. Rejects a key
 * that is not the certificate's, and a certificate with names the engine cannot write back (an
 * otherName, a directoryName), since renewing it would silently drop them.
 */
export function renewCertificate(
  ca: CertificateAuthority,
  certificate: ParsedCertificate,
  file: string,
  options: RenewalOptions = {},
): IssuedCertificate {
  assertIssuedBy(ca, certificate.x509, file);
  if (options.key !== undefined && !certificate.x509.checkPrivateKey(options.key.keyObject)) {
    throw invalidMaterial(`the key given to renew ${file} is not its private key`);
  }

  const profile = readLeafProfile(forgeCertificate(certificate, file), file);
  const days =
    options.days ??
    lifetimeDays({
      notBefore: new Date(certificate.x509.validFrom),
      notAfter: new Date(certificate.x509.validTo),
    });
  return signLeafCertificate(ca, profile, { ...options, days }, options.key);
}

/** What `cert` (read from `file`) says about its holder, in the form it is issued from. */
export function readLeafProfile(cert: forge.pki.Certificate, file: string): LeafProfile {
  const altNameExtension = cert.getExtension('subjectAltName') as {
    altNames: { type: number; value?: string; ip?: string }[];
  } | null;
  const altNames = altNameExtension?.altNames ?? [];
  if (altNames.some((name) => !WRITABLE_NAME_TYPES.has(name.type))) {
    throw invalidMaterial(`${file} has subject alternative names the engine cannot reissue`);
  }

  const usageExtension = (cert.getExtension('extKeyUsage') ?? {}) as Record<string, unknown>;
  const extendedKeyUsages = Object.keys(usageExtension).filter(
    (key) => !EXTENSION_FIELDS.has(key) && usageExtension[key] === true,
  );
  return {
    subject: cert.subject.attributes,
    extendedKeyUsages,
    altNames: fromForgeAltNames(altNames),
  };
}
