// The facts of a client certificate that identity and policy decide on, read from X.509.

import { createHash, type X509Certificate } from 'node:crypto';

/**
 * What the TLS layer proved about the peer: the leaf certificate it presented, verified against
 * the listener's trusted CAs and CRLs before any of these facts are believed.
 */
export interface PeerCertificate {
  /**
   * base64url (no padding) of the SHA-256 digest of the certificate's DER bytes: the form
   * RFC 8705 §3.1 puts in a token's `cnf` claim as `x5t#S256`, always 43 characters.
   */
  readonly thumbprint: string;
  /** The subject's distinguished name, attributes joined with ', ' as the certificate lists them. */
  readonly subject: string;
  /** The subject's common name, when it has one. */
  readonly commonName: string | undefined;
  readonly issuer: string;
  /** Serial number in upper-case hex, as CRLs and `infergate certs inspect` print it. */
  readonly serialNumber: string;
  /** URI subject alternative names (SPIFFE IDs among them). */
  readonly uris: readonly string[];
  /** e-mail subject alternative names. */
  readonly emails: readonly string[];
  readonly dnsNames: readonly string[];
  readonly validFrom: Date;
  readonly validTo: Date;
}

/** Computes the RFC 8705 `x5t#S256` thumbprint of a certificate's DER encoding. */
export function certificateThumbprint(der: Buffer): string {
  return createHash('sha256').update(der).digest('base64url');
}

/** Reads the facts of `certificate`; nothing here checks trust, the TLS handshake did. */
export function readPeerCertificate(certificate: X509Certificate): PeerCertificate {
  const names = parseSubjectAltName(certificate.subjectAltName ?? '');
  const subjectParts = distinguishedNameParts(certificate.subject);
  return {
    thumbprint: certificateThumbprint(certificate.raw),
    subject: subjectParts.join(', '),
    commonName: subjectParts.find((part) => part.startsWith('CN='))?.slice(3),
    issuer: distinguishedNameParts(certificate.issuer).join(', '),
    serialNumber: certificate.serialNumber.toUpperCase(),
    uris: names.filter((name) => name.type === 'URI').map((name) => name.value),
    emails: names.filter((name) => name.type === 'email').map((name) => name.value),
    dnsNames: names.filter((name) => name.type === 'DNS').map((name) => name.value),
    validFrom: new Date(certificate.validFrom),
    validTo: new Date(certificate.validTo),
  };
}

/** Node prints a distinguished name one attribute per line. */
function distinguishedNameParts(name: string): string[] {
  return name.split('\n').filter((part) => part.length > 0);
}

interface AltName {
  readonly type: string;
  readonly value: string;
}

/**
 * Splits Node's `subjectAltName` text (`DNS:a, URI:b, email:c`). Since the fix for
 * CVE-2021-44532 Node writes a value that contains a comma, quote or other special character as
 * a JSON string, so a crafted SAN cannot smuggle a second entry into the list: quoted values
 * are decoded as JSON and a separator inside quotes is part of the value.
 */
export function parseSubjectAltName(text: string): AltName[] {
  const names: AltName[] = [];
  let index = 0;
  while (index < text.length) {
    const colon = text.indexOf(':', index);
    if (colon < 0) break;
    const type = text.slice(index, colon).trim();
    const { value, next } = readAltNameValue(text, colon + 1);
    names.push({ type, value });
    index = next;
  }
  return names;
}

function readAltNameValue(text: string, start: number): { value: string; next: number } {
  if (text[start] === '"') {
    let end = start + 1;
    while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
    const value = JSON.parse(text.slice(start, end + 1)) as string;
    const separator = text.indexOf(', ', end);
    return { value, next: separator < 0 ? text.length : separator + 2 };
  }
  const separator = text.indexOf(', ', start);
  const end = separator < 0 ? text.length : separator;
  return { value: text.slice(start, end), next: separator < 0 ? text.length : separator + 2 };
}
