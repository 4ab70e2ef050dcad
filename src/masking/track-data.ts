// Reads magnetic-stripe track data (ISO/IEC 7813) that starts at a PAN's first digit: track 1
// `%B PAN ^ NAME ^ YYMM SSS DD ?` and track 2 `; PAN = YYMM SSS DD ?`, sentinels optional.

import { isAlphanumeric, type ContextBytes } from './card-data-keywords';
import type { Finding } from './findings';
import { passesLuhn } from './luhn';

/** ISO/IEC 7813: track 1 holds at most 79 characters, track 2 at most 40, sentinels included. */
const MAX_TRACK1_BYTES = 79;
const MAX_TRACK2_BYTES = 40;
/** The shortest PAN a track carries: a number with fewer digits never starts one. */
export const MIN_TRACK_PAN_DIGITS = 12;
const MAX_TRACK_PAN_DIGITS = 19;
const MAX_NAME_BYTES = 26;
/** YYMM and the three-digit service code that follow the separator. */
const EXPIRY_AND_SERVICE_DIGITS = 7;

/** The most bytes a track read looks at past the PAN's first digit. */
export const MAX_TRACK_LOOKAHEAD_BYTES = MAX_TRACK1_BYTES;

/** `readTrack` result when the text ends before the track is decided. */
export const TRACK_UNDECIDED = null;

const CARET = 0x5e;
const EQUALS = 0x3d;
const END_SENTINEL = 0x3f;

/**
 * The track data whose PAN starts at `pan`, undefined when there is none, or TRACK_UNDECIDED
 * when `length` (not the end of the text unless `final`) cuts it short. Track 1 needs the
 * format code `B` before the PAN; track 2 needs `=` after it and a plausible month. The PAN must
 * pass Luhn. Discretionary data is read as digits (track 2) or digits and capitals (track 1).
 */
export function readTrack(
  bytes: ContextBytes,
  pan: number,
  length: number,
  final: boolean,
): Finding | undefined | typeof TRACK_UNDECIDED {
  const trackOne = bytes.at(pan - 1) === 0x42;
  if (!trackOne && isAlphanumeric(bytes.at(pan - 1))) return undefined;
  // Most numbers are short: a non-digit where the shortest PAN's last digit would be settles it
  // with one read (the PAN read below would stop there, short, before the text's end).
  const shortestLast = pan + MIN_TRACK_PAN_DIGITS - 1;
  if (shortestLast < length && !isDigit(bytes.at(shortestLast))) return undefined;
  const panEnd = digitsEnd(bytes, pan, length, pan + MAX_TRACK_PAN_DIGITS + 1);
  if (panEnd >= length) return final ? undefined : TRACK_UNDECIDED;
  const digits = panEnd - pan;
  if (digits < MIN_TRACK_PAN_DIGITS || digits > MAX_TRACK_PAN_DIGITS) return undefined;
  if (bytes.at(panEnd) !== (trackOne ? CARET : EQUALS)) return undefined;

  const dataStart = trackOne ? nameEnd(bytes, panEnd + 1, length) : panEnd + 1;
  if (dataStart === -2) return final ? undefined : TRACK_UNDECIDED;
  if (dataStart < 0) return undefined;
  // The sentinel before the PAN and the one after the data count towards the track's length.
  const sentinel = pan - (trackOne ? 2 : 1);
  const stop = sentinel + (trackOne ? MAX_TRACK1_BYTES : MAX_TRACK2_BYTES) - 1;
  const end = dataEnd(bytes, dataStart, Math.min(length, stop), trackOne);
  if (end === length && length < stop && !final) return TRACK_UNDECIDED;
  if (end - dataStart < EXPIRY_AND_SERVICE_DIGITS || !plausibleMonth(bytes, dataStart + 2)) {
    return undefined;
  }

  return toTrack(bytes, pan, panEnd, end, trackOne);
}

function toTrack(
  bytes: ContextBytes,
  pan: number,
  panEnd: number,
  end: number,
  trackOne: boolean,
): Finding | undefined {
  let digits = '';
  for (let i = pan; i < panEnd; i++) digits += String.fromCharCode(bytes.at(i));
  if (!passesLuhn(digits)) return undefined;
  const digitStarts: number[] = [];
  const digitEnds: number[] = [];
  for (let i = pan; i < panEnd; i++) {
    digitStarts.push(i);
    digitEnds.push(i + 1);
  }
  const kind = trackOne ? 'track1' : 'track2';
  return { kind, start: pan, end, digitStarts, digitEnds, wholeStart: panEnd + 1, wholeEnd: end };
}

/** The offset past the ASCII digits from `pos`, read up to `stop` or `length`. */
function digitsEnd(bytes: ContextBytes, pos: number, length: number, stop: number): number {
  let at = pos;
  while (at < length && at < stop && isDigit(bytes.at(at))) at++;
  return at;
}

/** After a track 1 name from `pos` and its `^`: the offset past the `^`; -1 none; -2 cut. */
function nameEnd(bytes: ContextBytes, pos: number, length: number): number {
  for (let at = pos; at <= pos + MAX_NAME_BYTES; at++) {
    if (at >= length) return -2;
    const byte = bytes.at(at);
    if (byte === CARET) return at - pos >= 2 ? at + 1 : -1;
    if (byte < 0x20 || byte > 0x7e || byte === END_SENTINEL) return -1;
  }
  return -1;
}

// Limitation: discretionary data is read as digits (and capitals in track 1), and track 2's
// EMV form with `D` for `=` is not read; data past such a character stays unmasked.

/** The end of the data from `pos`: digits, and for track 1 capitals and spaces too. */
function dataEnd(bytes: ContextBytes, pos: number, stop: number, trackOne: boolean): number {
  let at = pos;
  while (at < stop) {
    const byte = bytes.at(at);
    if (!isDigit(byte) && !(trackOne && at - pos >= EXPIRY_AND_SERVICE_DIGITS && isCapital(byte))) {
      break;
    }
    at++;
  }
  return at;
}

function plausibleMonth(bytes: ContextBytes, pos: number): boolean {
  const month = (bytes.at(pos) - 0x30) * 10 + bytes.at(pos + 1) - 0x30;
  return month >= 1 && month <= 12;
}

function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}

function isCapital(byte: number): boolean {
  return byte >= 0x41 && byte <= 0x5a;
}
