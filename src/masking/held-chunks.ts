// Writing a mask over a range of a stream whose bytes lie in the chunks a masker still holds.

/**
 * Writes `maskByte` over stream bytes [start, end) of the chunks in `held`, whose first bytes lie
 * at stream offsets `starts`; the range may span several chunks, and bytes outside the held
 * chunks are not touched.
 */
export function maskHeldRange(
  held: readonly Buffer[],
  starts: readonly number[],
  start: number,
  end: number,
  maskByte: number,
): void {
  for (let i = 0; i < held.length; i++) {
    const chunkStart = starts[i]!;
    const chunk = held[i]!;
    if (chunkStart >= end || chunkStart + chunk.length <= start) continue;
    const from = Math.max(start, chunkStart) - chunkStart;
    const to = Math.min(end, chunkStart + chunk.length) - chunkStart;
    chunk.fill(maskByte, from, to);
  }
}
