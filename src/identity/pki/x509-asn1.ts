// The pieces of X.509 DER the engine writes and reads by hand, where node-forge has no API.

import forge from 'node-forge';

const { asn1 } = forge;

/** Object identifiers the engine writes or reads. */
export const OID = {
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  keyUsage: '2.5.29.15',
  cRLNumber: '2.5.29.20',
  reasonCode: '2.5.29.21',
  authorityKeyIdentifier: '2.5.29.35',
} as const;

/** DER bytes as the binary string forge works on. */
export function forgeBytes(der: Buffer): string {
  return der.toString('binary');
}

/** A forge binary string as DER bytes. */
export function derBytes(bytes: string): Buffer {
  return Buffer.from(bytes, 'binary');
}

/** An OBJECT IDENTIFIER. */
export function oidAsn1(oid: string): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(oid).getBytes());
}

/** A SEQUENCE of `items`. */
export function sequenceAsn1(items: forge.asn1.Asn1[]): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, items);
}

/** A small non-negative INTEGER (a version, a CRL number). */
export function smallIntegerAsn1(value: number): forge.asn1.Asn1 {
  return asn1.create(
    asn1.Class.UNIVERSAL,
    asn1.Type.INTEGER,
    false,
    asn1.integerToDer(value).getBytes(),
  );
}

/** A positive INTEGER from hex digits (a serial number), minimally encoded as DER requires. */
export function positiveIntegerAsn1(hex: string): forge.asn1.Asn1 {
  let digits = hex.replace(/^0+(?=.)/, '');
  if (digits.length % 2 === 1) digits = `0${digits}`;
  // A leading byte of 0x80 or more would read as negative; one zero byte keeps it positive.
  if (parseInt(digits.slice(0, 2), 16) >= 0x80) digits = `00${digits}`;
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, forge.util.hexToBytes(digits));
}

/**
 * A Time (RFC 5280 §5.1.2.4 and §4.1.2.5): UTCTime for the years 1950 to 2049, GeneralizedTime
 * otherwise, both to the second in UTC.
 */
export function timeAsn1(date: Date): forge.asn1.Asn1 {
  const year = date.getUTCFullYear();
  if (year >= 1950 && year < 2050) {
    return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(date));
  }
  return asn1.create(
    asn1.Class.UNIVERSAL,
    asn1.Type.GENERALIZEDTIME,
    false,
    asn1.dateToGeneralizedTime(date),
  );
}

/** An AlgorithmIdentifier for sha256WithRSAEncryption, parameters NULL (RFC 4055 §5). */
export function sha256WithRsaAsn1(): forge.asn1.Asn1 {
  return sequenceAsn1([
    oidAsn1(OID.sha256WithRSAEncryption),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''),
  ]);
}

/** An Extension (RFC 5280 §4.1): `extnValue` is the DER of `value` inside an OCTET STRING. */
export function extensionAsn1(
  oid: string,
  critical: boolean,
  value: forge.asn1.Asn1,
): forge.asn1.Asn1 {
  const parts = [oidAsn1(oid)];
  if (critical) {
    parts.push(asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BOOLEAN, false, '\xff'));
  }
  parts.push(
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, asn1.toDer(value).getBytes()),
  );
  return sequenceAsn1(parts);
}

/**
 * The fields of a certificate's TBSCertificate (RFC 5280 §4.1), the optional `[0]` version
 * skipped, so index 4 is the subject whether or not the version is written.
 */
function tbsFields(der: Buffer): forge.asn1.Asn1[] {
  const certificate = asn1.fromDer(forgeBytes(der));
  const tbs = (certificate.value as forge.asn1.Asn1[])[0]!;
  const fields = tbs.value as forge.asn1.Asn1[];
  const versioned = fields[0]!.tagClass === asn1.Class.CONTEXT_SPECIFIC && fields[0]!.type === 0;
  return versioned ? fields.slice(1) : fields;
}

/**
 * The subject Name of a certificate exactly as it is encoded. A CRL's issuer must match its CA's
 * subject, and copying the bytes keeps every string type an operator's CA happens to use.
 */
export function certificateSubjectAsn1(der: Buffer): forge.asn1.Asn1 {
  return tbsFields(der)[4]!;
}

/** The DER (inside `extnValue`, as forge bytes) of a certificate's extension `oid`, if any. */
export function certificateExtensionDer(der: Buffer, oid: string): string | undefined {
  const wrapper = tbsFields(der).find(
    (field) => field.tagClass === asn1.Class.CONTEXT_SPECIFIC && field.type === 3,
  );
  const extensions = ((wrapper?.value as forge.asn1.Asn1[] | undefined)?.[0]?.value ??
    []) as forge.asn1.Asn1[];
  for (const extension of extensions) {
    const parts = extension.value as forge.asn1.Asn1[];
    if (asn1.derToOid(parts[0]!.value as string) !== oid) continue;
    return parts[parts.length - 1]!.value as string;
  }
  return undefined;
}

/** The bits of keyUsage (RFC 5280 §4.2.1.3), in bit order. */
const KEY_USAGE_BITS = [
  'digitalSignature',
  'contentCommitment',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;

/** The names of the keyUsage bits a certificate sets, or undefined when it has no keyUsage. */
export function certificateKeyUsages(der: Buffer): string[] | undefined {
  const value = certificateExtensionDer(der, OID.keyUsage);
  if (value === undefined) return undefined;
  // Read from the bytes rather than through forge.asn1, which may take a BIT STRING for nested
  // ASN.1. Tag and a short length come first (at most 3 content bytes), then the count of unused
  // bits, then the flags, first bit high.
  const bits = value.slice(3);
  return KEY_USAGE_BITS.filter((_, index) => {
    const byte = bits.charCodeAt(index >> 3);
    return !Number.isNaN(byte) && (byte & (0x80 >> (index & 7))) !== 0;
  });
}
