// Subject alternative names (RFC 5280 §4.2.1.6): checked, and converted to and from node-forge.

import { isIP } from 'node:net';

/** The names a leaf certificate is issued for, by GeneralName kind. */
export interface SubjectAltNames {
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** URIs, SPIFFE IDs (`spiffe://example.org/ns/ml/sa/batch`) among them. */
  readonly uris?: readonly string[];
  readonly emails?: readonly string[];
}

/** GeneralName tags of RFC 5280 §4.2.1.6 that the engine writes. */
const GENERAL_NAME = { email: 1, dns: 2, uri: 6, ip: 7 } as const;

/** A forge `altNames` entry. */
interface ForgeAltName {
  readonly type: number;
  readonly value?: string;
  readonly ip?: string;
}

// Printable ASCII only: dNSName, rfc822Name and URI are IA5Strings, and a control character or
// a space in a name is how a certificate misleads a log reader or a careless parser.
const IA5_PRINTABLE = /^[\x21-\x7e]+$/;
const DNS_NAME =
  /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;
const EMAIL = /^[^@\s]+@[^@\s]+$/;

/**
 * The first problem with `names`, as a sentence naming the value, or undefined when every name
 * can be written: DNS names are hostnames (a leading `*.` allowed), IP addresses IPv4 or IPv6,
 * URIs absolute with a scheme, e-mail addresses `local@domain`, all printable ASCII.
 */
export function findSubjectAltNameProblem(names: SubjectAltNames): string | undefined {
  for (const name of names.dnsNames ?? []) {
    if (!DNS_NAME.test(name) || name.length > 253) return `DNS name "${name}" is not a hostname`;
  }
  for (const address of names.ipAddresses ?? []) {
    if (isIP(address) === 0) return `IP address "${address}" is not an IPv4 or IPv6 address`;
  }
  for (const uri of names.uris ?? []) {
    if (!IA5_PRINTABLE.test(uri) || !URL.canParse(uri))
      return `URI "${uri}" is not an absolute URI`;
  }
  for (const email of names.emails ?? []) {
    if (!IA5_PRINTABLE.test(email) || !EMAIL.test(email)) {
      return `e-mail address "${email}" is not of the form local@domain`;
    }
  }
  return undefined;
}

/** Whether `names` holds no name at all. */
export function hasNoAltNames(names: SubjectAltNames): boolean {
  return [names.dnsNames, names.ipAddresses, names.uris, names.emails].every(
    (list) => (list ?? []).length === 0,
  );
}

/** The `altNames` of forge's `subjectAltName` extension; assumes the names passed the check. */
export function toForgeAltNames(names: SubjectAltNames): ForgeAltName[] {
  return [
    ...(names.dnsNames ?? []).map((value) => ({ type: GENERAL_NAME.dns, value })),
    ...(names.ipAddresses ?? []).map((ip) => ({ type: GENERAL_NAME.ip, ip })),
    ...(names.uris ?? []).map((value) => ({ type: GENERAL_NAME.uri, value })),
    ...(names.emails ?? []).map((value) => ({ type: GENERAL_NAME.email, value })),
  ];
}

/** Reads back the names of a forge `subjectAltName` extension; other kinds are dropped. */
export function fromForgeAltNames(altNames: readonly ForgeAltName[]): SubjectAltNames {
  const of = (type: number) =>
    altNames.filter((name) => name.type === type).map((name) => name.value ?? '');
  return {
    dnsNames: of(GENERAL_NAME.dns),
    ipAddresses: altNames
      .filter((name) => name.type === GENERAL_NAME.ip && name.ip !== undefined)
      .map((name) => name.ip!),
    uris: of(GENERAL_NAME.uri),
    emails: of(GENERAL_NAME.email),
  };
}
