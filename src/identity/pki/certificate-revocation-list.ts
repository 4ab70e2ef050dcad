// X.509 v2 certificate revocation lists (RFC 5280 §5), built with forge.asn1 and signed by the CA.

import { sign } from 'node:crypto';
import forge from 'node-forge';
import type { CertificateAuthority } from './certificate-authority';
import { resolveValidity, type Validity } from './certificate-validity';
import {
  OID,
  certificateSubjectAsn1,
  derBytes,
  extensionAsn1,
  positiveIntegerAsn1,
  sequenceAsn1,
  sha256WithRsaAsn1,
  smallIntegerAsn1,
  timeAsn1,
} from './x509-asn1';

const { asn1 } = forge;

/**
 * CRLReason codes (RFC 5280 §5.3.1) an operator may give. certificateHold and removeFromCRL are
 * left out: a hold is undone through delta CRLs, which the engine does not publish.
 */
export const REVOCATION_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  privilegeWithdrawn: 9,
} as const;

/** The name of a CRLReason. */
export type RevocationReason = keyof typeof REVOCATION_REASONS;

/** Whether `value` names a {@link RevocationReason}. */
export function isRevocationReason(value: string): value is RevocationReason {
  return Object.hasOwn(REVOCATION_REASONS, value);
}

/** One entry of a CRL. */
export interface RevokedCertificate {
  /** The certificate's serial number in hex. */
  readonly serialNumber: string;
  readonly revokedAt: Date;
  readonly reason?: RevocationReason;
}

/** Lifetime of a CRL, in days, when none is asked for. */
export const DEFAULT_CRL_LIFETIME_DAYS = 30;

/** What a CRL says. */
export interface RevocationListOptions {
  /** cRLNumber (RFC 5280 §5.2.3): larger in every CRL the CA publishes. */
  readonly crlNumber: number;
  readonly revoked: readonly RevokedCertificate[];
  /** From thisUpdate to nextUpdate; {@link DEFAULT_CRL_LIFETIME_DAYS} when absent. */
  readonly days?: number;
  readonly now?: Date;
}

/** A signed CRL and the window it covers. */
export interface RevocationList {
  /** PEM, `-----BEGIN X509 CRL-----`. */
  readonly pem: string;
  readonly crlNumber: number;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
}

/**
 * Builds a CRL listing `options.revoked` and signs it with `ca`'s key. nextUpdate is always
 * set, and OpenSSL refuses every client of the CA once it has passed: a stale CRL could hide a
 * revocation, so a CRL must be republished before it expires.
 */
export function buildRevocationList(
  ca: CertificateAuthority,
  options: RevocationListOptions,
): RevocationList {
  const window = resolveValidity(
    { days: options.days ?? DEFAULT_CRL_LIFETIME_DAYS, now: options.now },
    DEFAULT_CRL_LIFETIME_DAYS,
  );
  const tbs = tbsCertList(ca, options, window);
  const tbsDer = derBytes(asn1.toDer(tbs).getBytes());
  // RSASSA-PKCS1-v1_5 with SHA-256, the algorithm the signature field above names.
  const signature = sign('sha256', tbsDer, ca.key.keyObject);

  const certificateList = sequenceAsn1([
    tbs,
    sha256WithRsaAsn1(),
    asn1.create(
      asn1.Class.UNIVERSAL,
      asn1.Type.BITSTRING,
      false,
      `\x00${signature.toString('binary')}`,
    ),
  ]);
  return {
    pem: pemEncode(derBytes(asn1.toDer(certificateList).getBytes())),
    crlNumber: options.crlNumber,
    thisUpdate: window.notBefore,
    nextUpdate: window.notAfter,
  };
}

/** TBSCertList, RFC 5280 §5.1.2. */
function tbsCertList(
  ca: CertificateAuthority,
  options: RevocationListOptions,
  window: Validity,
): forge.asn1.Asn1 {
  const fields = [
    smallIntegerAsn1(1), // v2, required because the CRL carries extensions (§5.1.2.1)
    sha256WithRsaAsn1(),
    certificateSubjectAsn1(ca.certificate.x509.raw),
    timeAsn1(window.notBefore),
    timeAsn1(window.notAfter),
  ];
  // §5.1.2.6: with nothing revoked the list is absent, not an empty SEQUENCE.
  if (options.revoked.length > 0) {
    fields.push(sequenceAsn1(options.revoked.map(revokedEntry)));
  }
  fields.push(
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [crlExtensions(ca, options.crlNumber)]),
  );
  return sequenceAsn1(fields);
}

/** One revokedCertificates entry, with a reasonCode entry extension when there is a reason. */
function revokedEntry(entry: RevokedCertificate): forge.asn1.Asn1 {
  const parts = [positiveIntegerAsn1(entry.serialNumber), timeAsn1(entry.revokedAt)];
  // §5.3.1: the reasonCode "unspecified" SHOULD be left out rather than written.
  if (entry.reason !== undefined && entry.reason !== 'unspecified') {
    const code = asn1.create(
      asn1.Class.UNIVERSAL,
      asn1.Type.ENUMERATED,
      false,
      String.fromCharCode(REVOCATION_REASONS[entry.reason]),
    );
    parts.push(sequenceAsn1([extensionAsn1(OID.reasonCode, false, code)]));
  }
  return sequenceAsn1(parts);
}

/** crlExtensions: authorityKeyIdentifier (§5.2.1, MUST) and cRLNumber (§5.2.3, MUST). */
function crlExtensions(ca: CertificateAuthority, crlNumber: number): forge.asn1.Asn1 {
  const keyIdentifier = sequenceAsn1([
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, ca.keyIdentifier),
  ]);
  return sequenceAsn1([
    extensionAsn1(OID.authorityKeyIdentifier, false, keyIdentifier),
    extensionAsn1(OID.cRLNumber, false, smallIntegerAsn1(crlNumber)),
  ]);
}

function pemEncode(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN X509 CRL-----\n${lines.join('\n')}\n-----END X509 CRL-----\n`;
}
