// Who did something, as audit frames record it: the certificate and token an identity rests on.

import type { Identity } from '../identity/identity';
import type { PeerCertificate } from '../identity/peer-certificate';
import type { CallerRecord, CertificateRecord } from './audit-events';

/** A certificate as frames name it: thumbprint, subject, issuer and serial. */
export function certificateRecord(certificate: PeerCertificate): CertificateRecord {
  return {
    thumbprint: certificate.thumbprint,
    subject: certificate.subject,
    issuer: certificate.issuer,
    serial: certificate.serialNumber,
  };
}

/** A caller as frames name it: certificate, token subject and issuer, roles. */
export function callerRecord(identity: Identity): CallerRecord {
  return {
    certificate: certificateRecord(identity.certificate),
    tokenSubject: identity.token?.subject ?? identity.subject,
    tokenIssuer: identity.token?.issuer,
    roles: identity.roles,
  };
}
