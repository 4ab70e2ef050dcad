// The development set: a CA, a server and a client certificate, a CRL and a token-signing key.

import { generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import {
  CA_CERT_FILE,
  CA_KEY_FILE,
  createCertificateAuthority,
  loadCertificateAuthorityFromDir,
  writeCertificateAuthority,
  type CertificateAuthority,
} from './certificate-authority';
import { isIssuedBy, readCertificateFile } from './certificate-pem';
import { renewCertificate } from './certificate-renewal';
import { CRL_FILE, publishRevocationList } from './certificate-revocation';
import {
  issueLeafCertificate,
  leafFiles,
  writeIssuedCertificate,
  type IssuedCertificate,
  type LeafCertificateOptions,
} from './leaf-certificate';
import {
  PRIVATE_KEY_MODE,
  ensureMaterialDirectory,
  invalidMaterial,
  materialFileExists,
  writeMaterialFile,
} from './pki-material-files';

/** Where each file of the development set lives. */
export interface DevelopmentCertificatePaths {
  readonly caCert: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** The CA's CRL; empty until something is revoked. */
  readonly crl: string;
  /** Ed25519 private key (PKCS#8 PEM) that infergate's own token issuer signs with. */
  readonly tokenIssuerKey: string;
}

/** The outcome of making or rotating the development set. */
export interface DevelopmentCertificates {
  readonly paths: DevelopmentCertificatePaths;
  /** True when at least one file was written. */
  readonly created: boolean;
  /** Every file written, in the order written. */
  readonly written: readonly string[];
}

/** What the development set is issued with: the clock, and the leaves' lifetime in days. */
export interface DevelopmentOptions {
  readonly now?: Date;
  readonly days?: number;
}

/** The development server certificate: every name a local client may dial. */
export const DEVELOPMENT_SERVER = {
  kind: 'server',
  commonName: 'localhost',
  altNames: { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '::1'] },
} as const satisfies LeafCertificateOptions;

/** The development client certificate, with the SPIFFE ID roles can be granted to. */
export const DEVELOPMENT_CLIENT = {
  kind: 'client',
  commonName: 'demo-client',
  altNames: { uris: ['spiffe://infergate.local/demo-client'] },
} as const satisfies LeafCertificateOptions;

const LEAVES = [
  { name: 'server', options: DEVELOPMENT_SERVER },
  { name: 'client', options: DEVELOPMENT_CLIENT },
] as const;

/** Where the development set lives in `dir`. */
export function developmentCertificatePaths(dir: string): DevelopmentCertificatePaths {
  const server = leafFiles(dir, 'server');
  const client = leafFiles(dir, 'client');
  return {
    caCert: path.join(dir, CA_CERT_FILE),
    caKey: path.join(dir, CA_KEY_FILE),
    serverCert: server.certFile,
    serverKey: server.keyFile,
    clientCert: client.certFile,
    clientKey: client.keyFile,
    crl: path.join(dir, CRL_FILE),
    tokenIssuerKey: path.join(dir, 'token-issuer-key.pem'),
  };
}

/**
 * Creates in `dir` each file of the development set that is absent and leaves the others alone.
 * Rejects half of a pair (a certificate without its key, or the reverse) and a server or client
 * certificate that the folder's CA did not issue, rather than hand out a set that cannot work.
 */
export function ensureDevelopmentCertificates(
  dir: string,
  options: DevelopmentOptions = {},
): DevelopmentCertificates {
  const paths = developmentCertificatePaths(dir);
  const written: string[] = [];
  ensureMaterialDirectory(dir);

  const ca = ensureAuthority(dir, paths, options, written);
  for (const leaf of LEAVES) ensureLeaf(ca, dir, leaf, options, written);
  if (!materialFileExists(paths.crl)) {
    const published = publishRevocationList(ca, dir, { now: options.now });
    written.push(published.stateFile, published.crlFile);
  }
  if (!materialFileExists(paths.tokenIssuerKey)) {
    writeMaterialFile(paths.tokenIssuerKey, ed25519PrivateKeyPem(), PRIVATE_KEY_MODE);
    written.push(paths.tokenIssuerKey);
  }
  return { paths, created: written.length > 0, written };
}

/**
 * Re-issues the server and client certificates of `dir` from its CA, each with a new key and the
 * names and usages it had (the defaults for one that is missing), and republishes the CRL.
 */
export function rotateDevelopmentCertificates(
  dir: string,
  options: DevelopmentOptions = {},
): DevelopmentCertificates {
  const paths = developmentCertificatePaths(dir);
  const ca = loadCertificateAuthorityFromDir(dir);
  const written: string[] = [];

  // The old certificates are not revoked: clients still holding them keep working until they
  // pick up the new ones, and a compromised one is for `certs revoke`.
  for (const leaf of LEAVES) {
    const files = leafFiles(dir, leaf.name);
    const issued = materialFileExists(files.certFile)
      ? renewCertificate(ca, readCertificateFile(files.certFile), files.certFile, options)
      : issueLeafCertificate(ca, { ...leaf.options, ...options });
    written.push(...writeIssuedCertificate(issued, files.certFile, files.keyFile));
  }
  const published = publishRevocationList(ca, dir, { now: options.now });
  written.push(published.stateFile, published.crlFile);
  return { paths, created: true, written };
}

function ensureAuthority(
  dir: string,
  paths: DevelopmentCertificatePaths,
  options: DevelopmentOptions,
  written: string[],
): CertificateAuthority {
  if (pairPresence(paths.caCert, paths.caKey)) return loadCertificateAuthorityFromDir(dir);
  const ca = createCertificateAuthority({ now: options.now });
  written.push(...writeCertificateAuthority(ca, dir));
  return ca;
}

function ensureLeaf(
  ca: CertificateAuthority,
  dir: string,
  leaf: (typeof LEAVES)[number],
  options: DevelopmentOptions,
  written: string[],
): void {
  const { certFile, keyFile } = leafFiles(dir, leaf.name);
  if (pairPresence(certFile, keyFile)) {
    if (!isIssuedBy(readCertificateFile(certFile).x509, ca.certificate.x509)) {
      throw invalidMaterial(`${certFile} was not issued by ${path.join(dir, CA_CERT_FILE)}`);
    }
    return;
  }
  const issued: IssuedCertificate = issueLeafCertificate(ca, { ...leaf.options, ...options });
  written.push(...writeIssuedCertificate(issued, certFile, keyFile));
}

/** True when both files exist, false when neither does; rejects one without the other. */
function pairPresence(certFile: string, keyFile: string): boolean {
  const cert = materialFileExists(certFile);
  const key = materialFileExists(keyFile);
  if (cert !== key) {
    const [present, absent] = cert ? [certFile, keyFile] : [keyFile, certFile];
    throw invalidMaterial(`${present} exists without ${absent}; restore it or remove both`);
  }
  return cert;
}

function ed25519PrivateKeyPem(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}
