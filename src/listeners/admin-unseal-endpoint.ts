// The admin listener's `POST /audit/unseal`: a frame's sealed originals, handed out only to the
// security team and only once the ask itself is durable in the audit log.

import { z } from 'zod';
import type { AuditEvent, SealedRecord } from '../audit/audit-events';
import { decodeFrame, type DecodedFrame } from '../audit/audit-frame-codec';
import type { AuditSource } from '../audit/audit-store';
import { logIdSchema } from '../config/audit-schema';
import { isProxyError } from '../errors/proxy-error';
import { callerRecord } from '../audit/caller-record';
import type { CertificateRoles } from '../identity/certificate-roles';
import type { Identity, TokenFacts } from '../identity/identity';
import type { PeerCertificate } from '../identity/peer-certificate';
import type { Logger } from '../observe/logger';
import {
  adminFailure,
  authenticateAdminCaller,
  parseAdminBody,
  type AdminAnswer,
} from './admin-caller';

/** The path the admin listener serves this endpoint at, with POST only. */
export const UNSEAL_PATH = '/audit/unseal';

/** Request bodies larger than this are refused: a log id, a number and a reason fit in far less. */
export const UNSEAL_REQUEST_MAX_BYTES = 4 * 1024;

/** Why someone unseals goes into the frame as written; a bound keeps the log's frames small. */
const MAX_REASON_CHARS = 500;

/** What a caller asks for: one frame of one log, and why. */
const askSchema = z
  .object({
    logId: logIdSchema,
    sequence: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    reason: z.string().min(1).max(MAX_REASON_CHARS),
  })
  .strict();

type UnsealAsk = z.infer<typeof askSchema>;

/** One request as the admin listener read it. */
export interface UnsealRequest {
  /** The connection's client certificate, when TLS verified one. */
  readonly certificate: PeerCertificate | undefined;
  /** The raw `authorization` header. */
  readonly authorization: string | undefined;
  /** The body as text; undefined when it was longer than {@link UNSEAL_REQUEST_MAX_BYTES}. */
  readonly body: string | undefined;
}

/** What the endpoint answers: a status, a JSON body and any extra response headers. */
export type UnsealAnswer = AdminAnswer;

/** What the endpoint is built from, once, at start-up. */
export interface UnsealEndpointSettings {
  /** Where asks are recorded; `append` resolves once the frame is durable (the AuditLog does). */
  readonly log: { append(event: AuditEvent): Promise<void> };
  /** A reader of the configured store limited to one log. */
  readonly sourceOf: (logId: string) => AuditSource;
  /** The gateway's token verifier; undefined without `auth`, which turns the endpoint off. */
  readonly verifier:
    | {
        verify(
          authorization: string | undefined,
          certificate: PeerCertificate,
        ): Promise<TokenFacts>;
      }
    | undefined;
  readonly certificateRoles: CertificateRoles;
  /** `audit.unsealRoles`; empty turns the endpoint off. */
  readonly unsealRoles: readonly string[];
  readonly logger: Logger;
}

/**
 * Hands out the sealed originals of one frame. The gateway holds only the security team's public
 * key, so what leaves here is ciphertext; still, who fetched which record, and why, is what an
 * assessor asks about (PCI DSS 10.2.1.1 and 10.2.1.2), so an authorised ask is appended to the
 * log and made durable before anything is read: an unseal that cannot be recorded does not
 * happen. A caller needs a verified client certificate, a bearer token bound to it, and a role
 * (the token's or the certificate's, as the gateway grants them everywhere) in `unsealRoles`.
 * Refusals are logged at warn, not recorded: they disclose nothing.
 */
export class UnsealEndpoint {
  private readonly unsealRoles: ReadonlySet<string>;

  constructor(private readonly settings: UnsealEndpointSettings) {
    this.unsealRoles = new Set(settings.unsealRoles);
  }

  /** False when no role may unseal or no token is checked: the endpoint then answers 404. */
  get enabled(): boolean {
    return this.unsealRoles.size > 0 && this.settings.verifier !== undefined;
  }

  /**
   * Answers one request. Rejects only on a bug or an unexpected library failure, which the
   * listener answers with 500.
   */
  async answer(request: UnsealRequest): Promise<UnsealAnswer> {
    if (!this.enabled) return adminFailure(404, 'not_found', `no admin endpoint at ${UNSEAL_PATH}`);
    const caller = await this.authorise(request);
    if (!('certificate' in caller)) return caller;

    if (request.body === undefined) {
      return adminFailure(
        413,
        'request_too_large',
        `the body exceeds ${UNSEAL_REQUEST_MAX_BYTES} bytes`,
      );
    }
    const ask = parseAsk(request.body);
    if (!('logId' in ask)) return ask;

    const unrecorded = await this.record(ask, caller);
    if (unrecorded !== undefined) return unrecorded;
    return this.sealedRecord(ask);
  }

