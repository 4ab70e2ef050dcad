// Frame times: microseconds since the Unix epoch, written out as ISO 8601.

/**
 * A frame time in microseconds since the epoch as an ISO 8601 string that keeps every digit;
 * undefined for a time no Date can hold (a broken frame may carry any number).
 */
export function isoFromMicros(micros: number): string | undefined {
  const ms = Math.floor(micros / 1000);
  const date = new Date(ms);
  if (!Number.isSafeInteger(micros) || Number.isNaN(date.getTime())) return undefined;
  const rest = String(micros - ms * 1000).padStart(3, '0');
  return `${date.toISOString().slice(0, -1)}${rest}Z`;
}
