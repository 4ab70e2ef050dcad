// The unmasked response texts of an exchange, read before masking, for its sealed original.

import type { KeyObject } from 'node:crypto';
import type { TextCodecFactory } from '../../codecs/text-codec';
import type { Exchange } from '../../pipeline/exchange';
import type { ExchangeMessage, Filter, FilterFactory, MessageResult } from '../../pipeline/filter';
import { TextStreams } from './audit-transcript';

/** What sealing needs: the security team's key, and where the tap leaves each exchange's texts. */
export interface AuditSealing {
  /** The recipient's X25519 public key and its id. */
  readonly recipient: KeyObject;
  /** The response texts the tap read, by exchange, until the audit filter seals them. */
  readonly responses: WeakMap<Exchange, TextStreams>;
}

/**
 * Reads response texts as the upstream sent them. It sits last in the chain, so on the
 * response path it runs before masking; it keeps copies up to `maxBytes` for the audit filter,
 * which seals them to the security team's key. It never changes or holds a message.
 */
class OriginalsTap<M extends ExchangeMessage> implements Filter<M> {
  private readonly texts = new TextStreams();
  private kept = 0;

  constructor(
    private readonly exchange: Exchange,
    sealing: AuditSealing,
    private readonly codec: ReturnType<TextCodecFactory<M>>,
    private readonly maxBytes: number,
  ) {
    sealing.responses.set(exchange, this.texts);
  }

  onResponseMessage(message: M): MessageResult {
    let texts;
    try {
      texts = this.codec.responseTexts(message);
    } catch (err) {
      // The masking filter ends an exchange whose response it cannot read; nothing to seal.
      this.exchange.log.debug({ err }, 'audit could not read an original response message');
      return undefined;
    }
    for (const piece of texts?.pieces ?? []) {
      const length = Math.min(piece.bytes.length, this.maxBytes - this.kept);
      if (length <= 0) return undefined;
      this.kept += length;
      this.texts.add(piece.stream, piece.bytes, length);
    }
    return undefined;
  }
}

/** Builds the originals tap; it belongs last in the chain, after masking. */
export function originalsTapFactory<M extends ExchangeMessage>(
  sealing: AuditSealing,
  codec: TextCodecFactory<M>,
  maxBytes: number,
): FilterFactory<M> {
  return {
    name: 'audit-originals',
    create: (exchange) => new OriginalsTap(exchange, sealing, codec(exchange), maxBytes),
  };
}
