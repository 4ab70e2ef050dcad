// The identity of a gateway started without a configuration file: the development set of
// certificates, made on first run, and one role for its client certificate.

import { PERMISSIONS } from '../config/identity-schema';
import {
  DEVELOPMENT_CLIENT,
  ensureDevelopmentCertificates,
  type DevelopmentCertificatePaths,
} from '../identity/pki/development-certificates';
import { loadCertificateAuthorityFromDir } from '../identity/pki/certificate-authority';
import { publishRevocationList } from '../identity/pki/certificate-revocation';
import type { Logger } from '../observe/logger';

/** Where `infergate start` and `infergate infer` keep the development set by default. */
export const DEVELOPMENT_CERTS_DIR = 'certs';

/** The role the development client certificate holds: every operation on every model. */
export const DEVELOPMENT_ROLE = 'demo';

/** The development identity of a gateway, and the files made for it on this run. */
export interface DevelopmentIdentity {
  readonly sections: Record<string, unknown>;
  readonly written: readonly string[];
}

/**
 * The `tls`, `auth` and `roles` sections for a gateway on the development set in `dir`, which is
 * created first where files are missing. The set is for trying infergate on one machine: its CA
 * key lies beside the certificates, so anyone who can read the folder can mint clients.
 */
export function developmentIdentity(dir: string): DevelopmentIdentity {
  const made = ensureDevelopmentCertificates(dir);
  const written = [...made.written];
  if (!written.includes(made.paths.crl)) {
    // A CRL past its nextUpdate makes OpenSSL refuse every client of its CA: a development
    // set that sat unused for a month must still start.
    const published = publishRevocationList(loadCertificateAuthorityFromDir(dir), dir);
    written.push(published.crlFile);
  }
  return { sections: developmentIdentitySections(made.paths), written };
}

/** Logs what was made, and how a client gets a token for the development role. */
export function logDevelopmentIdentity(identity: DevelopmentIdentity, dir: string, logger: Logger) {
  logger.info({ files: identity.written }, 'development certificates written');
  const command =
    `infergate token issue --cert ${dir}/client.pem --key ${dir}/token-issuer-key.pem ` +
    `--sub demo --roles ${DEVELOPMENT_ROLE}`;
  logger.info({ certs: dir, tokenCommand: command }, 'mtls and tokens on, development set');
}

/** The configuration sections that put the development set to work. */
export function developmentIdentitySections(
  paths: DevelopmentCertificatePaths,
): Record<string, unknown> {
  return {
    tls: {
      certFile: paths.serverCert,
      keyFile: paths.serverKey,
      clientCaFiles: [paths.caCert],
      crlFiles: [paths.crl],
    },
    auth: {
      issuer: { keyFile: paths.tokenIssuerKey },
      certificateRoles: [{ uri: DEVELOPMENT_CLIENT.altNames.uris[0], roles: [DEVELOPMENT_ROLE] }],
    },
    roles: { [DEVELOPMENT_ROLE]: { models: ['*'], operations: [...PERMISSIONS] } },
  };
}
