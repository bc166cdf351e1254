/** The browsers' keep-alive budget, as this SDK uses it. */

/** Keep-alive bodies in flight must stay under the browsers' 64 KiB total. */
export const KEEPALIVE_BYTES = 60_000;
/** Chromium allows a handful of keep-alive requests in flight per page. */
export const KEEPALIVE_REQUESTS = 9;
