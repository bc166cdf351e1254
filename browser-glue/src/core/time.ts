/**
 * Time as the component wants it: milliseconds after `performance.timeOrigin`, which the
 * component adds to the origin in Unix nanoseconds. Monotonic within the page.
 */

// Read once: every `performance` lookup through the global object costs as much as the
// `now()` call itself (about 60 ns each in Chromium 156), and spans take two times each.
const perf = performance;

/** A time given by a caller: a `Date`, epoch milliseconds (`Date.now()`), or a `performance.now()` value. */
export type TimeInput = number | Date;

/** The page's time origin in Unix nanoseconds (exact: computed once, in BigInt). */
export function timeOriginUnixNanos(): bigint {
  const origin = perf.timeOrigin;
  const ms = Math.floor(origin);
  return BigInt(ms) * 1_000_000n + BigInt(Math.round((origin - ms) * 1e6));
}

/** Now on the page's clock (what spans are dated by), in epoch milliseconds. */
export function wallMs(): number {
  return perf.timeOrigin + perf.now();
}

/** Now, in milliseconds after the time origin. */
export function now(): number {
  return perf.now();
}

/**
 * A caller's time in milliseconds after the time origin. Numbers smaller than the time
 * origin are taken as `performance.now()` values (as OpenTelemetry JS does), others as epoch ms.
 */
export function toMs(time: TimeInput | undefined): number {
  if (time === undefined) return perf.now();
  const t = typeof time === 'number' ? time : time.getTime();
  return t < perf.timeOrigin ? t : t - perf.timeOrigin;
}
