// The events an audit frame records, as plain objects shaped like `protos/audit.proto`.

/** `CertificateIdentity`: what TLS established about a certificate. */
export interface CertificateRecord {
  readonly thumbprint: string;
  readonly subject: string;
  readonly issuer?: string;
  readonly serial?: string;
}

/** `CallerIdentity`: who called, once authentication accepted the exchange. */
export interface CallerRecord {
  readonly certificate?: CertificateRecord;
  readonly tokenSubject?: string;
  readonly tokenIssuer?: string;
  readonly roles?: readonly string[];
}

/** `MaskedText`: one text, masked; `stream` empty for a text complete in itself. */
export interface MaskedTextRecord {
  readonly stream: string;
  readonly text: string;
}

/** `ResponseChunk`: where a piece of a response text starts, its length, when it left. */
export interface ResponseChunkRecord {
  readonly stream: string;
  readonly offset: number;
  readonly length: number;
  readonly atMs: number;
}

/** `Sealed`: an unmasked text encrypted to the security team's key. */
export interface SealedRecord {
  readonly recipientKeyId: string;
  readonly ephemeralPublicKey: Buffer;
  readonly nonce: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

export interface GatewayStartedEvent {
  readonly version: string;
  readonly hostname: string;
  readonly pid: number;
  readonly configurationDigest: Buffer;
  readonly listeners: readonly string[];
  readonly signingKeyId: string;
}

export interface GatewayStoppedEvent {
  readonly reason: string;
}

export interface SessionOpenedEvent {
  readonly sessionId: string;
  readonly listener: string;
  readonly clientAddress?: string;
  readonly tlsVersion?: string;
  readonly cipher?: string;
  readonly certificate?: CertificateRecord;
}

export interface SessionRefusedEvent {
  readonly listener: string;
  readonly clientAddress?: string;
  readonly reason: string;
}

export interface SessionClosedEvent {
  readonly sessionId: string;
  readonly exchanges: number;
  readonly durationMs: number;
}

export interface ExchangeStartedEvent {
  readonly exchangeId: string;
  readonly sessionId: string;
  readonly listener: string;
  readonly protocol: string;
  readonly operation: string;
  readonly model?: string;
  readonly route?: string;
  readonly upstream?: string;
  readonly clientAddress?: string;
  readonly identity?: CallerRecord;
  readonly facts?: Readonly<Record<string, string>>;
  readonly prompt?: readonly MaskedTextRecord[];
  readonly promptTruncated?: boolean;
  readonly sealedPrompt?: SealedRecord;
}

/** `Decision.Outcome`, by number as the proto defines it. */
export const DECISION_OUTCOME = Object.freeze({ ALLOWED: 1, DENIED: 2, REVIEW_REQUIRED: 3 });

export interface DecisionEvent {
  readonly exchangeId: string;
  readonly outcome: number;
  readonly role?: string;
  readonly detail?: string;
  readonly reviewId?: string;
}

export interface MaskedCountRecord {
  readonly direction: 'prompt' | 'response';
  readonly kind: string;
  readonly count: number;
}

export interface ExchangeFinishedEvent {
  readonly exchangeId: string;
  readonly status: number;
  readonly detail?: string;
  readonly response?: readonly MaskedTextRecord[];
  /** The pieces of the response as chunk messages, in frames written before the lists below. */
  readonly chunks?: readonly ResponseChunkRecord[];
  /**
   * Per piece of the response, in order: the index of its text in `response`, its length in
   * bytes and when it left, in ms after the exchange started (see `recordedChunks`).
   */
  readonly chunkTexts?: readonly number[];
  readonly chunkLengths?: readonly number[];
  readonly chunkAtMs?: readonly number[];
  readonly responseTruncated?: boolean;
  readonly masked?: readonly MaskedCountRecord[];
  readonly cardFingerprints?: readonly string[];
  readonly usage?: { readonly promptTokens: number; readonly completionTokens: number };
  readonly durationMs: number;
  readonly upstreamHeadersMs?: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
  readonly requestMessages: number;
  readonly responseMessages: number;
  readonly sealedResponse?: SealedRecord;
  /** Prompt texts of requests that came after the exchange started (a stream's later ones). */
  readonly prompt?: readonly MaskedTextRecord[];
  readonly sealedPrompt?: SealedRecord;
}

/** `ReviewEvent.Kind`, by number as the proto defines it. */
export const REVIEW_EVENT_KIND = Object.freeze({
  CREATED: 1,
  NOTIFIED: 2,
  APPROVED: 3,
  DENIED: 4,
  EXPIRED: 5,
  GRANT_USED: 6,
});

export interface ReviewEventRecord {
  readonly reviewId: string;
  readonly kind: number;
  readonly exchangeId?: string;
  readonly rule?: string;
  readonly actor?: CallerRecord;
  readonly reason?: string;
}

export interface ConfigurationChangedEvent {
  readonly subject: string;
  readonly digest?: Buffer;
  readonly result: 'applied' | 'refused';
  readonly detail?: string;
}

export interface KeyRotatedEvent {
  readonly previousKeyId: string;
  readonly keyId: string;
  readonly publicKey: Buffer;
  readonly previousKeySignature: Buffer;
  readonly keySignature: Buffer;
}

export interface CertificateChangedEvent {
  readonly owner: string;
  readonly role: string;
  readonly certificate: CertificateRecord;
  readonly notAfterUnixMs: number;
}

export interface CheckpointEvent {
  readonly headSequence: number;
  readonly headHash: Buffer;
  readonly keyId: string;
  readonly signature: Buffer;
}

export interface GapEvent {
  readonly lastSequence: number;
  readonly tornBytes: number;
  readonly segment: string;
}

export interface UnsealedEvent {
  readonly logId: string;
  readonly sequence: number;
  readonly actor?: CallerRecord;
  readonly reason?: string;
}

/** Every event, by the name of its field in `Frame.event`. */
export interface AuditEventBodies {
  gatewayStarted: GatewayStartedEvent;
  gatewayStopped: GatewayStoppedEvent;
  sessionOpened: SessionOpenedEvent;
  sessionClosed: SessionClosedEvent;
  exchangeStarted: ExchangeStartedEvent;
  decision: DecisionEvent;
  exchangeFinished: ExchangeFinishedEvent;
  review: ReviewEventRecord;
  configurationChanged: ConfigurationChangedEvent;
  keyRotated: KeyRotatedEvent;
  certificateChanged: CertificateChangedEvent;
  checkpoint: CheckpointEvent;
  gap: GapEvent;
  unsealed: UnsealedEvent;
  sessionRefused: SessionRefusedEvent;
}

export type AuditEventKind = keyof AuditEventBodies;

/** One event: exactly one member of `Frame.event`. */
export type AuditEvent = {
  [K in AuditEventKind]: { readonly [P in K]: AuditEventBodies[K] };
}[AuditEventKind];

/** The fields every frame carries besides its event. */
export interface FrameHeader {
  readonly logId: string;
  readonly sequence: number;
  readonly timeUnixMicros: number;
  readonly previousHash: Buffer;
}

/** A whole frame as written. */
export type AuditFrame = FrameHeader & AuditEvent;
