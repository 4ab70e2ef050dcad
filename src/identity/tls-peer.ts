// What the TLS layer of one client connection proved about its peer.

import type { TLSSocket } from 'node:tls';
import { readPeerCertificate, type PeerCertificate } from './peer-certificate';

/**
 * The outcome of a connection's handshake. `verified` is true only when the peer presented a
 * certificate that chains to a trusted CA, is within its validity and is not on a CRL;
 * otherwise `verifyError` holds OpenSSL's reason (`CERT_HAS_EXPIRED`, `CERT_REVOKED`, ...).
 */
export interface TlsPeer {
  readonly protocol: string | undefined;
  readonly certificate: PeerCertificate | undefined;
  readonly verified: boolean;
  readonly verifyError: string | undefined;
}

/** Reads the peer of a socket whose handshake has completed; computed once per connection. */
export function readTlsPeer(socket: TLSSocket): TlsPeer {
  const x509 = socket.getPeerX509Certificate();
  const error = socket.authorizationError as unknown;
  return {
    protocol: socket.getProtocol() ?? undefined,
    certificate: x509 === undefined ? undefined : readPeerCertificate(x509),
    verified: socket.authorized && x509 !== undefined,
    verifyError: error === null || error === undefined ? undefined : errorCode(error),
  };
}

/** Node gives the reason as an Error whose `code` is OpenSSL's, or, in older versions, a string. */
function errorCode(error: unknown): string {
  if (typeof error === 'string') return error;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : String((error as Error).message ?? error);
}

/** Why a handshake failed, as a stable code for records: OpenSSL's or Node's error code. */
export function handshakeFailureReason(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return typeof code === 'string' ? code : 'tls_handshake_failed';
}
