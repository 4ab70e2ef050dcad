// Object keys read from JSON bytes, the recent ones kept so a key seen before costs no string.

/** Slots of the cache, a power of two; each holds the last key whose bytes hashed to it. */
const SLOTS = 1024;

/** Longer keys are decoded each time: the keys protocols repeat are short. */
const MAX_CACHED_KEY_BYTES = 32;

/**
 * A direct-mapped cache: one slot per hash, a miss replaces the slot's key. Its size is fixed,
 * so a document of endless distinct keys only misses; it never grows.
 */
const cache: (string | undefined)[] = new Array<string | undefined>(SLOTS).fill(undefined);

/**
 * The key whose UTF-8 bytes are `buf[start, end)`, holding no escape. Every document of a
 * protocol repeats the same few keys (`choices`, `delta`, `content`), and decoding each into a
 * new string was a fifth of a response scan: an ASCII key of up to 32 bytes seen lately is
 * returned from the cache after its bytes are compared, anything else is decoded.
 */
export function readPlainKey(buf: Buffer, start: number, end: number): string {
  if (end - start > MAX_CACHED_KEY_BYTES) return buf.toString('utf8', start, end);
  let hash = end - start;
  for (let i = start; i < end; i++) {
    const byte = buf[i]!;
    if (byte >= 0x80) return buf.toString('utf8', start, end);
    hash = (Math.imul(hash, 31) + byte) | 0;
  }
  const slot = hash & (SLOTS - 1);
  const cached = cache[slot];
  if (cached !== undefined && isSameAscii(cached, buf, start, end)) return cached;
  const key = buf.toString('latin1', start, end);
  cache[slot] = key;
  return key;
}

function isSameAscii(key: string, buf: Buffer, start: number, end: number): boolean {
  if (key.length !== end - start) return false;
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) !== buf[start + i]) return false;
  return true;
}
