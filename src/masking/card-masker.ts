// The one-shot masker: masks every card number of a whole text in its own buffer, keeping its
// byte length, and writes nothing to a buffer that holds none.

import { findCardData } from './card-data-detector';
import { detectCardNumbers, WHOLE_TEXT } from './card-detector';
import type { Finding } from './findings';
import {
  emptyMaskCounts,
  isMaskedDigit,
  resolveMaskOptions,
  type MaskCounts,
  type MaskOptions,
  type ResolvedMaskOptions,
} from './mask-options';

/**
 * Called with each finding and the text it was found in, before its bytes are masked: the one
 * moment the original digits can be read (for a keyed fingerprint). Must not keep `text`.
 */
export type FindingObserver = (text: Uint8Array, finding: Finding) => void;

/** What a masking pass did. Offsets and counts only, never digits, so it may be logged. */
export interface MaskResult {
  /** Findings masked, by kind. */
  readonly counts: MaskCounts;
  /** The findings, in text order, as offsets into the buffer. */
  readonly findings: readonly Finding[];
}

/**
 * Masks every card number in `text` in place (see `findCardNumbers` for what one is), and the
 * security codes, expiry dates and track data with them (see `findCardData`): each
 * masked digit's bytes become `maskByte` repeated to the digit's UTF-8 length, so the buffer
 * keeps its length and frame length prefixes stay valid. Separators and invisible characters
 * stay as they are: they carry no digit, and keeping them keeps the text's layout. The kept
 * digits are the first `keepFirst` and last `keepLast`. A buffer with no card number is not
 * written to at all. `observe` sees each finding before it is masked. Throws ProxyError
 * `ERR_CONFIG_INVALID` for bad options only; resolve them once with `resolveMaskOptions` to keep
 * validation off the data path.
 */
export function maskCardData(
  text: Buffer,
  options: MaskOptions | ResolvedMaskOptions = {},
  observe?: FindingObserver,
): MaskResult {
  const resolved = resolveMaskOptions(options);
  // The card scan tells where the first digit could be, so clean text is read only once.
  const { findings: cards, firstLead } = detectCardNumbers(text, WHOLE_TEXT);
  const data = findCardData(text, cards, firstLead);
  const findings = data.length === 0 ? cards : mergeFindings(cards, data);
  const counts = emptyMaskCounts();
  if (observe !== undefined) for (const finding of findings) observe(text, finding);
  for (const finding of findings) {
    maskFinding(finding, resolved, (start, end) => {
      for (let i = start; i < end; i++) text[i] = resolved.maskByte;
    });
    counts[finding.kind]++;
  }
  return { counts, findings };
}

/**
 * Calls `write(start, end)` for the bytes of each digit of `finding` that `options` masks and
 * for its bytes masked whole; shared by the one-shot and the streaming masker so both mask
 * exactly the same bytes.
 */
export function maskFinding(
  finding: Finding,
  options: ResolvedMaskOptions,
  write: (start: number, end: number) => void,
): void {
  const count = finding.digitStarts.length;
  for (let i = 0; i < count; i++) {
    if (isMaskedDigit(i, count, options)) write(finding.digitStarts[i]!, finding.digitEnds[i]!);
  }
  const { wholeStart, wholeEnd } = finding;
  if (wholeStart !== undefined && wholeEnd! > wholeStart) write(wholeStart, wholeEnd!);
}

// Limitation: a track's PAN that is also a card number on its own is counted both as 'pan' and as
// the track kind (the same bytes are masked once by each).

/** Both lists in text order; a track's PAN may also be a card number, so starts may tie. */
function mergeFindings(cards: readonly Finding[], data: readonly Finding[]): Finding[] {
  return [...cards, ...data].sort((a, b) => a.start - b.start);
}
