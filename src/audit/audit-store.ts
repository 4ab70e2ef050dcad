// What the audit writer needs of a store (segment files, PostgreSQL) and what readers get back.

/** A frame ready to be stored: its sequence in its log and its encoded bytes. */
export interface EncodedFrame {
  readonly sequence: number;
  readonly bytes: Buffer;
}

/** Where a log stands in a store, as `open` found it. */
export interface ChainTail {
  /** The last whole frame's sequence; 0 for a log with no frames yet. */
  readonly lastSequence: number;
  /** The chain hash of that frame (`frameHash` of its bytes); undefined for an empty log. */
  readonly lastHash: Buffer | undefined;
  /** The key id of the log's latest checkpoint or key rotation; undefined when none. */
  readonly lastKeyId: string | undefined;
  /** Bytes after the last whole frame that `open` dropped (a crash mid-write), if any. */
  readonly torn: { readonly bytes: number; readonly segment: string } | undefined;
}

/**
 * Durable storage for one log's frames. One writer per log at a time; frames arrive in
 * sequence order.
 */
export interface AuditStore {
  /** A short description for logs and errors: a directory, a database. */
  readonly description: string;
  /**
   * Opens `logId` for appending and reports where its chain stands. A torn last frame is
   * removed and reported in `torn`; anything else unreadable rejects.
   */
  open(logId: string): Promise<ChainTail>;
  /**
   * Stores `frames` after those already stored and resolves once they would survive a crash
   * (fsync, a committed transaction). All or nothing: when it rejects, none of `frames` stays
   * stored, so the same frames may be appended again.
   */
  append(frames: readonly EncodedFrame[]): Promise<void>;
  close(): Promise<void>;
}

/** One record as a reader found it in a store, in storage order. */
export type StoredRecord =
  | {
      readonly kind: 'frame';
      /** The log the store files this record under (a file name, a column). */
      readonly logId: string;
      /** Where it is: `segment-file:offset`, `table row id`. */
      readonly where: string;
      readonly bytes: Buffer;
    }
  | {
      /** Bytes that are not a whole record: a torn tail or a corrupt length prefix. */
      readonly kind: 'damage';
      readonly logId: string;
      readonly where: string;
      readonly reason: string;
    };

/** Reads every log of a store, each log's records in storage order. */
export interface AuditSource {
  readonly description: string;
  records(): AsyncIterable<StoredRecord>;
}
