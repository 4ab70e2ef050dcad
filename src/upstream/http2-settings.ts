// HTTP/2 flow-control settings shared by infergate's listeners and its upstream sessions.

/**
 * Per-stream window. The HTTP/2 default of 64 KiB (RFC 9113 §6.9.2) stalls a 1 MB tensor on
 * round trips; 1 MiB keeps large messages flowing while bounding what one stream may buffer.
 */
export const HTTP2_STREAM_WINDOW_BYTES = 1024 * 1024;

/** Connection window: room for many streams in flight at once. */
export const HTTP2_SESSION_WINDOW_BYTES = 16 * 1024 * 1024;

/** SETTINGS infergate sends on every session it opens or accepts. */
export const HTTP2_SESSION_SETTINGS = {
  initialWindowSize: HTTP2_STREAM_WINDOW_BYTES,
  maxHeaderListSize: 64 * 1024,
} as const;
