// What a detector reports: the kinds of card data and the byte ranges a mask writes over.

import type { CardBrand } from './card-brands';

/**
 * The kinds of card data a finding may report: a card number (PAN), a security code (CVV, CVC,
 * CID), an expiry date, and magnetic-stripe track 1 or track 2 data (ISO/IEC 7813).
 */
export type FindingKind = 'pan' | 'cvv' | 'expiry' | 'track1' | 'track2';

/** Every kind, in the order counts list them. */
export const FINDING_KINDS: readonly FindingKind[] = ['pan', 'cvv', 'expiry', 'track1', 'track2'];

/**
 * Card data found in a text. Offsets only: a finding never carries the data. The digits listed
 * are masked keeping the first and last ones the options allow (a PAN, the PAN of track data);
 * the bytes in [wholeStart, wholeEnd) are masked whole (a security code, an expiry date, track
 * data after its PAN).
 */
export interface Finding {
  readonly kind: FindingKind;
  /** The brand of a PAN finding. */
  readonly brand?: CardBrand;
  /** Byte offsets of the first byte of the finding and just past the last one. */
  readonly start: number;
  readonly end: number;
  /** Byte offsets of each PAN digit and just past it, in order; separators lie between. */
  readonly digitStarts: readonly number[];
  readonly digitEnds: readonly number[];
  /** Bytes masked whole; absent when none are. */
  readonly wholeStart?: number;
  readonly wholeEnd?: number;
}
