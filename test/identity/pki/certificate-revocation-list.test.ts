// CRLs: their RFC 5280 structure, and what a real TLS server with them refuses.

import assert from 'node:assert/strict';
import { verify } from 'node:crypto';
import { test } from 'node:test';
import forge from 'node-forge';
import {
  createCertificateAuthority,
  type CertificateAuthority,
} from '../../../src/identity/pki/certificate-authority';
import { buildRevocationList } from '../../../src/identity/pki/certificate-revocation-list';
import {
  issueLeafCertificate,
  type IssuedCertificate,
} from '../../../src/identity/pki/leaf-certificate';
import { probeClientCertificate } from '../../fixtures/mtls-probe';

const { asn1 } = forge;
const NOW = new Date('2030-01-15T12:00:00.000Z');

type Node = forge.asn1.Asn1;

function children(node: Node): Node[] {
  return node.value as Node[];
}

/** The DER of a CRL PEM, and its three top-level parts. */
function parseCrl(pem: string) {
  assert.match(pem, /^-----BEGIN X509 CRL-----\n[A-Za-z0-9+/=\n]+\n-----END X509 CRL-----\n$/);
  const der = forge.util.decode64(pem.replace(/-----[^-]+-----|\s/g, ''));
  const [tbs, algorithm, signature] = children(asn1.fromDer(der));
  return { tbs: tbs!, algorithm: algorithm!, signature: signature! };
}

function oidOf(node: Node): string {
  return asn1.derToOid(node.value as string);
}

/** crlExtensions or crlEntryExtensions as OID → extnValue (decoded). */
function extensionsOf(sequence: Node): Map<string, Node> {
  return new Map(
    children(sequence).map((extension) => {
      const parts = children(extension);
      return [oidOf(parts[0]!), asn1.fromDer(parts[parts.length - 1]!.value as string)];
    }),
  );
}

function clientOf(ca: CertificateAuthority, commonName: string): IssuedCertificate {
  return issueLeafCertificate(ca, { kind: 'client', commonName });
}

function tlsEnds(issued: IssuedCertificate) {
  return { cert: issued.certificate.pem, key: issued.key.pem };
}

test('refuses a revoked client certificate in TLS and accepts its sibling', async (t) => {
  const ca = createCertificateAuthority();
  const server = issueLeafCertificate(ca, {
    kind: 'server',
    commonName: 'localhost',
    altNames: { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] },
  });
  const revoked = clientOf(ca, 'leaked');
  const kept = clientOf(ca, 'batch');
  const crl = buildRevocationList(ca, {
    crlNumber: 2,
    revoked: [
      {
        serialNumber: revoked.certificate.x509.serialNumber,
        revokedAt: new Date(),
        reason: 'keyCompromise',
      },
    ],
  });
  const probe = (client: IssuedCertificate) =>
    probeClientCertificate(t, {
      ca: ca.certificate.pem,
      crl: crl.pem,
      server: tlsEnds(server),
      client: tlsEnds(client),
    });

  assert.deepEqual(await probe(revoked), { authorized: false, error: 'CERT_REVOKED' });
  assert.deepEqual(await probe(kept), { authorized: true, error: null });
});

test('is accepted by TLS with nothing revoked, and refused once nextUpdate passed', async (t) => {
  const ca = createCertificateAuthority();
  const server = issueLeafCertificate(ca, {
    kind: 'server',
    commonName: 'localhost',
    altNames: { dnsNames: ['localhost'] },
  });
  const client = clientOf(ca, 'batch');
  const fresh = buildRevocationList(ca, { crlNumber: 1, revoked: [] });
  const stale = buildRevocationList(ca, {
    crlNumber: 1,
    revoked: [],
    days: 1,
    now: new Date(Date.now() - 3 * 86_400_000),
  });
  const probe = (crl: string) =>
    probeClientCertificate(t, {
      ca: ca.certificate.pem,
      crl,
      server: tlsEnds(server),
      client: tlsEnds(client),
    });

  assert.deepEqual(await probe(fresh.pem), { authorized: true, error: null });
  assert.deepEqual(await probe(stale.pem), { authorized: false, error: 'CRL_HAS_EXPIRED' });
});

