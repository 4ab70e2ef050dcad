// How client commands (`infer`, `audit unseal`) authenticate: the development set's client
// certificate and a token bound to it, or explicit files, or cleartext for a model server
// without TLS.

import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ProxyError } from '../errors/proxy-error';
import { readPeerCertificate } from '../identity/peer-certificate';
import { defaultTokenIssuer, readMaterialFile } from './cli-material';
import { DEVELOPMENT_CERTS_DIR } from './development-identity';

/** What a failed read adds: the credentials are most often the missing development set. */
const MISSING_MATERIAL_HINT = '; infergate certs init makes a set, --insecure sends none';

/** The flags of a client command that always presents a certificate (mTLS only). */
export const TLS_CLIENT_FLAGS = {
  certs: { type: 'string' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  token: { type: 'string' },
} as const;

/** The flags a client command takes for its credentials. */
export const CLIENT_CREDENTIAL_FLAGS = {
  ...TLS_CLIENT_FLAGS,
  insecure: { type: 'boolean' },
} as const;

/** Help lines for `TLS_CLIENT_FLAGS`. */
export const TLS_CLIENT_HELP = `      --certs DIR               CA, client certificate and key from DIR (ca.pem, client.pem,
                                client-key.pem; default ${DEVELOPMENT_CERTS_DIR}); with DIR's token-issuer-key.pem,
                                a token bound to the certificate is made when --token is absent
      --ca FILE, --cert FILE, --key FILE
                                the same files named one by one
      --token JWT               bearer token to send (infergate token issue prints one)`;

/** Help lines for `CLIENT_CREDENTIAL_FLAGS`. */
export const CLIENT_CREDENTIAL_HELP = `${TLS_CLIENT_HELP}
      --insecure                cleartext, no certificate, no token (a model server without TLS)`;

/** Parsed credential flags. */
export interface ClientCredentialFlags {
  readonly certs?: string;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly token?: string;
  readonly insecure?: boolean;
}

/** What a client sends: channel credentials and, when it has one, the `authorization` value. */
export interface ClientCredentials {
  readonly channel: grpc.ChannelCredentials;
  readonly authorization: string | undefined;
}

/** The PEM files of an mTLS client and, when it has one, the `authorization` value. */
export interface TlsClientMaterial {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly authorization: string | undefined;
}

/** Builds the credentials the flags describe; throws ERR_USAGE or ERR_PKI_MATERIAL_INVALID. */
export async function readClientCredentials(
  flags: ClientCredentialFlags,
): Promise<ClientCredentials> {
  if (flags.insecure === true) {
    if (flags.certs ?? flags.ca ?? flags.cert ?? flags.key ?? flags.token) {
      throw new ProxyError('ERR_USAGE', '--insecure sends no certificate and no token');
    }
    return { channel: grpc.credentials.createInsecure(), authorization: undefined };
  }

  const { ca, cert, key, authorization } = await readTlsClientMaterial(flags);
  return { channel: grpc.credentials.createSsl(ca, key, cert), authorization };
}

/**
 * Reads the CA, certificate and key the flags name (the development set by default) and the
 * token to send: `--token`, or one made with the development issuer key beside the files.
 * Throws ERR_PKI_MATERIAL_INVALID for a file it cannot read; `hint` ends that message.
 */
export async function readTlsClientMaterial(
  flags: ClientCredentialFlags,
  hint = MISSING_MATERIAL_HINT,
): Promise<TlsClientMaterial> {
  const dir = flags.certs ?? DEVELOPMENT_CERTS_DIR;
  const read = (file: string) => readMaterialFile(file, '', hint);
  const ca = read(flags.ca ?? join(dir, 'ca.pem'));
  const cert = read(flags.cert ?? join(dir, 'client.pem'));
  const key = read(flags.key ?? join(dir, 'client-key.pem'));
  const token = flags.token ?? (await developmentToken(dir, cert, hint));
  return { ca, cert, key, authorization: token === undefined ? undefined : `Bearer ${token}` };
}

/**
 * A token signed with the development issuer key beside the certificates, when there is one:
 * on the development set the client holds everything a token needs, so it makes its own.
 */
async function developmentToken(
  dir: string,
  cert: Buffer,
  hint: string,
): Promise<string | undefined> {
  const keyFile = join(dir, 'token-issuer-key.pem');
  if (!existsSync(keyFile)) return undefined;
  const certificate = readPeerCertificate(new X509Certificate(cert));
  const issuer = defaultTokenIssuer(readMaterialFile(keyFile, '', hint).toString('utf8'));
  const subject = certificate.commonName ?? certificate.subject;
  const { token } = await issuer.issue({
    subject,
    roles: [],
    certificateThumbprint: certificate.thumbprint,
  });
  return token;
}
