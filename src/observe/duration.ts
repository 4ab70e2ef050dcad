// How durations appear in access lines and audit records.

/** Milliseconds kept to the microsecond: finer digits of a timer are noise in a record. */
export function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