test('writes a v2 TBSCertList signed with sha256WithRSAEncryption by the CA key', () => {
  const ca = createCertificateAuthority({ now: NOW });

  const crl = buildRevocationList(ca, { crlNumber: 7, revoked: [], now: NOW, days: 30 });
  const { tbs, algorithm, signature } = parseCrl(crl.pem);
  const [version, innerAlgorithm, issuer, thisUpdate, nextUpdate, extensions] = children(tbs);

  assert.equal(asn1.derToInteger(version!.value as string), 1);
  assert.equal(oidOf(children(innerAlgorithm!)[0]!), '1.2.840.113549.1.1.11');
  assert.equal(oidOf(children(algorithm)[0]!), '1.2.840.113549.1.1.11');
  const caSubject = forge.pki.distinguishedNameToAsn1(ca.forgeCertificate.subject);
  assert.equal(asn1.toDer(issuer!).getBytes(), asn1.toDer(caSubject).getBytes());
  assert.equal(thisUpdate!.type, asn1.Type.UTCTIME);
  assert.equal(
    asn1.utcTimeToDate(thisUpdate!.value as string).toISOString(),
    '2030-01-15T11:55:00.000Z',
  );
  assert.equal(
    asn1.utcTimeToDate(nextUpdate!.value as string).toISOString(),
    '2030-02-14T12:00:00.000Z',
  );
  assert.deepEqual(
    [crl.thisUpdate, crl.nextUpdate].map((date) => date.toISOString()),
    ['2030-01-15T11:55:00.000Z', '2030-02-14T12:00:00.000Z'],
  );
  assert.equal(extensions!.tagClass, asn1.Class.CONTEXT_SPECIFIC, 'no revokedCertificates');
  assert.equal(extensions!.type, 0);
  const signed = Buffer.from(asn1.toDer(tbs).getBytes(), 'binary');
  const value = Buffer.from((signature.value as string).slice(1), 'binary');
  assert.equal(verify('sha256', signed, ca.certificate.x509.publicKey, value), true);
});

test('carries the CA key identifier and the CRL number as CRL extensions', () => {
  const ca = createCertificateAuthority();

  const { tbs } = parseCrl(buildRevocationList(ca, { crlNumber: 300, revoked: [] }).pem);
  const extensions = extensionsOf(children(children(tbs).at(-1)!)[0]!);

  assert.deepEqual([...extensions.keys()], ['2.5.29.35', '2.5.29.20']);
  const keyIdentifier = children(extensions.get('2.5.29.35')!)[0]!;
  assert.equal(keyIdentifier.tagClass, asn1.Class.CONTEXT_SPECIFIC);
  assert.equal(keyIdentifier.value, ca.keyIdentifier);
  assert.equal(asn1.derToInteger(extensions.get('2.5.29.20')!.value as string), 300);
});

test('lists each revoked serial with its date and reason, leaving out "unspecified"', () => {
  const ca = createCertificateAuthority();
  const revokedAt = new Date('2030-01-10T09:30:00.000Z');

  const { tbs } = parseCrl(
    buildRevocationList(ca, {
      crlNumber: 3,
      revoked: [
        { serialNumber: '7F00000000000000000000000000AB01', revokedAt, reason: 'superseded' },
        { serialNumber: '80FF', revokedAt, reason: 'unspecified' },
        { serialNumber: '0042', revokedAt },
      ],
    }).pem,
  );
  const entries = children(children(tbs)[5]!);

  assert.equal(entries.length, 3);
  const serials = entries.map((entry) =>
    forge.util.bytesToHex(children(entry)[0]!.value as string).toUpperCase(),
  );
  assert.deepEqual(serials, ['7F00000000000000000000000000AB01', '0080FF', '42']);
  const dates = entries.map((entry) => asn1.utcTimeToDate(children(entry)[1]!.value as string));
  assert.deepEqual(dates, [revokedAt, revokedAt, revokedAt]);
  const reason = extensionsOf(children(entries[0]!)[2]!).get('2.5.29.21')!;
  assert.equal(reason.type, asn1.Type.ENUMERATED);
  assert.equal((reason.value as string).charCodeAt(0), 4);
  assert.equal(children(entries[1]!).length, 2);
  assert.equal(children(entries[2]!).length, 2);
});

test('writes times from 2050 on as GeneralizedTime (RFC 5280 §5.1.2.4)', () => {
  const ca = createCertificateAuthority();

  const { tbs } = parseCrl(
    buildRevocationList(ca, {
      crlNumber: 1,
      revoked: [],
      now: new Date('2049-12-20T00:00:00.000Z'),
      days: 30,
    }).pem,
  );
  const [, , , thisUpdate, nextUpdate] = children(tbs);

  assert.equal(thisUpdate!.type, asn1.Type.UTCTIME);
  assert.equal(nextUpdate!.type, asn1.Type.GENERALIZEDTIME);
  assert.equal(
    asn1.generalizedTimeToDate(nextUpdate!.value as string).toISOString(),
    '2050-01-19T00:00:00.000Z',
  );
});