  /** The caller's identity, or the 401, 403 or 503 that refuses it. */
  private async authorise(request: UnsealRequest): Promise<Identity | UnsealAnswer> {
    const { verifier, certificateRoles } = this.settings;
    const caller = await authenticateAdminCaller(
      request,
      verifier!,
      certificateRoles,
      (why, cert) => this.refused(why, cert),
    );
    if (!('roles' in caller)) return caller;
    const { certificate, token, roles } = caller;
    if (!roles.some((role) => this.unsealRoles.has(role))) {
      this.refused('role_missing', certificate, token.subject);
      return adminFailure(403, 'forbidden', 'no role of the caller may unseal audit records');
    }
    return caller;
  }

  private refused(why: string, certificate: PeerCertificate | undefined, subject?: string): void {
    const thumbprint = certificate?.thumbprint;
    this.settings.logger.warn({ why, thumbprint, subject }, 'audit unseal refused');
  }

  /** Appends the Unsealed frame and waits for it; the 503 when it cannot be made durable. */
  private async record(ask: UnsealAsk, caller: Identity): Promise<UnsealAnswer | undefined> {
    const { logId, sequence, reason } = ask;
    try {
      await this.settings.log.append({
        unsealed: { logId, sequence, actor: callerRecord(caller), reason },
      });
    } catch (err) {
      if (!isProxyError(err)) throw err;
      this.settings.logger.error({ err, logId, sequence }, 'audit unseal not recorded');
      return adminFailure(
        503,
        'audit_unavailable',
        'the unseal cannot be recorded in the audit log',
      );
    }
    this.settings.logger.info(
      { logId, sequence, subject: caller.subject },
      'audit unseal recorded',
    );
    return undefined;
  }

  /** The frame's sealed records, or 404 when the store has no such frame or it seals nothing. */
  private async sealedRecord(ask: UnsealAsk): Promise<UnsealAnswer> {
    const { logId, sequence } = ask;
    let frame: DecodedFrame | undefined;
    try {
      frame = await this.findFrame(logId, sequence);
    } catch (err) {
      if (!isProxyError(err)) throw err;
      this.settings.logger.error({ err, logId, sequence }, 'audit store not readable for unseal');
      return adminFailure(503, 'audit_unavailable', 'the audit store cannot be read');
    }
    if (frame === undefined) {
      return adminFailure(404, 'not_found', `log ${logId} has no frame ${sequence} in the store`);
    }
    const sealed = sealedOf(frame);
    if (sealed === undefined) {
      const message = `frame ${sequence} of log ${logId} holds no sealed record`;
      return adminFailure(404, 'not_found', message);
    }
    return { status: 200, body: { logId, sequence, ...sealed } };
  }

  // Limitation: the log is read from its first frame to the one asked for, so an unseal costs a
  // scan of the log; stores keep no index by sequence that a reader could seek with.
  private async findFrame(logId: string, sequence: number): Promise<DecodedFrame | undefined> {
    for await (const record of this.settings.sourceOf(logId).records()) {
      if (record.kind !== 'frame' || record.logId !== logId) continue;
      const frame = decodeOrSkip(record.bytes, this.settings.logger);
      if (frame?.sequence === sequence && frame.logId === logId) return frame;
    }
    return undefined;
  }
}

/** The body as an ask, or the 400 saying what is wrong with it (never echoing its values). */
function parseAsk(body: string): UnsealAsk | UnsealAnswer {
  return parseAdminBody(body, askSchema);
}

/** A damaged frame cannot be the one asked for: its sequence is unknown. The verifier names it. */
function decodeOrSkip(bytes: Buffer, logger: Logger): DecodedFrame | undefined {
  try {
    return decodeFrame(bytes);
  } catch (err) {
    logger.debug({ err }, 'undecodable audit frame skipped by unseal');
    return undefined;
  }
}

/** The exchange id and the sealed records of a frame, as JSON, or undefined when it has none. */
function sealedOf(frame: DecodedFrame): Record<string, unknown> | undefined {
  if (frame.kind === 'exchangeStarted' && frame.body.sealedPrompt !== undefined) {
    const { exchangeId, sealedPrompt } = frame.body;
    return { exchangeId, sealedPrompt: sealedJson(sealedPrompt) };
  }
  if (frame.kind === 'exchangeFinished' && frame.body.sealedResponse !== undefined) {
    const { exchangeId, sealedResponse } = frame.body;
    return { exchangeId, sealedResponse: sealedJson(sealedResponse) };
  }
  return undefined;
}

/** A Sealed message with its bytes in base64 (RFC 4648 §4). */
function sealedJson(sealed: SealedRecord): Record<string, string> {
  return {
    recipientKeyId: sealed.recipientKeyId,
    ephemeralPublicKey: base64(sealed.ephemeralPublicKey),
    nonce: base64(sealed.nonce),
    ciphertext: base64(sealed.ciphertext),
    tag: base64(sealed.tag),
  };
}

function base64(bytes: Uint8Array | undefined): string {
  return Buffer.from(bytes ?? new Uint8Array()).toString('base64');
}
