// What a certificate says, for `infergate certs inspect` and for expiry checks: facts, no trust.

import { readPeerCertificate, parseSubjectAltName } from '../peer-certificate';
import type { ParsedCertificate } from './certificate-pem';
import { daysLeft } from './certificate-validity';
import { certificateKeyUsages } from './x509-asn1';

/** Whether a certificate is inside its validity window at the time of inspection. */
export type ValidityStatus = 'valid' | 'expired' | 'not yet valid';

/** The facts of one certificate. */
export interface CertificateReport {
  /** Distinguished names, attributes joined with ', ' as {@link readPeerCertificate} does. */
  readonly subject: string;
  readonly issuer: string;
  /** Upper-case hex, as CRLs list it. */
  readonly serialNumber: string;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly uris: readonly string[];
  readonly emails: readonly string[];
  /** keyUsage bit names (RFC 5280 §4.2.1.3); empty when the extension is absent. */
  readonly keyUsages: readonly string[];
  /** extKeyUsage names (`serverAuth`), or the dotted OID of one without a name here. */
  readonly extendedKeyUsages: readonly string[];
  readonly isCa: boolean;
  /** The key's type and size: `rsa 2048`, `ec prime256v1`, `ed25519`. */
  readonly publicKey: string;
  readonly validFrom: Date;
  readonly validTo: Date;
  /** Whole days until validTo: 0 on the last day, negative once expired. */
  readonly daysLeft: number;
  readonly status: ValidityStatus;
  /** RFC 8705 `x5t#S256`, what a token bound to this certificate carries in `cnf`. */
  readonly thumbprint: string;
}

/** Extended key usage OIDs (RFC 5280 §4.2.1.12) by name. */
const EXTENDED_KEY_USAGE_NAMES: Readonly<Record<string, string>> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
};

/** Reads the facts of `certificate` as of `now`. It checks no signature and trusts nothing. */
export function inspectCertificate(
  certificate: ParsedCertificate,
  now: Date = new Date(),
): CertificateReport {
  const { x509 } = certificate;
  const peer = readPeerCertificate(x509);
  const ipAddresses = parseSubjectAltName(x509.subjectAltName ?? '')
    .filter((name) => name.type === 'IP Address')
    .map((name) => compactAddress(name.value));
  return {
    subject: peer.subject,
    issuer: peer.issuer,
    serialNumber: peer.serialNumber,
    dnsNames: peer.dnsNames,
    ipAddresses,
    uris: peer.uris,
    emails: peer.emails,
    keyUsages: certificateKeyUsages(x509.raw) ?? [],
    extendedKeyUsages: (x509.keyUsage ?? []).map((oid) => EXTENDED_KEY_USAGE_NAMES[oid] ?? oid),
    isCa: x509.ca,
    publicKey: describePublicKey(certificate),
    validFrom: peer.validFrom,
    validTo: peer.validTo,
    daysLeft: daysLeft(peer.validTo, now),
    status: validityStatus(peer.validFrom, peer.validTo, now),
    thumbprint: peer.thumbprint,
  };
}

/**
 * OpenSSL prints IPv6 addresses in full (`0:0:0:0:0:0:0:1`); the WHATWG URL serializer writes the
 * RFC 5952 form (`::1`) that operators type and that `--ip` takes.
 */
function compactAddress(address: string): string {
  return address.includes(':') ? new URL(`http://[${address}]/`).hostname.slice(1, -1) : address;
}

function validityStatus(validFrom: Date, validTo: Date, now: Date): ValidityStatus {
  if (now.getTime() < validFrom.getTime()) return 'not yet valid';
  return now.getTime() > validTo.getTime() ? 'expired' : 'valid';
}

function describePublicKey(certificate: ParsedCertificate): string {
  const key = certificate.x509.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  const size = details.modulusLength ?? details.namedCurve;
  return size === undefined ? `${key.asymmetricKeyType}` : `${key.asymmetricKeyType} ${size}`;
}
