/**
 * How far the page's clock is off, from a server's `Date` header: a wrong system clock,
 * or a laptop back from sleep whose page clock stood still, would otherwise date every
 * span by it. `Date` has whole seconds, so the server's time at the midpoint of the
 * request is known to half a second plus half the round trip.
 */

/** An estimate of the server's clock minus the page's, in milliseconds. */
export interface ClockOffset {
  offsetMs: number;
  /** How far off the estimate may be. */
  uncertaintyMs: number;
}

/**
 * The offset that a response's `date` implies, for a request sent at `sentMs` and answered
 * at `receivedMs` (the page's clock, epoch milliseconds); none without a valid `Date`.
 */
export function clockOffset(date: string | null, sentMs: number, receivedMs: number): ClockOffset | undefined {
  const server = date ? Date.parse(date) : NaN;
  if (!Number.isFinite(server) || receivedMs < sentMs) return undefined;
  // The server stamped a time in [server, server + 1000) somewhere between send and receipt.
  return { offsetMs: server + 500 - (sentMs + receivedMs) / 2, uncertaintyMs: 500 + (receivedMs - sentMs) / 2 };
}

/** Below this margin beyond the estimate's uncertainty a correction is not worth changing. */
const MARGIN_MS = 500;

/**
 * The correction to apply given the one applied now and a new estimate: the estimate
 * (whole milliseconds) when it differs from the current one by more than it may be off
 * (then 0 when the clock turns out right), else the current one.
 */
export function nextCorrection(currentMs: number, estimate: ClockOffset): number {
  const { offsetMs, uncertaintyMs } = estimate;
  if (Math.abs(offsetMs - currentMs) <= uncertaintyMs + MARGIN_MS) return currentMs;
  return Math.abs(offsetMs) <= uncertaintyMs + MARGIN_MS ? 0 : Math.round(offsetMs);
}

/** Where the correction in force is kept for the origin's next pages, and how long it is trusted. */
const KEY = 'wasm-otlp.clock';
const TRUSTED_MS = 3_600_000;

/** The correction an earlier page of this origin found in the last hour, if any. */
export function rememberedCorrection(): number | undefined {
  try {
    const kept = JSON.parse(localStorage.getItem(KEY) ?? 'null') as { ms?: unknown; at?: unknown } | null;
    const fresh = typeof kept?.at === 'number' && Math.abs(Date.now() - kept.at) < TRUSTED_MS;
    return fresh && typeof kept?.ms === 'number' ? kept.ms : undefined;
  } catch {
    return undefined; // no localStorage (a worker, Node), or it is refused
  }
}

/** Keeps `ms` as the correction in force for the origin's next pages. */
export function rememberCorrection(ms: number): void {
  try {
    localStorage.setItem(KEY, JSON.stringify({ ms, at: Date.now() }));
  } catch {
    // Not kept: the next page asks the collector again.
  }
}
